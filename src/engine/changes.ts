// `docker diff`: what a container changed in its filesystem, read from its
// writable overlay layer (the upper dir) against the image's layers below it,
// with dockerd's rules (pkg/archive changes.go, OverlayChanges): a whiteout
// (char device 0/0) is a deletion; an opaque directory that hides one of a
// lower layer is a deletion of that (its entries are then added); an entry a
// lower layer has is a modification, except a directory whose size, mode and
// mtime are unchanged (copied up only because something below it changed);
// the parent of an added or deleted entry counts as modified. Read-only; the
// walk is async and gives the event loop back at every directory.
import { lstat, readdir } from 'node:fs/promises';
import type { BigIntStats } from 'node:fs';
import { join } from 'node:path';
import { addon } from '../native/addon.js';

/** Docker's kinds. */
export const CHANGE_MODIFIED = 0;
export const CHANGE_ADDED = 1;
export const CHANGE_DELETED = 2;

export interface Change {
  Path: string;
  Kind: 0 | 1 | 2;
}

const isWhiteout = (st: BigIntStats) => st.isCharacterDevice() && st.rdev === 0n;

function isOpaque(dir: string): boolean {
  try {
    const v = addon().lgetxattr(dir, 'trusted.overlay.opaque');
    return !!v && v.length === 1 && v[0] === 0x79; // 'y'
  } catch {
    return false;
  }
}

async function lstatOrUndefined(path: string): Promise<BigIntStats | undefined> {
  try {
    return await lstat(path, { bigint: true });
  } catch {
    return undefined;
  }
}

/**
 * What the image's layers have at `path` (nearest layer first): the entry, or
 * undefined when none has it or the nearest that names it whites it out.
 */
async function inLowers(lowers: string[], path: string): Promise<BigIntStats | undefined> {
  for (const lower of lowers) {
    const st = await lstatOrUndefined(join(lower, path));
    if (!st) continue;
    return isWhiteout(st) ? undefined : st;
  }
  return undefined;
}

/** The changes in `upper` over `lowers` (nearest first), sorted by path as Docker lists them. */
export async function overlayChanges(upper: string, lowers: string[]): Promise<Change[]> {
  const changes: Change[] = [];
  const changedDirs = new Set<string>();
  const record = (path: string, kind: Change['Kind'], isDir: boolean) => {
    changes.push({ Path: path, Kind: kind });
    if (isDir) changedDirs.add(path);
    if (kind === CHANGE_MODIFIED) return;
    const parent = path.slice(0, path.lastIndexOf('/')) || '/';
    if (parent !== '/' && !changedDirs.has(parent)) {
      changes.push({ Path: parent, Kind: CHANGE_MODIFIED });
      changedDirs.add(parent);
    }
  };
  /** `hidden`: under an opaque directory, where the lower layers do not show through. */
  const walk = async (rel: string, hidden: boolean) => {
    let names: string[];
    try {
      names = await readdir(join(upper, rel));
    } catch {
      return;
    }
    for (const n of names.sort()) {
      const path = `${rel}/${n}`;
      const st = await lstatOrUndefined(join(upper, path));
      if (!st) continue;
      const below = hidden ? undefined : await inLowers(lowers, path);
      if (isWhiteout(st)) {
        record(path, CHANGE_DELETED, false);
        continue;
      }
      const dir = st.isDirectory();
      const opaque = dir && isOpaque(join(upper, path));
      if (opaque && below) record(path, CHANGE_DELETED, true);
      else if (!below) record(path, CHANGE_ADDED, dir);
      else if (!(dir && below.isDirectory() && st.size === below.size && st.mode === below.mode && st.mtimeNs === below.mtimeNs)) record(path, CHANGE_MODIFIED, dir);
      if (dir) await walk(path, hidden || opaque);
    }
  };
  await walk('', false);
  return changes.sort((a, b) => (a.Path < b.Path ? -1 : a.Path > b.Path ? 1 : 0));
}
