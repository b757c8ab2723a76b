// config.md: root, mounts, process, user, capabilities, rlimits, hostname, annotations.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { capMask, probe, runExpectFailure } from '../lib/runtime.js';

const mount = (p: Record<string, string>, point: string) => p.mountinfo.split('\n').find((l: string) => l.split(' ')[4] === point) ?? '';

describe('config.md#process', () => {
  it('[MUST] args, env and cwd are those of the config', () => {
    const p = probe((c) => {
      c.process.args = ['/probe', 'arg one'];
      c.process.env.push('SPEC_VAR=a b=c');
      c.process.cwd = '/tmp';
    });
    expect(p.args).toEqual(['/probe', 'arg one']);
    expect(p.env).toContain('SPEC_VAR=a b=c');
    expect(p.cwd).toBe('/tmp');
  });
  it('[MUST] user.uid, user.gid and additionalGids', () => {
    const p = probe((c) => (c.process.user = { uid: 1234, gid: 2345, additionalGids: [3456, 4567] }));
    expect([p.uid, p.euid, p.gid, p.egid]).toEqual([1234, 1234, 2345, 2345]);
    expect([...p.groups].sort()).toEqual([3456, 4567]);
  });
  it('[MUST] user.umask', () => {
    expect(probe((c) => (c.process.user.umask = 0o027)).umask).toBe('0027');
  });
  it('[MUST] capabilities: the bounding, effective and permitted sets (root)', () => {
    const caps = ['CAP_CHOWN', 'CAP_KILL'];
    const p = probe((c) => (c.process.capabilities = { bounding: caps, effective: caps, permitted: caps }));
    expect(BigInt(`0x${p.capBnd}`)).toBe(capMask(caps));
    expect(BigInt(`0x${p.capEff}`)).toBe(capMask(caps));
    expect(BigInt(`0x${p.capPrm}`)).toBe(capMask(caps));
  });
  it('[MUST] rlimits: soft and hard values are set', () => {
    const p = probe((c) => (c.process.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 300, hard: 400 }, { type: 'RLIMIT_CORE', soft: 0, hard: 1024 }]));
    expect(p.rlimits.RLIMIT_NOFILE).toEqual([300, 400]);
    expect(p.rlimits.RLIMIT_CORE).toEqual([0, 1024]);
  });
  it('[MUST] noNewPrivileges', () => {
    expect(probe((c) => (c.process.noNewPrivileges = true)).noNewPrivs).toBe('1');
    expect(probe((c) => (c.process.noNewPrivileges = false)).noNewPrivs).toBe('0');
  });
  it('[MUST] oomScoreAdj', () => {
    expect(probe((c) => (c.process.oomScoreAdj = 123)).oomScoreAdj).toBe('123');
  });
  it('[MUST] an executable that cannot be found fails the create/run', () => {
    const r = runExpectFailure((c) => (c.process.args = ['/no/such/binary']));
    expect(r.code).not.toBe(0);
    expect(r.leftovers).toEqual([]);
  });
});

