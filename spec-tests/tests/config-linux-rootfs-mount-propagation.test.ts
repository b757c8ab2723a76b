// config-linux.md: namespaces, id mappings, devices, cgroups, sysctl, seccomp,
// rootfsPropagation, maskedPaths, readonlyPaths, time namespace, personality.
import { readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bundle, CGROUP_V2, hostNs, newId, probe, rt, runExpectFailure } from '../lib/runtime.js';

describe('config-linux.md#rootfs-mount-propagation', () => {
  it('[MUST] rootfsPropagation shared makes the root mount shared', () => {
    const p = probe((c) => (c.linux.rootfsPropagation = 'rshared'));
    const root = p.mountinfo.split('\n').find((l: string) => l.split(' ')[4] === '/');
    expect(root).toMatch(/ shared:\d+/);
  });
});

