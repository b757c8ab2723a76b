// config-linux.md: namespaces, id mappings, devices, cgroups, sysctl, seccomp,
// rootfsPropagation, maskedPaths, readonlyPaths, time namespace, personality.
import { readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bundle, CGROUP_V2, hostNs, newId, probe, rt, runExpectFailure } from '../lib/runtime.js';

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
