import { execFileSync } from 'node:child_process';
import { chownSync, linkSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { readTar } from '../../src/image/archive/tarReader.js';
import { hasChanges, paxRecord, skipRuntimeMountPoints, treeChanges, writeTreeChangesLayer, writeUpperDirLayer } from '../../src/image/diff/layerTar.js';
import { addon } from '../../src/native/addon.js';

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function entriesOf(upper: string, skip?: Parameters<typeof writeUpperDirLayer>[2]) {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  const count = await writeUpperDirLayer(upper, out, skip);
  const entries: Array<{ path: string; type: string; mode: number; uid: number; gid: number; linkname: string; body: string; xattrs: string[] }> = [];
  for await (const e of readTar((async function* () { yield Buffer.concat(chunks); })())) {
    const parts: Buffer[] = [];
    for await (const b of e.body) parts.push(b);
    entries.push({ path: e.path, type: e.type, mode: e.mode & 0o7777, uid: e.uid, gid: e.gid, linkname: e.linkname, body: Buffer.concat(parts).toString(), xattrs: Object.keys(e.xattrs) });
  }
  return { count, entries };
}

describe('an overlay upper dir as a layer tar', () => {
  it('writes files with owners and modes, symlinks, hard links, whiteouts and opaque dirs, in name order', async () => {
    dir = mkdtempSync(join(tmpdir(), 'layertar-'));
    const upper = join(dir, 'upper');
    mkdirSync(join(upper, 'app/sub'), { recursive: true });
    writeFileSync(join(upper, 'app/run.sh'), '#!/bin/sh\n', { mode: 0o750 });
    chownSync(join(upper, 'app/run.sh'), 1000, 50);
    linkSync(join(upper, 'app/run.sh'), join(upper, 'app/again.sh'));
    symlinkSync('/app/run.sh', join(upper, 'link'));
    execFileSync('mknod', [join(upper, 'app/gone'), 'c', '0', '0']);
    mkdirSync(join(upper, 'opaque'));
    writeFileSync(join(upper, 'opaque/new'), 'n');
    addon().lsetxattr(join(upper, 'opaque'), 'trusted.overlay.opaque', Buffer.from('y'));
    const long = `${'d'.repeat(80)}/${'f'.repeat(80)}`;
    mkdirSync(join(upper, 'd'.repeat(80)));
    writeFileSync(join(upper, long), 'long');
    const { count, entries } = await entriesOf(upper);
    expect(entries.map((e) => `${e.type} ${e.path}`)).toEqual([
      'dir app/',
      'file app/again.sh',
      'file app/.wh.gone',
      'hardlink app/run.sh',
      'dir app/sub/',
      `dir ${'d'.repeat(80)}/`,
      `file ${long}`,
      'symlink link',
      'dir opaque/',
      'file opaque/.wh..wh..opq',
      'file opaque/new',
    ]);
    // The upper dir's entries (the opaque marker is not one).
    expect(count).toBe(10);
    // The first name of an inode (in name order) carries the content; a later one links to it.
    const second = entries.find((e) => e.path === 'app/run.sh')!;
    expect(second.linkname).toBe('app/again.sh');
    expect(entries.find((e) => e.path === 'app/again.sh')!).toMatchObject({ mode: 0o750, uid: 1000, gid: 50, body: '#!/bin/sh\n' });
    expect(entries.find((e) => e.path === 'link')!.linkname).toBe('/app/run.sh');
    expect(entries.find((e) => e.path === long)!.body).toBe('long');
    // overlay's own xattrs are never part of a layer.
    expect(entries.find((e) => e.path === 'opaque/')!.xattrs).toEqual([]);
  });

  it('leaves out the step container\'s mount points; an upper dir with only those is no change, an empty new dir is one', async () => {
    dir = mkdtempSync(join(tmpdir(), 'layertar-'));
    const upper = join(dir, 'upper');
    for (const d of ['proc', 'sys', 'dev/pts', 'etc']) mkdirSync(join(upper, d), { recursive: true });
    writeFileSync(join(upper, 'etc/hosts'), '');
    writeFileSync(join(upper, 'etc/resolv.conf'), '');
    // /etc was copied up for the mount points: the image has it, alike.
    const lower = join(dir, 'lower');
    mkdirSync(join(lower, 'etc'), { recursive: true });
    expect(await hasChanges(upper, skipRuntimeMountPoints, [lower])).toBe(false);
    expect(await hasChanges(upper)).toBe(true);
    // Without it below, /etc is a directory the step made.
    expect(await hasChanges(upper, skipRuntimeMountPoints, [join(dir, 'empty')])).toBe(true);
    execFileSync('chmod', ['700', join(upper, 'etc')]);
    expect(await hasChanges(upper, skipRuntimeMountPoints, [lower])).toBe(true);
    execFileSync('chmod', ['755', join(upper, 'etc')]);
    mkdirSync(join(upper, 'srv/app'), { recursive: true });
    expect(await hasChanges(upper, skipRuntimeMountPoints, [lower])).toBe(true);
    writeFileSync(join(upper, 'etc/hosts'), '127.0.0.1 me\n');
    const { entries } = await entriesOf(upper, skipRuntimeMountPoints);
    expect(entries.map((e) => e.path)).toEqual(['etc/', 'etc/hosts', 'srv/', 'srv/app/']);
  });

  it('diffs two full trees (the copy snapshotter): changed, added and deleted entries, untouched copies equal', async () => {
    dir = mkdtempSync(join(tmpdir(), 'layertar-'));
    const parent = join(dir, 'parent');
    const current = join(dir, 'current');
    mkdirSync(join(parent, 'd/keep'), { recursive: true });
    writeFileSync(join(parent, 'a'), 'one');
    writeFileSync(join(parent, 'b'), 'bee');
    writeFileSync(join(parent, 'd/x'), 'x');
    writeFileSync(join(parent, 'd/keep/k'), 'k');
    symlinkSync('a', join(parent, 'l'));
    execFileSync('cp', ['-a', `${parent}/.`, current]);
    writeFileSync(join(current, 'a'), 'two!');
    rmSync(join(current, 'b'));
    writeFileSync(join(current, 'd/y'), 'y');
    execFileSync('chmod', ['700', join(current, 'd')]);
    rmSync(join(current, 'l'));
    symlinkSync('b', join(current, 'l'));
    mkdirSync(join(current, 'proc'));
    const changes = await treeChanges(current, parent, skipRuntimeMountPoints);
    expect(changes.map((c) => `${c.whiteout ? '-' : '+'} ${c.path}`)).toEqual(['+ a', '- b', '+ d', '+ d/y', '+ l']);
    expect((await treeChanges(parent, parent)).length).toBe(0);
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on('data', (c: Buffer) => chunks.push(c));
    await writeTreeChangesLayer(current, changes, out);
    const names: string[] = [];
    for await (const e of readTar((async function* () { yield Buffer.concat(chunks); })())) {
      names.push(`${e.type} ${e.path}`);
      for await (const _ of e.body) { /* drained */ }
    }
    expect(names).toEqual(['file a', 'file .wh.b', 'dir d/', 'file d/y', 'symlink l']);
    // No parent (an image without layers): everything is new.
    expect((await treeChanges(parent, undefined)).map((c) => c.path)).toEqual(['a', 'b', 'd', 'd/keep', 'd/keep/k', 'd/x', 'l']);
  });

  it('PAX records count their own length', () => {
    for (const value of ['x', 'y'.repeat(93), 'z'.repeat(94), 'w'.repeat(995)]) {
      const rec = paxRecord('path', value).toString();
      expect(Number(rec.split(' ')[0])).toBe(Buffer.byteLength(rec));
      expect(rec.endsWith(`path=${value}\n`)).toBe(true);
    }
  });
});
