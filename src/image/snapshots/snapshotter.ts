// Snapshotters, containerd's way: committed (read-only) snapshots keyed by a
// layer's ChainID, active (writable) ones a container or an unpack works in.
// Metadata lives beside the data: snapshots/<driver>/snapshots/<id>/info.json,
// and names/<sha256(name)> is a symlink to the id, swapped atomically.
// A daemon calls these: metadata changes wait for the store's flock on timers,
// and the long parts (copying a parent, removing or measuring a tree) run
// outside that lock and give the event loop back as they go.
import { createHash, randomBytes } from 'node:crypto';
import { writeFileAtomic } from '../../common/atomicFile.js';
import { mkdirSync, readFileSync, readdirSync, readlinkSync, renameSync, rmSync, symlinkSync, lstatSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { RuntimeError } from '../../common/errors.js';
import { withLockAsync } from '../../common/lock.js';
import type { WhiteoutMode } from '../unpack/applyLayer.js';

export interface Mount {
  type: string;
  source: string;
  options: string[];
}

export type SnapshotKind = 'committed' | 'active';

export interface SnapshotInfo {
  name: string;
  id: string;
  kind: SnapshotKind;
  parent?: string;
  created: string;
  /** Bytes in this snapshot's own directory (set on commit; committed snapshots never change). */
  size?: number;
  labels?: Record<string, string>;
}

export interface Snapshotter {
  readonly driver: 'overlay' | 'copy';
  /** How a layer's whiteouts are written into an active snapshot of this driver. */
  readonly whiteouts: WhiteoutMode;
  stat(name: string): SnapshotInfo | undefined;
  /** A new active snapshot on top of `parent`; returns how to mount it. */
  prepare(key: string, parent: string | undefined, labels?: Record<string, string>): Promise<Mount[]>;
  mounts(key: string): Mount[];
  /** The directory an unpack writes a layer into. */
  writableDir(key: string): string;
  /**
   * Makes an active snapshot committed under `name`. `parent` re-parents it:
   * only overlay allows that (its layer directories do not contain their parents).
   */
  commit(name: string, key: string, parent?: string): Promise<SnapshotInfo>;
  /**
   * commit, unless `name` is already committed (another pull got there first):
   * then the active snapshot is removed. Returns whether ours was kept.
   */
  commitOnce(name: string, key: string, parent?: string): Promise<boolean>;
  remove(name: string): Promise<void>;
  walk(): SnapshotInfo[];
  /** Bytes in the snapshot's own directory. */
  usage(name: string): Promise<number>;
}

export const nameKey = (name: string) => createHash('sha256').update(name).digest('hex');

/** The metadata every driver shares. */
export abstract class SnapshotStore implements Snapshotter {
  abstract readonly driver: 'overlay' | 'copy';
  abstract readonly whiteouts: WhiteoutMode;
  protected readonly base: string;

  constructor(dataRoot: string, driver: string) {
    this.base = join(dataRoot, 'snapshots', driver);
  }

  /** Metadata changes run one at a time across processes (two pulls of one image commit the same layers). */
  protected locked<T>(fn: () => Promise<T> | T): Promise<T> {
    mkdirSync(this.base, { recursive: true });
    return withLockAsync(this.base, fn, `the ${this.driver} snapshots`);
  }

  protected dir(id: string): string {
    return join(this.base, 'snapshots', id);
  }

  protected fsDir(id: string): string {
    return join(this.dir(id), 'fs');
  }

  private link(name: string): string {
    return join(this.base, 'names', nameKey(name));
  }

  stat(name: string): SnapshotInfo | undefined {
    let id: string;
    try {
      id = readlinkSync(this.link(name));
    } catch {
      return undefined;
    }
    try {
      return JSON.parse(readFileSync(join(this.dir(id), 'info.json'), 'utf8')) as SnapshotInfo;
    } catch {
      return undefined;
    }
  }

  protected must(name: string, kind?: SnapshotKind): SnapshotInfo {
    const info = this.stat(name);
    if (!info) throw new RuntimeError({ step: 'snapshot', path: name, detail: 'no such snapshot' });
    if (kind && info.kind !== kind) throw new RuntimeError({ step: 'snapshot', path: name, detail: `is ${info.kind}, not ${kind}` });
    return info;
  }

  /** Parent chain, nearest first, as ids. */
  protected chain(parent: string | undefined): string[] {
    const ids: string[] = [];
    for (let p = parent; p; ) {
      const info = this.must(p, 'committed');
      ids.push(info.id);
      p = info.parent;
    }
    return ids;
  }

  private writeInfo(info: SnapshotInfo): void {
    const file = join(this.dir(info.id), 'info.json');
    writeFileAtomic(file, JSON.stringify(info));
  }

  private setLink(name: string, id: string): void {
    const link = this.link(name);
    const tmp = `${link}.${process.pid}.tmp`;
    rmSync(tmp, { force: true });
    symlinkSync(id, tmp);
    renameSync(tmp, link);
  }

  async prepare(key: string, parent: string | undefined, labels?: Record<string, string>): Promise<Mount[]> {
    // Reserved under the lock (the name taken, the parent then has a child and
    // cannot be removed), filled outside it: the copy driver copies a whole
    // parent, which must not hold every other pull's commits back.
    const { id, chain } = await this.locked(() => this.reserve(key, parent, labels));
    try {
      await this.populate(id, chain);
    } catch (e) {
      await this.remove(key).catch(() => { /* what is left is an orphan prune removes; the cause matters more */ });
      // A write (a full disk) has no path of its own: the snapshot's directory is named.
      throw RuntimeError.fromSystem(`prepare snapshot ${key}`, e, { path: (e as NodeJS.ErrnoException)?.path ?? this.dir(id) });
    }
    return this.mounts(key);
  }

  private reserve(key: string, parent: string | undefined, labels?: Record<string, string>): { id: string; chain: string[] } {
    if (this.stat(key)) throw new RuntimeError({ step: 'prepare snapshot', path: key, detail: 'a snapshot with this name exists' });
    const chain = this.chain(parent);
    const id = randomBytes(6).toString('hex');
    mkdirSync(join(this.base, 'names'), { recursive: true });
    mkdirSync(this.fsDir(id), { recursive: true });
    try {
      this.writeInfo({ name: key, id, kind: 'active', parent, created: new Date().toISOString(), labels });
      this.setLink(key, id);
    } catch (e) {
      rmSync(this.dir(id), { recursive: true, force: true });
      throw RuntimeError.fromSystem(`prepare snapshot ${key}`, e, { path: (e as NodeJS.ErrnoException)?.path ?? this.dir(id) });
    }
    return { id, chain };
  }

  /** Driver hook: fill a new active snapshot's directory (copy copies the parent). */
  protected abstract populate(id: string, parentChain: string[]): Promise<void>;

  abstract mounts(key: string): Mount[];

  writableDir(key: string): string {
    return this.fsDir(this.must(key, 'active').id);
  }

  async commit(name: string, key: string, parent?: string): Promise<SnapshotInfo> {
    // Measured before the lock: nobody but its owner writes an active snapshot.
    const size = await this.usage(key);
    return this.locked(() => this.commitLocked(name, key, parent, size));
  }

  async commitOnce(name: string, key: string, parent?: string): Promise<boolean> {
    const size = await this.usage(key);
    const kept = await this.locked(() => {
      if (this.stat(name)) return false;
      this.commitLocked(name, key, parent, size);
      return true;
    });
    if (!kept) await this.remove(key);
    return kept;
  }

  private commitLocked(name: string, key: string, parent: string | undefined, size: number): SnapshotInfo {
    const info = this.must(key, 'active');
    if (this.stat(name)) throw new RuntimeError({ step: 'commit snapshot', path: name, detail: 'a snapshot with this name exists' });
    if (parent !== undefined && parent !== info.parent) {
      if (this.whiteouts !== 'overlay') throw new RuntimeError({ step: 'commit snapshot', path: name, detail: `the ${this.driver} snapshotter cannot re-parent a snapshot` });
      this.must(parent, 'committed');
    }
    const committed: SnapshotInfo = { ...info, name, kind: 'committed', parent: parent ?? info.parent, size };
    // The work dir of a snapshot that was only unpacked into, never mounted: empty.
    rmSync(join(this.dir(info.id), 'work'), { recursive: true, force: true });
    this.writeInfo(committed);
    this.setLink(name, info.id);
    rmSync(this.link(key), { force: true });
    return committed;
  }

  async remove(name: string): Promise<void> {
    const id = await this.locked(() => this.unlinkLocked(name));
    // Nothing names the directory any more: deleting its tree needs no lock,
    // and if we die half way, prune finds an orphan (removeOrphans).
    await rm(this.dir(id), { recursive: true, force: true });
  }

  /** Takes the name and the metadata away; returns the id whose directory is left to delete. */
  private unlinkLocked(name: string): string {
    const info = this.must(name);
    const children = this.walk().filter((s) => s.parent === name);
    if (children.length) throw new RuntimeError({ step: 'remove snapshot', path: name, detail: `snapshot ${children[0].name} is built on it` });
    rmSync(this.link(name), { force: true });
    rmSync(join(this.dir(info.id), 'info.json'), { force: true });
    return info.id;
  }

  walk(): SnapshotInfo[] {
    const out: SnapshotInfo[] = [];
    let ids: string[] = [];
    try {
      ids = readdirSync(join(this.base, 'snapshots'));
    } catch {
      return out;
    }
    for (const id of ids) {
      try {
        out.push(JSON.parse(readFileSync(join(this.dir(id), 'info.json'), 'utf8')) as SnapshotInfo);
      } catch {
        /* a prepare that died before its info.json, or a remove that died after deleting it: prune removes the directory */
      }
    }
    return out;
  }

  /** Removes directories with no info.json or no name pointing at them (a crashed prepare or remove); returns how many. */
  async removeOrphans(): Promise<number> {
    // Listed under the lock, where every directory is either named or not yet
    // begun (reserve writes both under it); an orphan's id is never reused.
    const orphans = await this.locked(() => {
      const named = new Set(this.walk().filter((s) => this.stat(s.name)?.id === s.id).map((s) => s.id));
      let ids: string[] = [];
      try {
        ids = readdirSync(join(this.base, 'snapshots'));
      } catch {
        /* nothing stored yet */
      }
      return ids.filter((id) => !named.has(id));
    });
    for (const id of orphans) await rm(this.dir(id), { recursive: true, force: true });
    return orphans.length;
  }

  async usage(name: string): Promise<number> {
    const info = this.must(name);
    if (info.kind === 'committed' && info.size !== undefined) return info.size;
    return duBytes(this.fsDir(info.id));
  }
}

const ENTRIES_PER_SLICE = 256;

/**
 * Apparent bytes of regular files under dir, each inode once. Each lstat is one
 * short syscall; the walk gives the event loop back every few hundred entries,
 * since a layer may hold many thousand files.
 */
export async function duBytes(dir: string): Promise<number> {
  let total = 0;
  let sinceYield = 0;
  const seen = new Set<number>();
  const walk = async (d: string) => {
    let names: string[];
    try {
      names = readdirSync(d);
    } catch {
      return;
    }
    for (const n of names) {
      if (++sinceYield >= ENTRIES_PER_SLICE) {
        sinceYield = 0;
        await new Promise((resolve) => setImmediate(resolve));
      }
      const p = `${d}/${n}`;
      const st = lstatSync(p);
      if (st.isDirectory()) await walk(p);
      else if (st.isFile() && !seen.has(st.ino)) {
        seen.add(st.ino);
        total += st.size;
      }
    }
  };
  await walk(dir);
  return total;
}
