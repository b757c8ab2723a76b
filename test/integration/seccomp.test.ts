// config-linux.md#seccomp: the filter compiled by libseccomp in the parent and
// loaded by the init; each action proven by its effect inside the container.
import { describe, expect, it } from 'vitest';
import { makeBundle } from '../helpers/bundle.js';
import { guardHost } from '../helpers/leftovers.js';
import { tsrunSync, uniqueId } from '../helpers/tsrun.js';
import type { Seccomp, Spec } from '../../src/spec/types.js';
import { ENGINE_PROFILE, engineProfileToOci, haveEngineProfile } from '../helpers/engineSeccomp.js';

let root: string;
guardHost((r) => (root = r), { deleteLeftovers: false });

function run(script: string, seccomp: Seccomp, edit: (c: Spec) => void = () => {}) {
  const b = makeBundle((c) => {
    c.process!.args = ['sh', '-c', script];
    c.linux!.seccomp = seccomp;
    edit(c);
  });
  try {
    return tsrunSync(['--root', root, 'run', '--bundle', b.dir, uniqueId()]);
  } finally {
    b.cleanup();
  }
}

const allowAll = (syscalls: Seccomp['syscalls']): Seccomp => ({ defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86'], syscalls });

describe('seccomp', () => {
  it('SCMP_ACT_ERRNO returns the configured errno', () => {
    const r = run('mkdir /tmp/x; echo rc=$?', allowAll([{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 }]));
    expect(r.stderr).toMatch(/Function not implemented/);
    expect(r.stdout).toBe('rc=1\n');
  });
  it('SCMP_ACT_ERRNO without errnoRet returns EPERM', () => {
    const r = run('mkdir /tmp/x', allowAll([{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO' }]));
    expect(r.stderr).toMatch(/Operation not permitted/);
  });
  it('SCMP_ACT_KILL_PROCESS kills the caller with SIGSYS', () => {
    const r = run('sh -c sync; echo rc=$?', allowAll([{ names: ['sync'], action: 'SCMP_ACT_KILL_PROCESS' }]));
    expect(r.stdout).toBe('rc=159\n');
  });
  it('SCMP_ACT_KILL (thread) kills a single-threaded caller too', () => {
    const r = run('sh -c sync; echo rc=$?', allowAll([{ names: ['sync'], action: 'SCMP_ACT_KILL' }]));
    expect(r.stdout).toBe('rc=159\n');
  });
  it('SCMP_ACT_TRAP sends SIGSYS', () => {
    const r = run('sh -c sync; echo rc=$?', allowAll([{ names: ['sync'], action: 'SCMP_ACT_TRAP' }]));
    expect(r.stdout).toBe('rc=159\n');
  });
  it('matches arguments: only kill(…, SIGUSR1) is refused', () => {
    const r = run('kill -0 $$ && echo zero-ok; kill -USR1 $$ 2>&1; echo rc=$?', allowAll([
      { names: ['kill'], action: 'SCMP_ACT_ERRNO', args: [{ index: 1, value: 10, op: 'SCMP_CMP_EQ' }] },
    ]));
    expect(r.stdout).toMatch(/^zero-ok\n.*Operation not permitted\nrc=1\n$/s);
  });
  it('SCMP_CMP_MASKED_EQ compares under a mask', () => {
    // umask(2) with (mask & 0o077) == 0o077 refused; 0o022 allowed.
    const r = run('umask 022 && echo a; umask 077 2>&1; umask', allowAll([
      { names: ['umask'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 0o077, valueTwo: 0o077, op: 'SCMP_CMP_MASKED_EQ' }] },
    ]));
    expect(r.stdout.split('\n')[0]).toBe('a');
    expect(r.stdout).toMatch(/0022\n$/);
  });
  it('skips syscall names libseccomp does not know, with a warning', () => {
    const r = run('echo fine', allowAll([{ names: ['no_such_syscall', 'mkdir'], action: 'SCMP_ACT_ERRNO' }]));
    expect(r.stdout).toBe('fine\n');
    expect(r.stderr).toMatch(/warning: seccomp: syscalls unknown to libseccomp were skipped: no_such_syscall/);
  });
  it('loads a default-deny allow-list profile and runs busybox under it', () => {
    const allowed = ['read', 'write', 'openat', 'open', 'close', 'fstat', 'newfstatat', 'stat', 'lstat', 'statx', 'lseek', 'mmap', 'munmap', 'mprotect', 'brk',
      'rt_sigaction', 'rt_sigprocmask', 'rt_sigreturn', 'ioctl', 'access', 'faccessat', 'faccessat2', 'pipe', 'pipe2', 'dup', 'dup2', 'dup3', 'getpid',
      'getppid', 'getuid', 'geteuid', 'getgid', 'getegid', 'getpgrp', 'setpgid', 'getdents64', 'fcntl', 'execve', 'exit', 'exit_group', 'wait4',
      'clone', 'clone3', 'fork', 'vfork', 'arch_prctl', 'set_tid_address', 'uname', 'getcwd', 'chdir', 'readlink', 'readlinkat', 'prlimit64',
      'getrandom', 'rseq', 'set_robust_list', 'futex', 'sysinfo', 'kill', 'tgkill', 'getrlimit', 'writev', 'readv', 'pread64', 'sigaltstack'];
    const r = run('ls / | head -2; cat /etc/passwd | head -1; mkdir /tmp/d 2>&1; exit 0', {
      defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: 1, architectures: ['SCMP_ARCH_X86_64'],
      syscalls: [{ names: allowed, action: 'SCMP_ACT_ALLOW' }],
    });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('bin\ndev\nroot:x:0:0:root:/root:/bin/sh\nmkdir: can\'t create directory \'/tmp/d\': Operation not permitted\n');
  });
  it('loads while still privileged when noNewPrivileges is false (non-root user)', () => {
    const r = run('mkdir /tmp/x 2>&1; id -u; grep -E "^(Seccomp|NoNewPrivs):" /proc/self/status', allowAll([{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 }]), (c) => {
      c.process!.noNewPrivileges = false;
      c.process!.user = { uid: 1000, gid: 1000 };
    });
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/Permission denied\n1000\nNoNewPrivs:\s+0\nSeccomp:\s+2\n/);
  });
  it('refuses an unknown action with the field named', () => {
    const bad = run('true', allowAll([{ names: ['mkdir'], action: 'SCMP_ACT_BOGUS' }]));
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/build the seccomp filter \(config \.linux\.seccomp\.syscalls\[0\]\.action\): unknown seccomp action "SCMP_ACT_BOGUS"/);

  });
});

describe.skipIf(!haveEngineProfile)(`an engine's default seccomp profile (${ENGINE_PROFILE}; .ci/run fetches it from Debian's containers-common)`, () => {
  it('loads and runs busybox, and refuses what the profile refuses', () => {
    // swapon is refused by the profile (EPERM) even with CAP_SYS_ADMIN, where the kernel alone would say EINVAL.
    const script = 'ls / | head -2; cat /etc/passwd | head -1; grep "^Seccomp:" /proc/self/status; swapon /dev/null 2>&1; echo rc=$?';
    const b = makeBundle((c) => {
      c.process!.args = ['sh', '-c', script];
      for (const set of ['bounding', 'effective', 'permitted'] as const) c.process!.capabilities![set]!.push('CAP_SYS_ADMIN');
    });
    try {
      const without = tsrunSync(['--root', root, 'run', '--bundle', b.dir, uniqueId()]);
      expect(without.stdout).toMatch(/Seccomp:\s+0\n.*Invalid argument\nrc=1\n$/s);
      b.config.linux!.seccomp = engineProfileToOci(b.config.process!.capabilities!.bounding!);
      b.write();
      const r = tsrunSync(['--root', root, 'run', '--bundle', b.dir, uniqueId()]);
      expect(r.stderr).toBe('');
      expect(r.stdout).toMatch(/^bin\ndev\nroot:x:0:0:root:\/root:\/bin\/sh\nSeccomp:\s+2\n.*Operation not permitted\nrc=1\n$/s);
    } finally {
      b.cleanup();
    }
  });
});

describe('seccomp user notification', () => {
  it('hands the notify fd and the container process state to listenerPath; the listener answers the syscall', async () => {
    const { spawn } = await import('node:child_process');
    const { join, resolve } = await import('node:path');
    const b = makeBundle((c) => (c.process!.args = ['sh', '-c', 'mkdir /tmp/x 2>&1; echo rc=$?']));
    const sock = join(b.dir, 'listener.sock');
    const listener = spawn('python3', [resolve(import.meta.dirname, '../helpers/seccomp_listener.py'), sock, '18'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    listener.stdout.on('data', (d) => (out += d));
    await new Promise<void>((ok) => listener.stdout.once('data', () => ok()));
    try {
      b.config.linux!.seccomp = {
        defaultAction: 'SCMP_ACT_ALLOW', listenerPath: sock, listenerMetadata: 'meta-42',
        syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_NOTIFY' }],
      };
      b.write();
      const id = uniqueId('notify');
      const r = tsrunSync(['--root', root, 'run', '--bundle', b.dir, id]);
      expect(r.stderr).toBe('');
      // EXDEV (18) came from the listener, not from the kernel.
      expect(r.stdout).toBe('mkdir: can\'t create directory \'/tmp/x\': Invalid cross-device link\nrc=1\n');
      await new Promise((ok) => setTimeout(ok, 100));
      const lines = out.trim().split('\n').map((l) => JSON.parse(l));
      const handoff = lines.find((l) => l.state);
      expect(handoff.fds).toBe(1);
      expect(handoff.state).toMatchObject({ fds: ['seccompFd'], metadata: 'meta-42', state: { id, status: 'creating', bundle: b.dir } });
      expect(handoff.state.pid).toBeGreaterThan(0);
      expect(lines.some((l) => l.syscall === 83 || l.syscall === 258)).toBe(true); // mkdir / mkdirat on x86_64
    } finally {
      listener.kill();
      b.cleanup();
    }
  });
  it('needs a listenerPath for SCMP_ACT_NOTIFY', () => {
    const r = run('true', allowAll([{ names: ['mkdir'], action: 'SCMP_ACT_NOTIFY' }]));
    expect(r.stderr).toMatch(/build the seccomp filter \(config \.linux\.seccomp\.listenerPath\): SCMP_ACT_NOTIFY needs a listenerPath/);
  });
});
