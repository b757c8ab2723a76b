// config-linux.md: namespaces, id mappings, devices, cgroups, sysctl, seccomp,
// rootfsPropagation, maskedPaths, readonlyPaths, time namespace, personality.
import { readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bundle, CGROUP_V2, hostNs, newId, probe, rt, runExpectFailure } from '../lib/runtime.js';

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

