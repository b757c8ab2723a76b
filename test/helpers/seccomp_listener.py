"""A seccomp-notify listener, as config-linux.md#seccomp describes one: accepts
the runtime's connection on argv[1], reads the ContainerProcessState and the
notify fd (SCM_RIGHTS), prints the state as a JSON line, then answers every
notification with errno argv[2] (negated, as the kernel wants), printing each
syscall number it saw."""
import ctypes
import fcntl
import json
import socket
import struct
import sys

path, errno_reply = sys.argv[1], int(sys.argv[2])
server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
server.bind(path)
server.listen(1)
print(json.dumps({"ready": True}), flush=True)
conn, _ = server.accept()
msg, fds, _, _ = socket.recv_fds(conn, 65536, 1)
state = json.loads(msg.decode())
print(json.dumps({"state": state, "fds": len(fds)}), flush=True)
notify_fd = fds[0]

NOTIF_RECV = 0xC0502100  # _IOWR('!', 0, struct seccomp_notif)   (80 bytes)
NOTIF_SEND = 0xC0182101  # _IOWR('!', 1, struct seccomp_notif_resp) (24 bytes)
while True:
    req = bytearray(80)
    try:
        fcntl.ioctl(notify_fd, NOTIF_RECV, req, True)
    except OSError:
        break  # the filter's last user is gone
    notif_id, pid, flags, nr = struct.unpack_from("<QIIi", req, 0)
    print(json.dumps({"syscall": nr, "pid": pid}), flush=True)
    resp = struct.pack("<QqiI", notif_id, 0, -errno_reply, 0)
    try:
        fcntl.ioctl(notify_fd, NOTIF_SEND, bytearray(resp), True)
    except OSError:
        pass
