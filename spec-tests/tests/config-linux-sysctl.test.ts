// config-linux.md: namespaces, id mappings, devices, cgroups, sysctl, seccomp,
// rootfsPropagation, maskedPaths, readonlyPaths, time namespace, personality.
import { readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bundle, CGROUP_V2, hostNs, newId, probe, rt, runExpectFailure } from '../lib/runtime.js';

describe('config-linux.md#sysctl', () => {
  it('[MUST] sysctl values are set in the container', () => {
    const p = probe((c) => {
      c.linux.sysctl = { 'net.ipv4.ip_forward': '1' };
      c.linux.readonlyPaths = [];
    }, ['--sysctl', 'net.ipv4.ip_forward']);
    expect(p.sysctl['net.ipv4.ip_forward']).toBe('1');
  });
});

