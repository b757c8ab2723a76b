// config-linux.md: namespaces, id mappings, devices, cgroups, sysctl, seccomp,
// rootfsPropagation, maskedPaths, readonlyPaths, time namespace, personality.
import { readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bundle, CGROUP_V2, hostNs, newId, probe, rt, runExpectFailure } from '../lib/runtime.js';

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

