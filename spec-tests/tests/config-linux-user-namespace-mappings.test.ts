// config-linux.md: namespaces, id mappings, devices, cgroups, sysctl, seccomp,
// rootfsPropagation, maskedPaths, readonlyPaths, time namespace, personality.
import { readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bundle, CGROUP_V2, hostNs, newId, probe, rt, runExpectFailure } from '../lib/runtime.js';

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

