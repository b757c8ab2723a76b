// A writable layer's changes as an OCI layer tar. Overlay keeps exactly the
// changes in its upper dir: a 0/0 character device is a deleted name (written
// as `.wh.NAME`), trusted.overlay.opaque=y a directory that hides what is
// below (`DIR/.wh..wh..opq`); everything else is written with its owner, mode,
// mtime and link target, a second name of one inode as a hard link. The walk
// is async and gives the event loop back as it goes; file bodies are streamed.
import { createReadStream, type BigIntStats } from 'node:fs';
import { lstat, readdir, readlink } from 'node:fs/promises';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { addon } from '../../native/addon.js';

const BLOCK = 512;
export const WHITEOUT_PREFIX = '.wh.';
export const OPAQUE_MARKER = '.wh..wh..opq';

type TypeFlag = '0' | '1' | '2' | '3' | '4' | '5' | '6' | 'x';

export interface LayerEntryHeader {
  name: string;
  type: TypeFlag;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
}

function octal(n: number, len: number): string {
  return n.toString(8).padStart(len - 1, '0') + '\0';
}

/** One ustar header block; fields too long for it go into a PAX record before it. */
export function ustarHeader(h: LayerEntryHeader): Buffer {
  const b = Buffer.alloc(BLOCK);
  b.write(h.name.slice(0, 100), 0, 'utf8');
  b.write(octal(h.mode & 0o7777, 8), 100, 'ascii');
  b.write(octal(Math.min(h.uid, 0o7777777), 8), 108, 'ascii');
  b.write(octal(Math.min(h.gid, 0o7777777), 8), 116, 'ascii');
  b.write(octal(Math.min(h.size, 0o77777777777), 12), 124, 'ascii');
  b.write(octal(Math.max(0, Math.min(h.mtime, 0o77777777777)), 12), 136, 'ascii');
  b.write('        ', 148, 'ascii');
  b.write(h.type, 156, 'ascii');
  if (h.linkname) b.write(h.linkname.slice(0, 100), 157, 'utf8');
  b.write('ustar\x0000', 257, 'latin1');
  b.write(octal(h.devmajor ?? 0, 8), 329, 'ascii');
  b.write(octal(h.devminor ?? 0, 8), 337, 'ascii');
  let sum = 0;
  for (const x of b) sum += x;
  b.write(octal(sum, 7) + ' ', 148, 'ascii');
  return b;
}

/** A PAX record `LEN key=value\n`, its length counting itself. */
export function paxRecord(key: string, value: Buffer | string): Buffer {
  const v = typeof value === 'string' ? Buffer.from(value) : value;
  const rest = Buffer.byteLength(` ${key}=`) + v.length + 1;
  let len = rest + 1;
  while (String(len).length + rest !== len) len = String(len).length + rest;
  return Buffer.concat([Buffer.from(`${len} ${key}=`), v, Buffer.from('\n')]);
}

export class LayerTarWriter {
  constructor(private readonly out: Writable) {}

  private async put(b: Buffer): Promise<void> {
    if (!this.out.write(b)) await once(this.out, 'drain');
  }

  private async pad(size: number): Promise<void> {
    const n = (BLOCK - (size % BLOCK)) % BLOCK;
    if (n) await this.put(Buffer.alloc(n));
  }

  async entry(h: LayerEntryHeader, xattrs: Record<string, Buffer> = {}, body?: AsyncIterable<Buffer>): Promise<void> {
    const pax: Buffer[] = [];
    if (Buffer.byteLength(h.name) > 100) pax.push(paxRecord('path', h.name));
    if (h.linkname && Buffer.byteLength(h.linkname) > 100) pax.push(paxRecord('linkpath', h.linkname));
    if (h.uid > 0o7777777) pax.push(paxRecord('uid', String(h.uid)));
    if (h.gid > 0o7777777) pax.push(paxRecord('gid', String(h.gid)));
    if (h.size > 0o77777777777) pax.push(paxRecord('size', String(h.size)));
    for (const [k, v] of Object.entries(xattrs)) pax.push(paxRecord(`SCHILY.xattr.${k}`, v));
    if (pax.length) {
      const data = Buffer.concat(pax);
      await this.put(ustarHeader({ name: 'PaxHeader', type: 'x', mode: 0o644, uid: 0, gid: 0, size: data.length, mtime: h.mtime }));
      await this.put(data);
      await this.pad(data.length);
    }
    await this.put(ustarHeader(h));
    if (h.type === '0' && h.size > 0) {
      let written = 0;
      if (body) {
        for await (const chunk of body) {
          // A file that grew while we read it: the header promised h.size.
          const part = written + chunk.length > h.size ? chunk.subarray(0, h.size - written) : chunk;
          await this.put(part);
          written += part.length;
          if (written >= h.size) break;
        }
      }
      // A file that shrank: zero-filled to the promised size, so the archive stays well-formed.
      if (written < h.size) await this.put(Buffer.alloc(h.size - written));
      await this.pad(h.size);
    }
  }

