// The snapshotters as a library: committed chains, active snapshots on top,
// what they mount, and the limits that must fail with a clear error.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OverlaySnapshotter } from '../../src/image/snapshots/overlay.js';
import { CopySnapshotter } from '../../src/image/snapshots/copy.js';
import { mountAll, overlayOptionsByFd, unmount } from '../../src/image/snapshots/mount.js';

let root: string;
beforeEach(() => { root = mkdtempSync(join(tmpdir(), 'snap-')); });
afterEach(() => rmSync(root, { recursive: true, force: true }));

/** A chain of n committed layers, layer i holding file `l<i>`. */
async function chain(s: OverlaySnapshotter | CopySnapshotter, n: number): Promise<string> {
  let parent: string | undefined;
  for (let i = 0; i < n; i++) {
    const key = `extract-${i}`;
    await s.prepare(key, parent);
    writeFileSync(join(s.writableDir(key), `l${i}`), String(i));
    await s.commit(`layer-${i}`, key);
    parent = `layer-${i}`;
  }
  return parent!;
}

describe('snapshotters', () => {
  it('overlay: a container sees every layer through one mount and writes only to its upper dir', async () => {
    const s = new OverlaySnapshotter(root);
    const top = await chain(s, 3);
    const mounts = await s.prepare('container/c1', top);
    expect(mounts).toHaveLength(1);
    expect(mounts[0].type).toBe('overlay');
    const target = mkdtempSync(join(root, 'mnt-'));
    mountAll(mounts, target);
    try {
      expect(['l0', 'l1', 'l2'].map((f) => readFileSync(join(target, f), 'utf8'))).toEqual(['0', '1', '2']);
      writeFileSync(join(target, 'new'), 'x');
      expect(readFileSync(join(s.writableDir('container/c1'), 'new'), 'utf8')).toBe('x');
    } finally {
      unmount(target);
    }
    await expect(s.remove('layer-1')).rejects.toThrow(/layer-2 is built on it/);
    await s.remove('container/c1');
    expect(s.stat('container/c1')).toBeUndefined();
  });

  it('copy: an active snapshot is a full copy of its parent', async () => {
    const s = new CopySnapshotter(root);
    const top = await chain(s, 3);
    await s.prepare('container/c1', top);
    const dir = s.writableDir('container/c1');
    expect(['l0', 'l1', 'l2'].every((f) => existsSync(join(dir, f)))).toBe(true);
  });

  it('copy: copies a parent without blocking the event loop, and a removed snapshot leaves nothing', async () => {
    const s = new CopySnapshotter(root);
    await s.prepare('extract-0', undefined);
    for (let i = 0; i < 2000; i++) writeFileSync(join(s.writableDir('extract-0'), `f${i}`), String(i));
    await s.commit('layer-0', 'extract-0');
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 1);
    try {
      await s.prepare('container/c1', 'layer-0');
    } finally {
      clearInterval(ticker);
    }
    expect(ticks).toBeGreaterThan(0);
    expect(existsSync(join(s.writableDir('container/c1'), 'f1999'))).toBe(true);
    await s.remove('container/c1');
    expect(s.stat('container/c1')).toBeUndefined();
    expect(s.walk().map((x) => x.name)).toEqual(['layer-0']);
    expect(await s.removeOrphans()).toBe(0);
  });

  it('mounts a chain whose absolute paths exceed the kernel\'s one-page mount data, naming each directory by an fd, cwd untouched', async () => {
    const deep = join(root, 'a-long-data-root-'.repeat(4));
    mkdirSync(deep, { recursive: true });
    const s = new OverlaySnapshotter(deep);
    const top = await chain(s, 60);
    const mounts = await s.prepare('container/c1', top);
    expect(mounts[0].options.join(',').length).toBeGreaterThan(4096);
    const target = mkdtempSync(join(root, 'mnt-'));
    const cwd = process.cwd();
    const fds = readdirSync('/proc/self/fd').length;
    mountAll(mounts, target);
    try {
      expect(process.cwd()).toBe(cwd);
      expect(readdirSync('/proc/self/fd').length).toBe(fds);
      expect(['l0', 'l30', 'l59'].map((f) => readFileSync(join(target, f), 'utf8'))).toEqual(['0', '30', '59']);
      writeFileSync(join(target, 'new'), 'x');
      expect(readFileSync(join(s.writableDir('container/c1'), 'new'), 'utf8')).toBe('x');
    } finally {
      unmount(target);
    }
  });

  it('refuses, by name and before mounting, an overlay whose options exceed the limit even with fds for names', () => {
    const lowers = Array.from({ length: 400 }, (_, i) => join(root, 'snapshots', `layer-${i}`, 'fs'));
    for (const d of [...lowers, join(root, 'w'), join(root, 'u')]) mkdirSync(d, { recursive: true });
    const mounts = [{ type: 'overlay', source: 'overlay', options: [`workdir=${join(root, 'w')}`, `upperdir=${join(root, 'u')}`, `lowerdir=${lowers.join(':')}`] }];
    const target = mkdtempSync(join(root, 'mnt-'));
    const fds = readdirSync('/proc/self/fd').length;
    expect(() => mountAll(mounts, target)).toThrow(/options are \d+ bytes for 400 layers even with each directory named by its file descriptor \((\/dev\/fd|\/proc\/self\/fd)\/N\), over the kernel's 4096-byte limit/);
    expect(readdirSync('/proc/self/fd').length).toBe(fds);
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(target);
  });

  it('names every overlay directory through the given function, other options unchanged', () => {
    const names = new Map<string, string>();
    const data = overlayOptionsByFd(['workdir=/a/1/work', 'upperdir=/a/1/fs', 'lowerdir=/a/2/fs:/a/3/fs', 'index=off'], (p) => {
      names.set(p, `/dev/fd/${names.size + 10}`);
      return names.get(p)!;
    });
    expect(data).toBe('workdir=/dev/fd/10,upperdir=/dev/fd/11,lowerdir=/dev/fd/12:/dev/fd/13,index=off');
    expect([...names.keys()]).toEqual(['/a/1/work', '/a/1/fs', '/a/2/fs', '/a/3/fs']);
  });
});
