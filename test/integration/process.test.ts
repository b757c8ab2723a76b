// config.md / config-linux.md process and isolation fields, each checked from
// inside the container against what the config asked for.
import { closeSync, existsSync, openSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { makeBundle } from '../helpers/bundle.js';
import { guardHost, stateDirs } from '../helpers/leftovers.js';
import { TSRUN, tsrunSync, uniqueId } from '../helpers/tsrun.js';
import type { Spec } from '../../src/spec/types.js';

let root: string;
guardHost((r) => (root = r), { deleteLeftovers: true });

/** Runs `script` in a container whose config `edit` adjusted; returns stdout (asserting success). */
function inContainer(script: string, edit: (c: Spec) => void = () => {}): string {
  const b = makeBundle((c) => {
    c.process!.args = ['sh', '-c', script];
    edit(c);
  });
  try {
    const r = tsrunSync(['--root', root, 'run', '--bundle', b.dir, uniqueId()]);
    if (r.code !== 0) throw new Error(`exit ${r.code}: ${r.stderr}${r.stdout}`);
    return r.stdout;
  } finally {
    b.cleanup();
  }
}

function runFailing(edit: (c: Spec) => void): string {
  const b = makeBundle((c) => {
    c.process!.args = ['true'];
    edit(c);
  });
  try {
    const r = tsrunSync(['--root', root, 'run', '--bundle', b.dir, uniqueId()]);
    expect(r.code).toBe(1);
    expect(stateDirs(root)).toEqual([]);
    return r.stderr;
  } finally {
    b.cleanup();
  }
}

const hostNs = (name: string) => readlinkSync(`/proc/self/ns/${name}`);

describe('namespaces', () => {
  it('creates each configured namespace and shares the others with the host', () => {
    const out = inContainer('for n in pid net mnt ipc uts cgroup user time; do echo "$n $(readlink /proc/self/ns/$n)"; done', (c) => {
      c.linux!.namespaces = [{ type: 'pid' }, { type: 'network' }, { type: 'mount' }, { type: 'ipc' }, { type: 'uts' }, { type: 'cgroup' }, { type: 'time' }];
    });
    const ns = Object.fromEntries(out.trim().split('\n').map((l) => l.split(' ')));
    for (const n of ['pid', 'net', 'mnt', 'ipc', 'uts', 'cgroup', 'time']) expect(ns[n], n).not.toBe(hostNs(n));
    expect(ns.user).toBe(hostNs('user'));
  });
  it('shares the host network namespace when none is configured', () => {
    const out = inContainer('readlink /proc/self/ns/net', (c) => {
      c.linux!.namespaces = c.linux!.namespaces!.filter((n) => n.type !== 'network');
      c.mounts = c.mounts!.filter((m) => m.destination !== '/sys');
    });
    expect(out.trim()).toBe(hostNs('net'));
  });
  it('joins a namespace given by path', () => {
    const a = makeBundle((c) => (c.process!.args = ['sleep', '1000']));
    const idA = uniqueId();
    try {
      expect(tsrunSync(['--root', root, 'create', '--bundle', a.dir, idA]).code).toBe(0);
      const pidA = JSON.parse(tsrunSync(['--root', root, 'state', idA]).stdout).pid;
      const out = inContainer('readlink /proc/self/ns/net; readlink /proc/self/ns/uts', (c) => {
        c.linux!.namespaces = c.linux!.namespaces!.map((n) => (n.type === 'network' ? { type: 'network', path: `/proc/${pidA}/ns/net` } : n));
      });
      const [net, uts] = out.trim().split('\n');
      expect(net).toBe(readlinkSync(`/proc/${pidA}/ns/net`));
      expect(uts).not.toBe(readlinkSync(`/proc/${pidA}/ns/uts`));
    } finally {
      tsrunSync(['--root', root, 'delete', '--force', idA]);
      a.cleanup();
    }
  });
  it('refuses a namespace path of the wrong type, naming the field', () => {
    const err = runFailing((c) => {
      c.linux!.namespaces = c.linux!.namespaces!.map((n) => (n.type === 'network' ? { type: 'network', path: '/proc/self/ns/uts' } : n));
    });
    expect(err).toMatch(/join namespace "\/proc\/self\/ns\/uts" \(config \.linux\.namespaces\[1\]\.path\): setns: EINVAL: not a namespace file of this type/);
  });
  it('maps users in a new user namespace', () => {
    const out = inContainer('cat /proc/self/uid_map /proc/self/gid_map; id -u; stat -c %u /proc/self', (c) => {
      c.linux!.namespaces!.push({ type: 'user' });
      c.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      c.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      c.mounts = c.mounts!.filter((m) => m.destination !== '/sys/fs/cgroup');
    });
    const lines = out.trim().split('\n').map((l) => l.trim().split(/\s+/).join(' '));
    expect(lines[0]).toBe('0 100000 65536');
    expect(lines[1]).toBe('0 100000 65536');
    expect(lines[2]).toBe('0');
  });
  it('applies time namespace offsets', () => {
    const out = inContainer('cat /proc/uptime', (c) => {
      c.linux!.namespaces!.push({ type: 'time' });
      c.linux!.timeOffsets = { boottime: { secs: 86400 * 365, nanosecs: 0 } };
    });
    const hostUptime = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
    expect(Number(out.split(' ')[0]) - hostUptime).toBeGreaterThan(86400 * 365 - 60);
  });
});

describe('process', () => {
  it('sets args, env, cwd, hostname and domainname', () => {
    const out = inContainer('echo "$0|$1"; echo "$FOO"; pwd; hostname; cat /proc/sys/kernel/domainname', (c) => {
      c.process!.args = ['sh', '-c', c.process!.args![2], 'zero', 'one'];
      c.process!.env!.push('FOO=bar baz');
      c.process!.cwd = '/tmp';
      c.hostname = 'box1';
      c.domainname = 'example.org';
    });
    expect(out).toBe('zero|one\nbar baz\n/tmp\nbox1\nexample.org\n');
  });
  it('a missing cwd is made, as runc makes it (0755, root\'s), also under a read-only root, and through a symlink only inside the rootfs', () => {
    expect(inContainer('pwd; stat -c "%a %u" /no/such/dir', (c) => {
      c.process!.cwd = '/no/such/dir';
      c.process!.user = { uid: 1000, gid: 1000 };
      c.root!.readonly = true;
    })).toBe('/no/such/dir\n755 0\n');
    // /up -> ../../../.. resolves to the rootfs's own root: the directory is made there.
    const b = makeBundle((c) => {
      c.process!.args = ['sh', '-c', 'pwd; ls -d /made'];
      c.process!.cwd = '/up/made';
    });
    try {
      symlinkSync('../../../..', join(b.rootfs, 'up'));
      const r = tsrunSync(['--root', root, 'run', '--bundle', b.dir, uniqueId()]);
      expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 0, stdout: '/made\n/made\n' });
      expect(existsSync(join(b.rootfs, 'made'))).toBe(true);
      expect(existsSync('/made')).toBe(false);
    } finally {
      b.cleanup();
    }
  });
  it('a cwd that cannot be one fails with the field', () => {
    expect(runFailing((c) => (c.process!.cwd = '/etc/passwd/dir'))).toMatch(/working directory "\/etc\/passwd\/dir" \(config \.process\.cwd\): (openat2|mkdirat): ENOTDIR/);
  });
  it('sets uid, gid, additional gids and umask', () => {
    const out = inContainer('id -u; id -g; id -G; umask', (c) => {
      c.process!.user = { uid: 1000, gid: 1000, additionalGids: [10, 20], umask: 0o027 };
    });
    expect(out).toBe('1000\n1000\n1000 10 20\n0027\n');
  });
  it('sets the five capability sets and the bounding set really drops', () => {
    const out = inContainer('grep Cap /proc/self/status', (c) => {
      c.process!.user = { uid: 1000, gid: 1000 };
      c.process!.capabilities = {
        bounding: ['CAP_NET_BIND_SERVICE', 'CAP_CHOWN', 'CAP_KILL'],
        permitted: ['CAP_NET_BIND_SERVICE', 'CAP_CHOWN'],
        effective: ['CAP_NET_BIND_SERVICE', 'CAP_CHOWN'],
        inheritable: ['CAP_NET_BIND_SERVICE'],
        ambient: ['CAP_NET_BIND_SERVICE'],
      };
    });
    const caps = Object.fromEntries(out.trim().split('\n').map((l) => l.split(/:\s+/)));
    const bit = (...n: number[]) => n.reduce((a, b) => a | (1n << BigInt(b)), 0n);
    expect(BigInt(`0x${caps.CapBnd}`)).toBe(bit(10, 0, 5));
    // A non-root process keeps after execve only what is ambient (the kernel's rule).
    expect(BigInt(`0x${caps.CapAmb}`)).toBe(bit(10));
    expect(BigInt(`0x${caps.CapPrm}`)).toBe(bit(10));
    expect(BigInt(`0x${caps.CapEff}`)).toBe(bit(10));
    expect(BigInt(`0x${caps.CapInh}`)).toBe(bit(10));
  });
  it('refuses an unknown capability name', () => {
    expect(runFailing((c) => c.process!.capabilities!.effective!.push('CAP_MAGIC'))).toMatch(/config \.process\.capabilities\.effective\[3\]\): unknown capability "CAP_MAGIC"/);
  });
  it('honours noNewPrivileges', () => {
    expect(inContainer('grep NoNewPrivs /proc/self/status').trim()).toMatch(/NoNewPrivs:\s+1/);
    expect(inContainer('grep NoNewPrivs /proc/self/status', (c) => (c.process!.noNewPrivileges = false)).trim()).toMatch(/NoNewPrivs:\s+0/);
  });
  it('sets rlimits, soft and hard', () => {
    const out = inContainer('ulimit -Sn; ulimit -Hn; ulimit -Sc; ulimit -Hc', (c) => {
      c.process!.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 512, hard: 768 }, { type: 'RLIMIT_CORE', soft: 0, hard: 4096 }];
    });
    expect(out).toBe('512\n768\n0\n8\n'); // busybox reports RLIMIT_CORE in 512-byte blocks
  });
  it('explains a hard rlimit that cannot be raised without CAP_SYS_RESOURCE', () => {
    const hardNofile = Number(readFileSync('/proc/self/limits', 'utf8').match(/Max open files\s+\d+\s+(\d+)/)![1]);
    const err = runFailing((c) => (c.process!.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 1024, hard: hardNofile * 4 }]));
    expect(err).toMatch(/set rlimit \(config \.process\.rlimits\[0\]\): setrlimit: EPERM/);
  });
  it('sets oom_score_adj', () => {
    expect(inContainer('cat /proc/self/oom_score_adj', (c) => (c.process!.oomScoreAdj = 500))).toBe('500\n');
  });
  it('sets the personality', () => {
    expect(inContainer('cat /proc/self/personality', (c) => (c.linux!.personality = { domain: 'LINUX32' }))).toBe('00000008\n');
  });
  it('sets the I/O priority', () => {
    expect(inContainer('ionice -p $$', (c) => (c.process!.ioPriority = { class: 'IOPRIO_CLASS_BE', priority: 6 }))).toMatch(/best-effort: prio 6/);
  });
  it('sets the scheduler policy', () => {
    const out = inContainer('grep -E "^policy" /proc/self/sched', (c) => (c.process!.scheduler = { policy: 'SCHED_BATCH', nice: 5 }));
    expect(out).toMatch(/policy\s+:\s+3/);
  });
  it('sets namespaced sysctls', () => {
    const out = inContainer('cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/msgmax', (c) => {
      c.linux!.sysctl = { 'net.ipv4.ip_forward': '1', 'kernel.msgmax': '12345' };
      c.linux!.readonlyPaths = [];
    });
    expect(out).toBe('1\n12345\n');
  });
});

