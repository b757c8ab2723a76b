"""A console-socket receiver, as engines run one: accepts one connection on
argv[1], takes the pty master sent with SCM_RIGHTS, types argv[2] into it and
prints {"name", "output"} as JSON once the container side closes."""
import json
import os
import select
import socket
import sys
import time

path, typed = sys.argv[1], sys.argv[2]
server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
server.bind(path)
server.listen(1)
print("ready", flush=True)
server.settimeout(20)
conn, _ = server.accept()
msg, fds, _, _ = socket.recv_fds(conn, 1024, 1)
master = fds[0]
time.sleep(0.2)
os.write(master, typed.encode())
out = b""
deadline = time.time() + 15
while time.time() < deadline:
    ready, _, _ = select.select([master], [], [], 0.2)
    if not ready:
        continue
    try:
        data = os.read(master, 4096)
    except OSError:  # EIO: the container closed its last slave fd
        break
    if not data:
        break
    out += data
sys.stdout.write(json.dumps({"name": msg.decode(), "output": out.decode(errors="replace")}))
