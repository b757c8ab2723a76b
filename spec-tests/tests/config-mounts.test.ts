// config.md: root, mounts, process, user, capabilities, rlimits, hostname, annotations.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { capMask, probe, runExpectFailure } from '../lib/runtime.js';

const mount = (p: Record<string, string>, point: string) => p.mountinfo.split('\n').find((l: string) => l.split(' ')[4] === point) ?? '';

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

