// Writes one layer's tar entries into a directory. Two ways to read whiteouts:
// 'overlay' keeps them as overlayfs expects (a 0/0 character device for a
// deleted name, trusted.overlay.opaque=y on an opaque dir) so each layer is
// its own directory; 'delete' applies them to a copy of the parent (the copy
// snapshotter). No entry may leave the directory: `..` is refused and no path
// is written through a symlink.
import { lchownSync, chmodSync, lutimesSync, lstatSync, mkdirSync, symlinkSync, linkSync, readdirSync, type Stats } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { RuntimeError } from '../../common/errors.js';
import { addon } from '../../native/addon.js';
import type { TarEntry } from '../archive/tarReader.js';

export type WhiteoutMode = 'overlay' | 'delete';

const WH = '.wh.';
const OPAQUE = '.wh..wh..opq';
const S_IFCHR = 0o020000;
const S_IFBLK = 0o060000;
const S_IFIFO = 0o010000;

export interface ApplyResult {
  /** Bytes of regular-file content written. */
  bytes: number;
  entries: number;
}

/** The entry's path as components inside the layer, or an error for `..` escapes. */
export function layerPath(name: string, what: string): string[] {
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw new RuntimeError({ step: `unpack ${what}`, path: name, detail: 'the entry path has a ".." component (it would leave the layer)' });
  return parts;
}

function lstatOrNull(p: string): Stats | null {
  try {
    return lstatSync(p);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

export async function applyLayer(root: string, entries: AsyncIterable<TarEntry>, mode: WhiteoutMode, what: string): Promise<ApplyResult> {
  const written = new Set<string>();
  const dirTimes: Array<[string, number]> = [];
  const opaqueDirs: string[] = [];
  let bytes = 0;
  let count = 0;

  /** Makes sure every parent of `parts` is a real directory inside root. */
  const parents = (parts: string[], entry: string) => {
    let cur = root;
    for (const p of parts.slice(0, -1)) {
      cur = `${cur}/${p}`;
      const st = lstatOrNull(cur);
      if (!st) mkdirSync(cur, { mode: 0o755 });
      else if (st.isSymbolicLink()) throw new RuntimeError({ step: `unpack ${what}`, path: entry, detail: `its parent ${JSON.stringify(cur.slice(root.length))} is a symlink; a layer never writes through one` });
      else if (!st.isDirectory()) throw new RuntimeError({ step: `unpack ${what}`, path: entry, detail: `its parent ${JSON.stringify(cur.slice(root.length))} is not a directory` });
    }
  };

  for await (const e of entries) {
    count++;
    const parts = layerPath(e.path, what);
    const target = parts.length ? `${root}/${parts.join('/')}` : root;
    const base = parts[parts.length - 1] ?? '';
    try {
      if (base.startsWith(WH)) {
        parents(parts, e.path);
        const dir = parts.length > 1 ? `${root}/${parts.slice(0, -1).join('/')}` : root;
        if (base === OPAQUE) {
          if (mode === 'overlay') addon().lsetxattr(dir, 'trusted.overlay.opaque', Buffer.from('y'));
          else opaqueDirs.push(dir);
        } else if (base.startsWith(`${WH}${WH}`)) {
          // aufs metadata (.wh..wh.plnk etc.): nothing to apply
        } else {
          const victim = `${dir}/${base.slice(WH.length)}`;
          await rm(victim, { recursive: true, force: true });
          if (mode === 'overlay') addon().mknod(victim, S_IFCHR, 0, 0);
          written.add(victim);
        }
        continue;
      }
      if (parts.length) parents(parts, e.path);
      const existing = parts.length ? lstatOrNull(target) : lstatSync(root);
      if (existing && !(existing.isDirectory() && e.type === 'dir')) await rm(target, { recursive: true, force: true });
      switch (e.type) {
        case 'dir':
          if (!existing || !existing.isDirectory()) mkdirSync(target, { mode: 0o700 });
          break;
        case 'file': {
          const fh = await open(target, 'wx', 0o600);
          try {
            for await (const chunk of e.body) {
              await fh.write(chunk);
              bytes += chunk.length;
            }
          } finally {
            await fh.close();
          }
          break;
        }
        case 'symlink':
          symlinkSync(e.linkname, target);
          break;
        case 'hardlink': {
          const linkParts = layerPath(e.linkname, what);
          const source = `${root}/${linkParts.join('/')}`;
          parents(linkParts, e.linkname);
          const st = lstatOrNull(source);
          if (!st) throw new RuntimeError({ step: `unpack ${what}`, path: e.path, detail: `hard link to ${JSON.stringify(e.linkname)}, which is not in the layer` });
          linkSync(source, target);
          break;
        }
        case 'char':
        case 'block':
        case 'fifo': {
          const type = e.type === 'char' ? S_IFCHR : e.type === 'block' ? S_IFBLK : S_IFIFO;
          addon().mknod(target, type | e.mode, e.devmajor, e.devminor);
          break;
        }
      }
      written.add(target);
      if (e.type === 'hardlink') continue; // shares the source's inode and metadata
      lchownSync(target, e.uid, e.gid);
      for (const [name, value] of Object.entries(e.xattrs)) {
        // A layer may not forge overlayfs' own attributes (opaque, redirect).
        if (name.startsWith('trusted.overlay.')) continue;
        addon().lsetxattr(target, name, value);
      }
      if (e.type !== 'symlink') chmodSync(target, e.mode); // after chown, which clears setuid bits
      if (e.type === 'dir') dirTimes.push([target, e.mtime]);
      else lutimesSync(target, e.mtime, e.mtime);
    } catch (err) {
      if (err instanceof RuntimeError) throw err;
      throw RuntimeError.fromSystem(`unpack ${what}`, err, { path: e.path });
    }
  }
  if (opaqueDirs.length) {
    // Opaque in a copy: what lower layers put here goes, what this layer wrote stays.
    const keep = new Set<string>();
    for (const w of written) for (let p = w; p.length > root.length; p = p.slice(0, p.lastIndexOf('/'))) keep.add(p);
    for (const dir of opaqueDirs) {
      for (const name of readdirSync(dir)) if (!keep.has(`${dir}/${name}`)) await rm(`${dir}/${name}`, { recursive: true, force: true });
    }
  }
  // Directory times last: writing entries inside a directory changes its mtime.
  for (const [dir, mtime] of dirTimes.reverse()) lutimesSync(dir, mtime, mtime);
  return { bytes, entries: count };
}
