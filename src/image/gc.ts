// Garbage collection (tsctl prune) and disk usage (tsctl system df). The roots
// are image names and containers; everything they do not reach goes:
// blobs, committed layer snapshots, leftovers of crashed pulls (extract
// snapshots, orphan directories, partial downloads).
import { rm } from 'node:fs/promises';
import { ContainerStore } from './containers.js';
import { ContentStore } from './content/store.js';
import { ImageStore, type ImageRecord } from './imageStore.js';
import { isIndex, type ImageConfig, type Index, type Manifest } from './mediaTypes.js';
import { SnapshotStore, type Snapshotter } from './snapshots/snapshotter.js';
import { layerChain } from './unpack/unpacker.js';
import { withCollectorLock } from './gcLease.js';

interface Reach {
  blobs: Set<string>;
  /** chainId → image names using it */
  layers: Map<string, Set<string>>;
}

function reach(store: ContentStore, images: ImageRecord[]): Reach {
  const r: Reach = { blobs: new Set(), layers: new Map() };
  for (const img of images) {
    r.blobs.add(img.target.digest);
    if (isIndex(img.target.mediaType) && store.has(img.target.digest)) {
      // Keep the index and whichever of its manifests are here.
      for (const m of store.readJson<Index>(img.target.digest).manifests ?? []) if (store.has(m.digest)) r.blobs.add(m.digest);
    }
    r.blobs.add(img.manifest.digest);
    r.blobs.add(img.config);
    if (!store.has(img.manifest.digest) || !store.has(img.config)) continue;
    const manifest = store.readJson<Manifest>(img.manifest.digest);
    for (const l of layerChain(manifest, store.readJson<ImageConfig>(img.config))) {
      r.blobs.add(l.digest);
      if (!r.layers.has(l.chainId)) r.layers.set(l.chainId, new Set());
      r.layers.get(l.chainId)!.add(img.name);
    }
  }
  return r;
}

export interface PruneResult {
  blobs: number;
  blobBytes: number;
  snapshots: number;
  leftovers: number;
}

export function prune(dataRoot: string, snapshotter: Snapshotter): Promise<PruneResult> {
  return withCollectorLock(dataRoot, () => collect(dataRoot, snapshotter));
}

/**
 * What a crash left in the snapshot store (a daemon does this at start): the extract
 * snapshots (a layer being unpacked) of pulls and builds that were cut short — those that run
 * hold the lease for their whole time and name their snapshots under it, so any found under
 * the collector's lock belongs to none — and the directories a prepare or a remove left
 * without metadata or name (kill -9 during `rm -f` deletes the name first, the tree after).
 */
export function removeSnapshotLeftovers(dataRoot: string, snapshotter: Snapshotter): Promise<number> {
  return withCollectorLock(dataRoot, async () => {
    let n = 0;
    for (const s of snapshotter.walk()) {
      if (s.kind !== 'active' || !s.name.startsWith('extract-')) continue;
      await snapshotter.remove(s.name);
      n++;
    }
    if (snapshotter instanceof SnapshotStore) n += await snapshotter.removeOrphans();
    return n;
  });
}

async function collect(dataRoot: string, snapshotter: Snapshotter): Promise<PruneResult> {
  const store = new ContentStore(dataRoot);
  const r = reach(store, new ImageStore(dataRoot).list());
  const live = new Set<string>(r.layers.keys());
  for (const c of new ContainerStore(dataRoot).list()) live.add(c.snapshotKey);
  const result: PruneResult = { blobs: 0, blobBytes: 0, snapshots: 0, leftovers: 0 };
  for (const d of store.list()) {
    if (r.blobs.has(d)) continue;
    result.blobBytes += store.size(d) ?? 0;
    store.remove(d);
    result.blobs++;
  }
  // Snapshots a live one is built on are live too.
  const all = snapshotter.walk();
  const byName = new Map(all.map((s) => [s.name, s]));
  for (const name of [...live]) for (let p = byName.get(name)?.parent; p && !live.has(p); p = byName.get(p)?.parent) live.add(p);
  // Children before parents: remove the deepest first.
  const depth = (n: string) => { let d = 0; for (let p = byName.get(n)?.parent; p; p = byName.get(p)?.parent) d++; return d; };
  for (const s of all.filter((x) => !live.has(x.name)).sort((a, b) => depth(b.name) - depth(a.name))) {
    await snapshotter.remove(s.name);
    result.snapshots++;
  }
  if (snapshotter instanceof SnapshotStore) result.leftovers += await snapshotter.removeOrphans();
  for (const f of store.ingests()) {
    await rm(f, { force: true });
    result.leftovers++;
  }
  return result;
}

export interface DiskUsage {
  images: number;
  layers: number;
  /** Bytes of unpacked layers used by two images or more (stored once). */
  sharedBytes: number;
  /** Bytes of unpacked layers used by exactly one image. */
  uniqueBytes: number;
  /** Bytes of unpacked layers no image uses (prune removes them). */
  unusedBytes: number;
  contentBytes: number;
  containers: number;
  containerBytes: number;
  perImage: Array<{ name: string; layers: number; sharedBytes: number; uniqueBytes: number }>;
}

export async function diskUsage(dataRoot: string, snapshotter: Snapshotter): Promise<DiskUsage> {
  const store = new ContentStore(dataRoot);
  const images = new ImageStore(dataRoot).list();
  const r = reach(store, images);
  const u: DiskUsage = { images: images.length, layers: 0, sharedBytes: 0, uniqueBytes: 0, unusedBytes: 0, contentBytes: 0, containers: 0, containerBytes: 0, perImage: [] };
  const sizeOf = new Map<string, number>();
  for (const s of snapshotter.walk()) {
    if (s.kind !== 'committed') continue;
    const size = await snapshotter.usage(s.name);
    sizeOf.set(s.name, size);
    u.layers++;
    const users = r.layers.get(s.name)?.size ?? 0;
    if (users >= 2) u.sharedBytes += size;
    else if (users === 1) u.uniqueBytes += size;
    else u.unusedBytes += size;
  }
  for (const d of store.list()) u.contentBytes += store.size(d) ?? 0;
  for (const c of new ContainerStore(dataRoot).list()) {
    u.containers++;
    if (snapshotter.stat(c.snapshotKey)) u.containerBytes += await snapshotter.usage(c.snapshotKey);
  }
  for (const img of images) {
    const mine = [...r.layers.entries()].filter(([, users]) => users.has(img.name));
    u.perImage.push({
      name: img.name,
      layers: mine.length,
      sharedBytes: mine.filter(([, users]) => users.size >= 2).reduce((a, [c]) => a + (sizeOf.get(c) ?? 0), 0),
      uniqueBytes: mine.filter(([, users]) => users.size === 1).reduce((a, [c]) => a + (sizeOf.get(c) ?? 0), 0),
    });
  }
  return u;
}
