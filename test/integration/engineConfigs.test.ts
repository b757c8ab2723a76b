// Configs shaped like the ones engines send: containerd's default Unix spec and
// podman's (cgroupfs manager), without their seccomp profiles' sizes but with
// their mounts, masks, capabilities, namespaces and cgroup paths.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeBundle } from '../helpers/bundle.js';
import { guardHost } from '../helpers/leftovers.js';
import { tsrunSync, uniqueId } from '../helpers/tsrun.js';
import type { Spec } from '../../src/spec/types.js';

let root: string;
guardHost((r) => (root = r), { deleteLeftovers: false });

const ENGINE_CAPS = ['CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID', 'CAP_SETUID',
  'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE'];
const MASKED = ['/proc/acpi', '/proc/asound', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list', '/proc/timer_stats',
  '/proc/sched_debug', '/sys/firmware', '/proc/scsi'];
const READONLY = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

function containerdStyle(c: Spec, id: string): void {
  c.process = {
    user: { uid: 0, gid: 0, additionalGids: [0, 10] }, args: c.process!.args, cwd: '/', terminal: false,
    env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
    capabilities: { bounding: ENGINE_CAPS, effective: ENGINE_CAPS, permitted: ENGINE_CAPS },
    rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }], noNewPrivileges: false,
  };
  c.root = { path: 'rootfs' };
  c.mounts = [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
    { destination: '/run', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
  ];
  c.linux = {
    resources: { devices: [{ allow: false, access: 'rwm' }] },
    cgroupsPath: `/default/${id}`,
    namespaces: [{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }, { type: 'network' }],
    maskedPaths: MASKED,
    readonlyPaths: READONLY,
  };
  c.hostname = undefined;
}

function podmanStyle(c: Spec, id: string, dir: string): void {
  const caps = ENGINE_CAPS.filter((x) => !['CAP_MKNOD', 'CAP_AUDIT_WRITE', 'CAP_NET_RAW'].includes(x));
  for (const f of ['hosts', 'resolv.conf', 'hostname', '.containerenv']) writeFileSync(join(dir, f), f === 'hostname' ? 'podbox\n' : '');
  mkdirSync(join(dir, 'shm'));
  c.process = {
    user: { uid: 0, gid: 0, umask: 0o22 }, args: c.process!.args, cwd: '/', terminal: false,
    env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'container=podman', 'HOSTNAME=podbox', 'HOME=/root'],
    capabilities: { bounding: caps, effective: caps, permitted: caps },
    rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }, { type: 'RLIMIT_NPROC', hard: 4096, soft: 4096 }],
    oomScoreAdj: 0,
  };
  c.hostname = 'podbox';
  c.mounts = [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nodev', 'noexec', 'nosuid'] },
    { destination: '/etc/hosts', type: 'bind', source: join(dir, 'hosts'), options: ['bind', 'rprivate'] },
    { destination: '/etc/resolv.conf', type: 'bind', source: join(dir, 'resolv.conf'), options: ['bind', 'rprivate'] },
    { destination: '/etc/hostname', type: 'bind', source: join(dir, 'hostname'), options: ['bind', 'rprivate'] },
    { destination: '/run/.containerenv', type: 'bind', source: join(dir, '.containerenv'), options: ['bind', 'rprivate'] },
    { destination: '/dev/shm', type: 'bind', source: join(dir, 'shm'), options: ['bind', 'rprivate', 'nosuid', 'noexec', 'nodev'] },
    { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['rprivate', 'nosuid', 'noexec', 'nodev', 'relatime', 'ro'] },
  ];
  c.annotations = { 'io.container.manager': 'libpod', 'org.opencontainers.image.stopSignal': '15' };
  c.linux = {
    sysctl: { 'net.ipv4.ping_group_range': '0 0' },
    resources: { devices: [{ allow: false, access: 'rwm' }], pids: { limit: 2048 } },
    cgroupsPath: `/libpod_parent/libpod-${id}`,
    namespaces: [{ type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }, { type: 'cgroup' }],
    seccomp: { defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: 38, architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
      syscalls: [{ names: ['bpf', 'kexec_load', 'open_by_handle_at', 'reboot', 'swapon', 'swapoff', 'init_module'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 },
        { names: ['read'], action: 'SCMP_ACT_ERRNO', errnoRet: 1, args: [{ index: 2, value: 0xffffffff, op: 'SCMP_CMP_EQ' }] }],
    },
    maskedPaths: [...MASKED, '/sys/devices/virtual/powercap'],
    readonlyPaths: READONLY,
  };
  // podman's real profile is an allow list; ours allows by exception to keep the test short.
  c.linux.seccomp!.defaultAction = 'SCMP_ACT_ALLOW';
}

const SCRIPT = 'hostname; id; cat /proc/self/cgroup | grep -c :/; cat /etc/hostname 2>/dev/null; echo ok > /dev/shm/x && cat /dev/shm/x; ls /proc/self/ns | wc -l';

describe('engine-style configs', () => {
  it('runs containerd\'s default spec shape (cgroupsPath /default/<id>, /run tmpfs, 14 capabilities)', () => {
    const id = uniqueId('ctrd');
    const b = makeBundle((c) => {
      c.process!.args = ['sh', '-c', SCRIPT];
      containerdStyle(c, id);
    });
    try {
      const r = tsrunSync(['--root', root, 'run', '--bundle', b.dir, id]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^\S+\nuid=0\(root\) gid=0\(root\) groups=0\(root\),10\n\d+\nok\n\d+\n$/);
    } finally {
      b.cleanup();
    }
  });
  it('runs podman\'s spec shape (bind-mounted /etc files, /dev/shm bind, cgroup mount, sysctl, seccomp)', () => {
    const id = uniqueId('pod');
    const b = makeBundle((c) => (c.process!.args = ['sh', '-c', SCRIPT]));
    try {
      podmanStyle(b.config, id, b.dir);
      b.write();
      const r = tsrunSync(['--root', root, 'run', '--bundle', b.dir, id]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^podbox\nuid=0\(root\) gid=0\(root\)\n\d+\npodbox\nok\n/);
    } finally {
      b.cleanup();
    }
  });
});