  async finish(): Promise<void> {
    await this.put(Buffer.alloc(BLOCK * 2));
    this.out.end();
  }
}

const isWhiteout = (st: BigIntStats) => st.isCharacterDevice() && st.rdev === 0n;

function isOpaque(dir: string): boolean {
  try {
    const v = addon().lgetxattr(dir, 'trusted.overlay.opaque');
    return !!v && v.length === 1 && v[0] === 0x79;
  } catch {
    return false;
  }
}

/** The xattrs a layer carries (file capabilities); overlay's own are never part of a layer. */
function layerXattrs(path: string): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  try {
    const cap = addon().lgetxattr(path, 'security.capability');
    if (cap) out['security.capability'] = cap;
  } catch { /* none */ }
  return out;
}

const major = (rdev: bigint) => Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn));
const minor = (rdev: bigint) => Number((rdev & 0xffn) | ((rdev >> 12n) & ~0xffn));

/**
 * Writes the overlay upper dir `upper` as a layer tar to `out` (ended at the
 * end). Entries in name order, parents before children, so the tar is the same
 * for the same tree.
 */
/** Writes one entry of `root` (not a whiteout) as it is on disk; `links` pairs an inode with its first name. */
async function writeEntry(tar: LayerTarWriter, root: string, path: string, st: BigIntStats, links: Map<string, string>): Promise<void> {
  const full = `${root}/${path}`;
  const base = { mode: Number(st.mode), uid: Number(st.uid), gid: Number(st.gid), size: 0, mtime: Number(st.mtimeMs / 1000n) };
  if (st.isDirectory()) {
    await tar.entry({ ...base, name: `${path}/`, type: '5' }, layerXattrs(full));
  } else if (st.isSymbolicLink()) {
    await tar.entry({ ...base, name: path, type: '2', linkname: await readlink(full) });
  } else if (st.isFile()) {
    const inode = `${st.dev}:${st.ino}`;
    const first = st.nlink > 1n ? links.get(inode) : undefined;
    if (first) {
      await tar.entry({ ...base, name: path, type: '1', linkname: first });
      return;
    }
    if (st.nlink > 1n) links.set(inode, path);
    await tar.entry({ ...base, name: path, type: '0', size: Number(st.size) }, layerXattrs(full), createReadStream(full) as AsyncIterable<Buffer>);
  } else if (st.isCharacterDevice() || st.isBlockDevice()) {
    await tar.entry({ ...base, name: path, type: st.isCharacterDevice() ? '3' : '4', devmajor: major(st.rdev), devminor: minor(st.rdev) });
  } else if (st.isFIFO()) {
    await tar.entry({ ...base, name: path, type: '6' });
  }
  // Sockets are never part of a layer (as Docker).
}

const whiteoutName = (path: string) => {
  const i = path.lastIndexOf('/');
  return i < 0 ? `${WHITEOUT_PREFIX}${path}` : `${path.slice(0, i)}/${WHITEOUT_PREFIX}${path.slice(i + 1)}`;
};

/**
 * Writes the overlay upper dir `upper` as a layer tar to `out` (ended at the
 * end). Entries in name order, parents before children, so the tar is the same
 * for the same tree. Returns how many entries of the upper dir it wrote.
 */
export async function writeUpperDirLayer(upper: string, out: Writable, skip: SkipRule = () => false): Promise<number> {
  const tar = new LayerTarWriter(out);
  let count = 0;
  const links = new Map<string, string>();
  const walk = async (rel: string) => {
    const names = (await readdir(`${upper}/${rel}`)).sort();
    for (const n of names) {
      const path = rel ? `${rel}/${n}` : n;
      const full = `${upper}/${path}`;
      const st = await lstat(full, { bigint: true });
      if (skip(path, st)) continue;
      count++;
      if (isWhiteout(st)) {
        await tar.entry({ name: whiteoutName(path), type: '0', mode: 0o644, uid: 0, gid: 0, size: 0, mtime: Number(st.mtimeMs / 1000n) });
        continue;
      }
      await writeEntry(tar, upper, path, st, links);
      if (st.isDirectory()) {
        if (isOpaque(full)) await tar.entry({ name: `${path}/${OPAQUE_MARKER}`, type: '0', mode: 0o644, uid: 0, gid: 0, size: 0, mtime: Number(st.mtimeMs / 1000n) });
        await walk(path);
      }
    }
    await new Promise((resolve) => setImmediate(resolve));
  };
  await walk('');
  await tar.finish();
  return count;
}

/** A change between two full trees: an entry to write, or a name to white out. */
export interface TreeChange {
  path: string;
  whiteout: boolean;
}

async function lstatOrUndefined(path: string): Promise<BigIntStats | undefined> {
  try {
    return await lstat(path, { bigint: true });
  } catch {
    return undefined;
  }
}

