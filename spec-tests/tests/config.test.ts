// config.md: root, mounts, process, user, capabilities, rlimits, hostname, annotations.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { capMask, probe, runExpectFailure } from '../lib/runtime.js';

const mount = (p: Record<string, string>, point: string) => p.mountinfo.split('\n').find((l: string) => l.split(' ')[4] === point) ?? '';

describe('config.md#root', () => {
  it('[MUST] root.path relative to the bundle becomes the container root', () => {
    const p = probe(undefined, ['--stat', '/probe']);
    expect(p.stat['/probe'].type).toBe('file');
  });
  it('[MUST] root.readonly: the root filesystem is read-only', () => {
    expect(probe((c) => (c.root.readonly = true), ['--write', '/newfile']).write['/newfile']).toBe(30); // EROFS
  });
});

describe('config.md#mounts', () => {
  it('[MUST] mounts are made at their destination, created when missing, with their type and options', () => {
    const p = probe((c) => c.mounts.push({ destination: '/a/b', type: 'tmpfs', source: 'tmpfs', options: ['ro', 'nosuid', 'mode=700'] }), ['--stat', '/a/b', '--write', '/a/b/x']);
    expect(mount(p, '/a/b')).toMatch(/ ro,nosuid.* - tmpfs /);
    expect(p.stat['/a/b'].mode).toBe(0o700);
    expect(p.write['/a/b/x']).toBe(30);
  });
  it('[MUST] bind mounts (source relative to the bundle allowed) with ro', () => {
    const p = probe((c, dir) => {
      mkdirSync(join(dir, 'data'));
      writeFileSync(join(dir, 'data/f'), 'x');
      c.mounts.push({ destination: '/data', type: 'bind', source: join(dir, 'data'), options: ['rbind', 'ro'] });
    }, ['--stat', '/data/f', '--write', '/data/g']);
    expect(p.stat['/data/f'].type).toBe('file');
    expect(p.write['/data/g']).toBe(30);
  });
  it('[MUST] mounts are made in the order given (a later mount covers an earlier one)', () => {
    const p = probe((c) => {
      c.mounts.push({ destination: '/m', type: 'tmpfs', source: 'first', options: ['size=1m'] });
      c.mounts.push({ destination: '/m', type: 'tmpfs', source: 'second', options: ['size=2m'] });
    });
    const lines = p.mountinfo.split('\n').filter((l: string) => l.split(' ')[4] === '/m');
    expect(lines.length).toBe(2);
    expect(lines[1]).toMatch(/ - tmpfs second /);
  });
});

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

describe('config.md#hostname', () => {
  it('[MUST] hostname and domainname in the new UTS namespace', () => {
    const p = probe((c) => {
      c.hostname = 'spec-host';
      c.domainname = 'spec.example';
    });
    expect(p.hostname).toBe('spec-host');
    expect(p.domainname).toBe('spec.example');
  });
});

describe('config.md#configuration-schema', () => {
  it('[MUST] an invalid config (process.args not an array) is refused and nothing is left', () => {
    const r = runExpectFailure((c) => (c.process.args = 'sh'));
    expect(r.code).not.toBe(0);
    expect(r.leftovers).toEqual([]);
  });
  it('[MUST] a relative process.cwd is refused', () => {
    const r = runExpectFailure((c) => (c.process.cwd = 'tmp'));
    expect(r.code).not.toBe(0);
    expect(r.leftovers).toEqual([]);
  });
});
