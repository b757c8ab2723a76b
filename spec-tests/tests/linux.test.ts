// config-linux.md: namespaces, id mappings, devices, cgroups, sysctl, seccomp,
// rootfsPropagation, maskedPaths, readonlyPaths, time namespace, personality.
import { readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bundle, CGROUP_V2, hostNs, newId, probe, rt, runExpectFailure } from '../lib/runtime.js';

describe('config-linux.md#namespaces', () => {
  it('[MUST] each listed namespace without a path is new; unlisted ones are the runtime\'s', () => {
    const p = probe();
    for (const n of ['pid', 'net', 'mnt', 'ipc', 'uts']) expect(p.ns[n], n).not.toBe(hostNs(n));
    expect(p.ns.user).toBe(hostNs('user'));
    expect(p.pid).toBe(1);
  });
  it('[MUST] a namespace with a path is joined', () => {
    const a = bundle((c) => (c.process.args = ['sleep', '1000']));
    const id = newId();
    try {
      expect(rt(['run', '-d', '--bundle', a.dir, id]).code).toBe(0);
      const pid = JSON.parse(rt(['state', id]).stdout).pid;
      const p = probe((c) => (c.linux.namespaces = c.linux.namespaces.map((n: { type: string }) => (n.type === 'network' ? { type: 'network', path: `/proc/${pid}/ns/net` } : n))));
      expect(p.ns.net).toBe(readlinkSync(`/proc/${pid}/ns/net`));
    } finally {
      rt(['delete', '--force', id]);
      a.cleanup();
    }
  });
  it('[MUST] a duplicated namespace type is an error', () => {
    expect(runExpectFailure((c) => c.linux.namespaces.push({ type: 'pid' })).code).not.toBe(0);
  });
});

describe('config-linux.md#user-namespace-mappings', () => {
  it('[MUST] uidMappings and gidMappings are written for the new user namespace', () => {
    const p = probe((c) => {
      c.linux.namespaces.push({ type: 'user' });
      c.linux.uidMappings = [{ containerID: 0, hostID: 200000, size: 65536 }];
      c.linux.gidMappings = [{ containerID: 0, hostID: 200000, size: 65536 }];
      c.mounts = c.mounts.filter((m: { destination: string }) => m.destination !== '/sys');
    });
    expect(p.uidMap.trim().split(/\s+/)).toEqual(['0', '200000', '65536']);
    expect(p.gidMap.trim().split(/\s+/)).toEqual(['0', '200000', '65536']);
    expect(p.uid).toBe(0);
  });
});

describe('config-linux.md#offset-for-time-namespace', () => {
  it('[MUST] timeOffsets apply to the new time namespace', () => {
    const a = bundle((c) => {
      c.process.args = ['cat', '/proc/uptime'];
      c.linux.namespaces.push({ type: 'time' });
      c.linux.timeOffsets = { boottime: { secs: 1_000_000, nanosecs: 0 } };
    });
    try {
      const r = rt(['run', '--bundle', a.dir, newId()]);
      const host = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
      expect(Number(r.stdout.split(' ')[0]) - host).toBeGreaterThan(1_000_000 - 100);
    } finally {
      a.cleanup();
    }
  });
});

describe('config-linux.md#devices', () => {
  it('[MUST] the default devices exist: null, zero, full, random, urandom, tty, ptmx', () => {
    const paths = ['/dev/null', '/dev/zero', '/dev/full', '/dev/random', '/dev/urandom', '/dev/tty'];
    const p = probe(undefined, [...paths.flatMap((x) => ['--stat', x]), '--stat', '/dev/ptmx']);
    const numbers: Record<string, [number, number]> = { '/dev/null': [1, 3], '/dev/zero': [1, 5], '/dev/full': [1, 7], '/dev/random': [1, 8], '/dev/urandom': [1, 9], '/dev/tty': [5, 0] };
    for (const x of paths) expect([p.stat[x].type, p.stat[x].major, p.stat[x].minor], x).toEqual(['char', ...numbers[x]]);
    expect(p.stat['/dev/ptmx'].error).toBeUndefined();
  });
  it('[MUST] linux.devices are created with type, major, minor, fileMode, uid, gid', () => {
    const p = probe((c) => (c.linux.devices = [{ path: '/dev/spec0', type: 'c', major: 1, minor: 3, fileMode: 0o640, uid: 7, gid: 8 }]), ['--stat', '/dev/spec0']);
    expect(p.stat['/dev/spec0']).toEqual({ type: 'char', mode: 0o640, uid: 7, gid: 8, major: 1, minor: 3 });
  });
});

