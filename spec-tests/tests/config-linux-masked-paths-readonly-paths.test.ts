// config-linux.md: namespaces, id mappings, devices, cgroups, sysctl, seccomp,
// rootfsPropagation, maskedPaths, readonlyPaths, time namespace, personality.
import { readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bundle, CGROUP_V2, hostNs, newId, probe, rt, runExpectFailure } from '../lib/runtime.js';

describe('config-linux.md#masked-paths / #readonly-paths', () => {
  it('[MUST] masked paths cannot be read; read-only paths cannot be written', () => {
    const p = probe(undefined, ['--stat', '/sys/firmware', '--write', '/proc/sys/kernel/domainname']);
    const fw = p.mountinfo.split('\n').find((l: string) => l.split(' ')[4] === '/sys/firmware');
    expect(fw).toMatch(/ ro[, ]/);
    expect(p.write['/proc/sys/kernel/domainname']).toBe(30);
  });
});

