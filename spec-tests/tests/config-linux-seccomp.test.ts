// config-linux.md: namespaces, id mappings, devices, cgroups, sysctl, seccomp,
// rootfsPropagation, maskedPaths, readonlyPaths, time namespace, personality.
import { readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bundle, CGROUP_V2, hostNs, newId, probe, rt, runExpectFailure } from '../lib/runtime.js';

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