describe('file descriptors', () => {
  it('passes --preserve-fds into the container and closes every other fd', () => {
    const b = makeBundle((c) => (c.process!.args = ['sh', '-c', 'cat <&3; ls /proc/self/fd | sort -n | tr "\\n" " "']));
    const file = join(b.dir, 'shared.txt');
    writeFileSync(file, 'through fd 3\n');
    const fd3 = openSync(file, 'r');
    const leak = openSync(join(b.dir, 'config.json'), 'r');
    try {
      const r = spawnSync(TSRUN, ['--root', root, 'run', '--preserve-fds', '1', '--bundle', b.dir, uniqueId()], {
        stdio: ['ignore', 'pipe', 'pipe', fd3, leak], encoding: 'utf8',
      });
      expect(r.stderr).toBe('');
      // 0-2, 3, and the fd `ls` itself opens for /proc/self/fd; fd 4 (not preserved) is gone.
      expect(r.stdout).toBe('through fd 3\n0 1 2 3 4 ');
      const lsFd = spawnSync(TSRUN, ['--root', root, 'run', '--bundle', b.dir, uniqueId()], { stdio: ['ignore', 'pipe', 'pipe', fd3, leak], encoding: 'utf8' });
      expect(lsFd.stdout).toMatch(/0 1 2 3 $/);
    } finally {
      closeSync(fd3);
      closeSync(leak);
      b.cleanup();
    }
  });
});