describe('config-linux.md#control-groups', () => {
  const cgroupFile = (pid: number, controller: string, file: string): string => {
    const line = readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n').find((l) => (CGROUP_V2 ? l.startsWith('0::') : l.split(':')[1].split(',').includes(controller)))!;
    const path = line.split(':')[2];
    return readFileSync(join('/sys/fs/cgroup', CGROUP_V2 ? '' : controller, path, file), 'utf8').trim();
  };
  it('[MUST] cgroupsPath places the container; memory, pids and cpu limits are applied', () => {
    const id = newId();
    const a = bundle((c) => {
      c.process.args = ['sleep', '1000'];
      c.linux.cgroupsPath = `/spec-tests/${id}`;
      c.linux.resources = { memory: { limit: 50 * 1024 * 1024 }, pids: { limit: 33 }, cpu: { quota: 20000, period: 100000 } };
    });
    try {
      expect(rt(['run', '-d', '--bundle', a.dir, id]).code).toBe(0);
      const pid = JSON.parse(rt(['state', id]).stdout).pid;
      expect(readFileSync(`/proc/${pid}/cgroup`, 'utf8')).toContain(`/spec-tests/${id}`);
      if (CGROUP_V2) {
        expect(cgroupFile(pid, '', 'memory.max')).toBe(String(50 * 1024 * 1024));
        expect(cgroupFile(pid, '', 'pids.max')).toBe('33');
        expect(cgroupFile(pid, '', 'cpu.max')).toBe('20000 100000');
      } else {
        expect(cgroupFile(pid, 'memory', 'memory.limit_in_bytes')).toBe(String(50 * 1024 * 1024));
        expect(cgroupFile(pid, 'pids', 'pids.max')).toBe('33');
        expect(cgroupFile(pid, 'cpu', 'cpu.cfs_quota_us')).toBe('20000');
      }
    } finally {
      rt(['delete', '--force', id]);
      a.cleanup();
    }
  });
});

describe('config-linux.md#sysctl', () => {
  it('[MUST] sysctl values are set in the container', () => {
    const p = probe((c) => {
      c.linux.sysctl = { 'net.ipv4.ip_forward': '1' };
      c.linux.readonlyPaths = [];
    }, ['--sysctl', 'net.ipv4.ip_forward']);
    expect(p.sysctl['net.ipv4.ip_forward']).toBe('1');
  });
});

describe('config-linux.md#seccomp', () => {
  it('[MUST] the seccomp filter is applied to the container process', () => {
    const a = bundle((c) => {
      c.process.args = ['sh', '-c', 'mkdir /tmp/x; echo rc=$?'];
      c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }] };
    });
    try {
      const r = rt(['run', '--bundle', a.dir, newId()]);
      expect(r.stdout).toBe('rc=1\n');
      expect(r.stderr).toMatch(/Operation not permitted/);
    } finally {
      a.cleanup();
    }
  });
});

describe('config-linux.md#rootfs-mount-propagation', () => {
  it('[MUST] rootfsPropagation shared makes the root mount shared', () => {
    const p = probe((c) => (c.linux.rootfsPropagation = 'rshared'));
    const root = p.mountinfo.split('\n').find((l: string) => l.split(' ')[4] === '/');
    expect(root).toMatch(/ shared:\d+/);
  });
});

describe('config-linux.md#masked-paths / #readonly-paths', () => {
  it('[MUST] masked paths cannot be read; read-only paths cannot be written', () => {
    const p = probe(undefined, ['--stat', '/sys/firmware', '--write', '/proc/sys/kernel/domainname']);
    const fw = p.mountinfo.split('\n').find((l: string) => l.split(' ')[4] === '/sys/firmware');
    expect(fw).toMatch(/ ro[, ]/);
    expect(p.write['/proc/sys/kernel/domainname']).toBe(30);
  });
});

describe('config-linux.md#personality', () => {
  it('[MUST] personality domain LINUX32', () => {
    expect(probe((c) => (c.linux.personality = { domain: 'LINUX32' })).personality).toBe('00000008');
  });
});

describe('config.md#process ioPriority / scheduler (Linux)', () => {
  it('[MUST] ioPriority class and priority are applied', () => {
    const p = probe((c) => (c.process.ioPriority = { class: 'IOPRIO_CLASS_BE', priority: 5 }));
    expect(p.ioprio).toBe((2 << 13) | 5);
  });
  it('[MUST] scheduler policy and nice are applied', () => {
    const p = probe((c) => (c.process.scheduler = { policy: 'SCHED_BATCH', nice: 3 }));
    expect(p.sched).toMatch(/policy\s+:\s+3/);
    expect(p.sched).toMatch(/prio\s+:\s+123/);
  });
});
