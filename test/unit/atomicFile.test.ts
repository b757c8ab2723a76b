import { lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { writeFileAtomic } from '../../src/common/atomicFile.js';

let dir = '';
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('writeFileAtomic', () => {
  it('writes the content with the mode and leaves no temp file', () => {
    dir = mkdtempSync(join(tmpdir(), 'atomic-'));
    writeFileAtomic(join(dir, 'a.json'), '{"x":1}', 0o600);
    expect(readFileSync(join(dir, 'a.json'), 'utf8')).toBe('{"x":1}');
    expect(lstatSync(join(dir, 'a.json')).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir)).toEqual(['a.json']);
  });
  it('replaces a symlink at the path and never writes through it', () => {
    dir = mkdtempSync(join(tmpdir(), 'atomic-'));
    writeFileSync(join(dir, 'victim'), 'keep');
    symlinkSync(join(dir, 'victim'), join(dir, 'pid'));
    writeFileAtomic(join(dir, 'pid'), '42');
    expect(readFileSync(join(dir, 'victim'), 'utf8')).toBe('keep');
    expect(lstatSync(join(dir, 'pid')).isSymbolicLink()).toBe(false);
    expect(readFileSync(join(dir, 'pid'), 'utf8')).toBe('42');
  });
  it('fails with the system error and leaves nothing when the directory is missing', () => {
    dir = mkdtempSync(join(tmpdir(), 'atomic-'));
    expect(() => writeFileAtomic(join(dir, 'no/such/file'), 'x')).toThrow(/ENOENT/);
    expect(readdirSync(dir)).toEqual([]);
  });
});