/**
 * What `current` changed over `parent` (both full trees: the copy snapshotter
 * keeps no upper dir), by moby's rules for directories it cannot watch: an
 * entry is changed when its type, mode, owner, size, mtime or link target
 * differs (cp -a keeps mtimes, so an untouched file compares equal); a
 * directory's own entry only when its metadata changed; a name the parent has
 * and `current` lacks is a whiteout. In name order, parents first.
 */
export async function treeChanges(current: string, parent: string | undefined, skip: SkipRule = () => false): Promise<TreeChange[]> {
  const out: TreeChange[] = [];
  const walk = async (rel: string, parentHasDir: boolean) => {
    const here = (await readdir(rel ? `${current}/${rel}` : current)).sort();
    const before = parent && parentHasDir ? new Set(await readdir(rel ? `${parent}/${rel}` : parent).catch(() => [] as string[])) : new Set<string>();
    const names = [...new Set([...here, ...before])].sort();
    for (const n of names) {
      const path = rel ? `${rel}/${n}` : n;
      const st = here.includes(n) ? await lstat(`${current}/${path}`, { bigint: true }) : undefined;
      const old = before.has(n) && parent ? await lstatOrUndefined(`${parent}/${path}`) : undefined;
      if (!st) {
        if (old && !skip(path, old)) out.push({ path, whiteout: true });
        continue;
      }
      if (skip(path, st)) continue;
      const sameType = old !== undefined && (old.mode & 0o170000n) === (st.mode & 0o170000n);
      const sameMeta = sameType && old!.mode === st.mode && old!.uid === st.uid && old!.gid === st.gid;
      if (st.isDirectory()) {
        if (!sameMeta) out.push({ path, whiteout: false });
        await walk(path, sameType);
        continue;
      }
      let same = sameMeta && old!.size === st.size && old!.mtimeNs === st.mtimeNs && old!.rdev === st.rdev;
      if (same && st.isSymbolicLink()) same = (await readlink(`${current}/${path}`)) === (await readlink(`${parent}/${path}`));
      if (!same) out.push({ path, whiteout: false });
    }
    await new Promise((resolve) => setImmediate(resolve));
  };
  await walk('', parent !== undefined);
  return out;
}

/** Writes `changes` of tree `current` (from treeChanges) as a layer tar to `out`. */
export async function writeTreeChangesLayer(current: string, changes: TreeChange[], out: Writable): Promise<void> {
  const tar = new LayerTarWriter(out);
  const links = new Map<string, string>();
  for (const c of changes) {
    if (c.whiteout) await tar.entry({ name: whiteoutName(c.path), type: '0', mode: 0o644, uid: 0, gid: 0, size: 0, mtime: 0 });
    else await writeEntry(tar, current, c.path, await lstat(`${current}/${c.path}`, { bigint: true }), links);
  }
  await tar.finish();
}

/** Entries a layer leaves out (relative path without a leading slash). */
export type SkipRule = (path: string, st: BigIntStats) => boolean;

const RUNTIME_FILES = new Set(['etc/hosts', 'etc/resolv.conf', 'etc/hostname', '.dockerenv']);

/**
 * What a step container's runtime made, not its command: the mount points of
 * /proc, /sys and /dev (all of /dev: a tmpfs in the container, so anything
 * under it in the upper dir is a mount point) and the empty files the network
 * setup binds /etc/hosts, resolv.conf and hostname on. Docker keeps these in
 * its init layer, which is never part of an image.
 */
export const skipRuntimeMountPoints: SkipRule = (path, st) =>
  path === 'proc' || path === 'sys' || path === 'dev' || path.startsWith('dev/') ||
  (RUNTIME_FILES.has(path) && st.isFile() && st.size === 0n);

/**
 * Whether the upper dir holds anything `skip` keeps (an empty step makes no
 * layer, as Docker). A directory whose entries were all skipped was copied up
 * for them: it is a change only when `lowers` (nearest first) have no such
 * directory or one with another mode or owner.
 */
export async function hasChanges(upper: string, skip: SkipRule = () => false, lowers: string[] = []): Promise<boolean> {
  const dirChanged = async (path: string, st: BigIntStats): Promise<boolean> => {
    for (const lower of lowers) {
      const below = await lstatOrUndefined(`${lower}/${path}`);
      if (!below) continue;
      if (isWhiteout(below)) return true;
      return !(below.isDirectory() && below.mode === st.mode && below.uid === st.uid && below.gid === st.gid);
    }
    return true;
  };
  const walk = async (rel: string): Promise<boolean> => {
    const names = await readdir(rel ? `${upper}/${rel}` : upper);
    for (const n of names) {
      const path = rel ? `${rel}/${n}` : n;
      const st = await lstat(`${upper}/${path}`, { bigint: true });
      if (skip(path, st)) continue;
      if (!st.isDirectory() || isOpaque(`${upper}/${path}`)) return true;
      if (await walk(path)) return true;
      if (await dirChanged(path, st)) return true;
    }
    return false;
  };
  return walk('');
}
