// The config `tsrun spec` writes: the same defaults runc uses, so a bundle made
// with either runs on both.
import type { Spec } from './types.js';
import { SPEC_VERSION } from './version.js';

/** The PATH a process gets when its config or image names none (runc's and Docker's). */
export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

const DEFAULT_CAPS = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];

export function defaultSpec(rootless = false): Spec {
  const spec: Spec = {
    ociVersion: SPEC_VERSION,
    process: {
      terminal: true,
      user: { uid: 0, gid: 0 },
      args: ['sh'],
      env: [`PATH=${DEFAULT_PATH}`, 'TERM=xterm'],
      cwd: '/',
      capabilities: {
        bounding: [...DEFAULT_CAPS],
        effective: [...DEFAULT_CAPS],
        permitted: [...DEFAULT_CAPS],
        ambient: [...DEFAULT_CAPS],
      },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: 'rootfs', readonly: true },
    hostname: 'tsrun',
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
      { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
      { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
      { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'] },
    ],
    linux: {
      resources: { devices: [{ allow: false, access: 'rwm' }] },
      namespaces: [{ type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }, { type: 'cgroup' }],
      maskedPaths: [
        '/proc/acpi', '/proc/asound', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list',
        '/proc/timer_stats', '/proc/sched_debug', '/sys/firmware', '/proc/scsi',
      ],
      readonlyPaths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
    },
  };
  if (rootless) {
    // A rootless bundle maps the caller to root in a user namespace and cannot
    // create a network namespace's sysfs or own cgroups.
    const uid = process.getuid?.() ?? 0;
    const gid = process.getgid?.() ?? 0;
    spec.linux!.uidMappings = [{ containerID: 0, hostID: uid, size: 1 }];
    spec.linux!.gidMappings = [{ containerID: 0, hostID: gid, size: 1 }];
    spec.linux!.namespaces = spec.linux!.namespaces!.filter((n) => n.type !== 'network');
    spec.linux!.namespaces!.push({ type: 'user' });
    delete spec.linux!.resources;
    spec.mounts = spec.mounts!.filter((m) => m.destination !== '/sys/fs/cgroup');
    const sys = spec.mounts!.find((m) => m.destination === '/sys')!;
    Object.assign(sys, { type: 'none', source: '/sys', options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'] });
    const pts = spec.mounts!.find((m) => m.destination === '/dev/pts')!;
    pts.options = pts.options!.filter((o) => o !== 'gid=5');
  }
  return spec;
}
