import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { VolumeStore } from '../../src/volume/store.js';

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'volstore-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('VolumeStore', () => {
  it('creates <data-root>/volumes/<name>/_data with its record, idempotently, and reads it back', async () => {
    const s = new VolumeStore(root);
    const { volume, created } = await s.create('db', { labels: { a: 'b' } });
    expect(created).toBe(true);
    expect(volume).toMatchObject({ Name: 'db', Driver: 'local', Scope: 'local', Mountpoint: join(root, 'volumes/db/_data'), Labels: { a: 'b' }, Options: {} });
    expect(JSON.parse(readFileSync(join(root, 'volumes/db/volume.json'), 'utf8'))).toEqual(volume);
    const again = await s.create('db', { labels: { other: '1' } });
    expect(again).toEqual({ volume, created: false });
    // Two first uses at once make one volume.
    const [x, y] = await Promise.all([s.create('twice'), s.create('twice')]);
    expect([x.created, y.created].filter(Boolean)).toHaveLength(1);
    const t = new VolumeStore(root);
    await t.load();
    expect(t.list().map((v) => v.Name)).toEqual(['db', 'twice']);
    expect(t.get('db')).toEqual(volume);
  });

  it('refuses bad names and options; gets of a missing volume are not-found', async () => {
    const s = new VolumeStore(root);
    await expect(s.create('a')).rejects.toThrow('volume name is too short');
    await expect(s.create('x/y')).rejects.toThrow('includes invalid characters');
    await expect(s.create('ok', { options: { bogus: '1' } })).rejects.toThrow('invalid option key: "bogus"');
    await expect(s.create('ok', { options: { type: 'tmpfs' } })).rejects.toThrow('"type" and "device" go together');
    expect(() => s.get('nope')).toThrow(expect.objectContaining({ kind: 'not-found', message: expect.stringContaining('get nope: no such volume') }));
    expect(readdirSync(root)).toEqual([]);
  });

  it('at load: a directory without a record (a crash mid-create or mid-remove) goes; a bad record is skipped with a warning', async () => {
    mkdirSync(join(root, 'volumes/half/_data'), { recursive: true });
    mkdirSync(join(root, 'volumes/bad'), { recursive: true });
    writeFileSync(join(root, 'volumes/bad/volume.json'), JSON.stringify({ Name: 'bad', Driver: 'nfs' }));
    const warnings: string[] = [];
    const s = new VolumeStore(root, (m) => warnings.push(m));
    await s.load();
    expect(s.list()).toEqual([]);
    expect(readdirSync(join(root, 'volumes')).sort()).toEqual(['bad']);
    expect(warnings.join('\n')).toMatch(/half.*no record/);
    expect(warnings.join('\n')).toMatch(/field Driver/);
  });

  it('removes the record, then the data; sizes come from du', async () => {
    const s = new VolumeStore(root);
    const { volume } = await s.create('big');
    writeFileSync(join(volume.Mountpoint, 'f'), Buffer.alloc(64 * 1024));
    expect(await s.size('big')).toBeGreaterThanOrEqual(64 * 1024);
    expect(await s.isEmpty('big')).toBe(false);
    await s.remove('big');
    expect(s.has('big')).toBe(false);
    expect(readdirSync(join(root, 'volumes'))).toEqual([]);
  });
});
