// config-linux.md: namespaces, id mappings, devices, cgroups, sysctl, seccomp,
// rootfsPropagation, maskedPaths, readonlyPaths, time namespace, personality.
import { readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bundle, CGROUP_V2, hostNs, newId, probe, rt, runExpectFailure } from '../lib/runtime.js';

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

