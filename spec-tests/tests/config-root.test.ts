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