describe('session keyring', () => {
  it('joins a new session keyring named after the container, unless --no-new-keyring', () => {
    const b = makeBundle((c) => {
      c.process!.args = ['sh', '-c', 'grep -c "_ses\\.$ID" /proc/keys || true'];
      c.linux!.maskedPaths = [];
    });
    try {
      const id = uniqueId('keys');
      b.config.process!.env!.push(`ID=${id}`);
      b.write();
      expect(tsrunSync(['--root', root, 'run', '--bundle', b.dir, id]).stdout).toBe('1\n');
      const id2 = uniqueId('keys');
      b.config.process!.env!.push(`ID=${id2}`);
      b.write();
      expect(tsrunSync(['--root', root, 'run', '--no-new-keyring', '--bundle', b.dir, id2]).stdout).toBe('0\n');
    } finally {
      b.cleanup();
    }
  });
});

describe('LISTEN_FDS (socket activation)', () => {
  it('passes the listen fds and sets LISTEN_FDS/LISTEN_PID for the container', () => {
    const b = makeBundle((c) => (c.process!.args = ['sh', '-c', 'echo "$LISTEN_FDS $LISTEN_PID"; cat <&3']));
    const file = join(b.dir, 'activation.txt');
    writeFileSync(file, 'socket data\n');
    const fd3 = openSync(file, 'r');
    try {
      // LISTEN_PID names the runtime's own pid, as systemd sets it: sh execs tsrun in its place.
      const r = spawnSync('sh', ['-c', 'LISTEN_PID=$$ exec "$0" "$@"', TSRUN, '--root', root, 'run', '--bundle', b.dir, uniqueId()], {
        stdio: ['ignore', 'pipe', 'pipe', fd3], encoding: 'utf8', env: { ...process.env, LISTEN_FDS: '1' },
      });
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe('1 1\nsocket data\n');
    } finally {
      closeSync(fd3);
      b.cleanup();
    }
  });
});

