// config-linux.md: namespaces, id mappings, devices, cgroups, sysctl, seccomp,
// rootfsPropagation, maskedPaths, readonlyPaths, time namespace, personality.
import { readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bundle, CGROUP_V2, hostNs, newId, probe, rt, runExpectFailure } from '../lib/runtime.js';

describe('config-linux.md#personality', () => {
  it('[MUST] personality domain LINUX32', () => {
    expect(probe((c) => (c.linux.personality = { domain: 'LINUX32' })).personality).toBe('00000008');
  });
});

