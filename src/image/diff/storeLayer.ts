// A writable layer → a gzipped layer blob in the content store, with the
// diffID (sha256 of the uncompressed tar) and the blob's digest and size.
// Tar, hash and gzip run as one stream: no layer is held in memory.
import { createHash } from 'node:crypto';
import { PassThrough, Transform, type Writable } from 'node:stream';
import { createGzip } from 'node:zlib';
import { RuntimeError } from '../../common/errors.js';
import type { ContentStore } from '../content/store.js';
import { MediaType } from '../mediaTypes.js';
import { hasChanges, treeChanges, writeTreeChangesLayer, writeUpperDirLayer, type SkipRule } from './layerTar.js';

export interface StoredLayer {
  diffId: string;
  digest: string;
  size: number;
  mediaType: string;
}

/**
 * Where else the uncompressed tar goes while it is stored (the builder unpacks
 * it into the snapshot of its ChainID in the same pass): a stream that gets
 * every byte, with backpressure, and is ended after the last.
 */
export type TarTap = PassThrough;

/** Streams the tar `write` produces through the diffID hash and gzip into the store. */
async function storeTar(store: ContentStore, write: (out: Writable) => Promise<unknown>, what: string, tap?: TarTap): Promise<StoredLayer> {
  const hash = createHash('sha256');
  // The tar's bytes are hashed on their way into gzip (the diffID is of the uncompressed tar).
  const tar = new Transform({
    highWaterMark: 1 << 20,
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      if (!tap || tap.destroyed || tap.write(chunk)) {
        done(null, chunk);
        return;
      }
      // A tap that stopped reading (its consumer failed) is destroyed: the store goes on.
      let called = false;
      const go = () => {
        if (called) return;
        called = true;
        tap.off('drain', go);
        tap.off('close', go);
        done(null, chunk);
      };
      tap.on('drain', go);
      tap.on('close', go);
    },
    flush(done) {
      tap?.end();
      done();
    },
  });
  const gzip = createGzip();
  tar.pipe(gzip);
  const writing = write(tar).catch((e: unknown) => {
    gzip.destroy(e as Error);
    throw e;
  });
  let stored: { digest: string; size: number };
  try {
    [, stored] = await Promise.all([writing, store.ingestStream(gzip)]);
  } catch (e) {
    if (e instanceof RuntimeError) throw e;
    throw RuntimeError.fromSystem('write the layer', e, { path: what });
  }
  return { diffId: `sha256:${hash.digest('hex')}`, digest: stored.digest, size: stored.size, mediaType: MediaType.ociLayerGzip };
}

/** Stores the changes in overlay upper dir `upper` (over `lowers`, nearest first) as a layer; undefined when there are none. */
export async function storeUpperDirLayer(store: ContentStore, upper: string, skip?: SkipRule, lowers: string[] = [], tap?: () => TarTap): Promise<StoredLayer | undefined> {
  if (!(await hasChanges(upper, skip, lowers))) return undefined;
  return storeTar(store, (out) => writeUpperDirLayer(upper, out, skip), upper, tap?.());
}

/**
 * Stores what full tree `current` changed over full tree `parent` (the copy
 * snapshotter's snapshots; none: everything is new) as a layer; undefined when nothing changed.
 */
export async function storeTreeDiffLayer(store: ContentStore, current: string, parent: string | undefined, skip?: SkipRule, tap?: () => TarTap): Promise<StoredLayer | undefined> {
  const changes = await treeChanges(current, parent, skip);
  if (!changes.length) return undefined;
  return storeTar(store, (out) => writeTreeChangesLayer(current, changes, out), current, tap?.());
}