describe('the init after create', () => {
  it('is reparented to the caller when the caller is a subreaper (as containerd\'s shim is)', () => {
    const b = makeBundle((c) => (c.process!.args = ['sleep', '1000']));
    const id = uniqueId();
    // A caller that marks itself a child subreaper, runs create, and reports the init's parent.
    const caller = `
import ctypes, json, os, subprocess, sys
libc = ctypes.CDLL(None, use_errno=True)
assert libc.prctl(36, 1, 0, 0, 0) == 0  # PR_SET_CHILD_SUBREAPER
import tempfile
# stderr to a file: the init inherits it and would hold a pipe open.
with tempfile.TemporaryFile() as err:
    r = subprocess.run(sys.argv[1:], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)
    err.seek(0)
    msg = err.read().decode()
pid = int(open(sys.argv[sys.argv.index('--pid-file') + 1]).read())
ppid = int(open(f'/proc/{pid}/stat').read().rsplit(')', 1)[1].split()[1])
print(json.dumps({"rc": r.returncode, "me": os.getpid(), "ppid": ppid, "err": msg}))
`;
    try {
      const r = spawnSync('python3', ['-c', caller, TSRUN, '--root', root, 'create', '--pid-file', join(b.dir, 'pid'), '--bundle', b.dir, id], { encoding: 'utf8', timeout: 20_000 });
      const out = JSON.parse(r.stdout);
      expect(out.err).toBe('');
      expect(out.rc).toBe(0);
      expect(out.ppid).toBe(out.me);
    } finally {
      tsrunSync(['--root', root, 'delete', '--force', id]);
      b.cleanup();
    }
  });
});
