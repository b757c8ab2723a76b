// Layers → snapshots. A layer is decompressed, its tar applied into an active
// snapshot and its uncompressed digest (diffID) checked against the image
// config before the snapshot is committed under the layer's ChainID; a layer
// whose ChainID is already committed is never unpacked again.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { RuntimeError } from '../../common/errors.js';
import { decompress } from '../archive/decompress.js';
import { readTar, TarFormatError } from '../archive/tarReader.js';
import type { ContentStore } from '../content/store.js';
import type { ImageConfig, Manifest } from '../mediaTypes.js';
import type { Snapshotter } from '../snapshots/snapshotter.js';
import { applyLayer, type ApplyResult } from './applyLayer.js';

/** ChainID(n) = sha256(ChainID(n-1) + " " + DiffID(n)), ChainID(0) = DiffID(0). */
export function chainIds(diffIds: string[]): string[] {
  const out: string[] = [];
  for (const d of diffIds) out.push(out.length ? `sha256:${createHash('sha256').update(`${out[out.length - 1]} ${d}`).digest('hex')}` : d);
  return out;
}

/** The layers of a manifest with their diffIDs and chainIDs, checked for agreement. */
export function layerChain(manifest: Manifest, config: ImageConfig): Array<{ index: number; digest: string; size: number; mediaType: string; diffId: string; chainId: string }> {
  const diffIds = config.rootfs?.diff_ids ?? [];
  if (diffIds.length !== manifest.layers.length) throw new RuntimeError({ step: 'read image config', detail: `the manifest has ${manifest.layers.length} layers, the config ${diffIds.length} diff_ids` });
  const chain = chainIds(diffIds);
  return manifest.layers.map((l, index) => ({ index, digest: l.digest, size: l.size, mediaType: l.mediaType, diffId: diffIds[index], chainId: chain[index] }));
}

/** Decompresses `compressed`, applies it into dir and checks the diffID. */
export async function unpackStream(compressed: Readable, dir: string, whiteouts: 'overlay' | 'delete', diffId: string, what: string): Promise<ApplyResult> {
  const hash = createHash('sha256');
  const tarStream = decompress(compressed, what);
  async function* hashed(): AsyncGenerator<Buffer> {
    for await (const c of tarStream) {
      hash.update(c as Buffer);
      yield c as Buffer;
    }
  }
  let result: ApplyResult;
  try {
    result = await applyLayer(dir, readTar(hashed()), whiteouts, what);
  } catch (e) {
    if (e instanceof TarFormatError) throw new RuntimeError({ step: `unpack ${what}`, detail: e.message });
    throw e;
  } finally {
    tarStream.destroy();
  }
  const actual = `sha256:${hash.digest('hex')}`;
  if (actual !== diffId) throw new RuntimeError({ step: `verify ${what}`, detail: `uncompressed content is ${actual}, the image config says ${diffId}` });
  return result;
}

export const extractKey = (chainId: string) => `extract-${randomBytes(4).toString('hex')}-${chainId}`;

/** Unpacks, from the content store, every layer of the image not yet a snapshot. In order. */
export async function unpackImage(store: ContentStore, snapshotter: Snapshotter, manifest: Manifest, config: ImageConfig, onLayer?: (digest: string, state: string) => void): Promise<string | undefined> {
  const layers = layerChain(manifest, config);
  let parent: string | undefined;
  for (const l of layers) {
    if (!snapshotter.stat(l.chainId)) {
      if (!store.has(l.digest)) throw new RuntimeError({ step: 'unpack image', detail: `layer ${l.digest} is not in the content store` });
      const key = extractKey(l.chainId);
      await snapshotter.prepare(key, parent);
      try {
        onLayer?.(l.digest, 'unpacking');
        await unpackStream(createReadStream(store.blobPath(l.digest)), snapshotter.writableDir(key), snapshotter.whiteouts, l.diffId, `layer ${l.index + 1} (${l.digest.slice(7, 19)})`);
        await snapshotter.commitOnce(l.chainId, key, parent);
      } catch (e) {
        if (snapshotter.stat(key)) await snapshotter.remove(key);
        throw e;
      }
    }
    onLayer?.(l.digest, 'done');
    parent = l.chainId;
  }
  return parent;
}
