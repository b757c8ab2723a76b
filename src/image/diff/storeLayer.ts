// A writable layer → a gzipped layer blob in the content store, with the
// diffID (sha256 of the uncompressed tar) and the blob's digest and size.
// Tar, hash and gzip run as one stream: no layer is held in memory.
import { createHash } from 'node:crypto';
import { Transform } from 'node:stream';
import { createGzip } from 'node:zlib';
import { RuntimeError } from '../../common/errors.js';
import type { ContentStore } from '../content/store.js';
import { MediaType } from '../mediaTypes.js';
import { hasChanges, writeUpperDirLayer, type SkipRule } from './layerTar.js';

export interface StoredLayer {
  diffId: string;
  digest: string;
  size: number;
  mediaType: string;
}

/** Stores the changes in overlay upper dir `upper` as a layer. */
export async function storeUpperDirLayer(store: ContentStore, upper: string, skip?: SkipRule): Promise<StoredLayer | undefined> {
  if (!(await hasChanges(upper, skip))) return undefined;
  const hash = createHash('sha256');
  // The tar's bytes are hashed on their way into gzip (the diffID is of the uncompressed tar).
  const tar = new Transform({
    highWaterMark: 1 << 20,
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      done(null, chunk);
    },
  });
  const gzip = createGzip();
  tar.pipe(gzip);
  const writing = writeUpperDirLayer(upper, tar, skip).catch((e: unknown) => {
    gzip.destroy(e as Error);
    throw e;
  });
  let stored: { digest: string; size: number };
  try {
    [, stored] = await Promise.all([writing, store.ingestStream(gzip)]);
  } catch (e) {
    if (e instanceof RuntimeError) throw e;
    throw RuntimeError.fromSystem('write the layer', e, { path: upper });
  }
  return { diffId: `sha256:${hash.digest('hex')}`, digest: stored.digest, size: stored.size, mediaType: MediaType.ociLayerGzip };
}
