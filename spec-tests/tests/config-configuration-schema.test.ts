// config.md: root, mounts, process, user, capabilities, rlimits, hostname, annotations.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { capMask, probe, runExpectFailure } from '../lib/runtime.js';

const mount = (p: Record<string, string>, point: string) => p.mountinfo.split('\n').find((l: string) => l.split(' ')[4] === point) ?? '';

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
