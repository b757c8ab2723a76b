// tsctl pull: name → manifest (an index narrowed to one platform) → config →
// layers, downloaded in parallel into the content store. With overlay each
// layer is unpacked while it downloads (the bytes are tapped on their way to
// disk); the copy snapshotter needs its parent first, so it unpacks in order
// after the downloads. The image name is written last: until then nothing
// of a failed pull is visible as an image.
import { PassThrough } from 'node:stream';
import { RuntimeError } from '../common/errors.js';
import { ContentStore, isFailedResume } from './content/store.js';
import { ImageStore, type ImageRecord } from './imageStore.js';
import { isIndex, isManifest, type Descriptor, type ImageConfig, type Index, type Manifest, type Platform } from './mediaTypes.js';
import { formatPlatform, hostPlatform, matches, selectManifest } from './platform.js';
import { silentProgress, type Progress } from './progress.js';
import { formatReference, parseReference } from './reference.js';
import { RegistryClient, type RegistryOptions } from './registry/client.js';
import type { Snapshotter } from './snapshots/snapshotter.js';
import { extractKey, layerChain, unpackImage, unpackStream } from './unpack/unpacker.js';
import { withLease } from './gcLease.js';

export interface PullOptions extends RegistryOptions {
  platform?: Platform;
  progress?: Progress;
  /** Layers downloaded at once. */
  concurrency?: number;
  /** Told when a mirror failed and the registry itself is asked instead. */
  onWarning?: (message: string) => void;
}

export async function pull(dataRoot: string, snapshotter: Snapshotter, name: string, opts: PullOptions = {}): Promise<ImageRecord> {
  return withLease(dataRoot, async () => {
    const registry = parseReference(name).registry;
    const mirror = opts.mirrors?.[registry];
    if (!mirror) return pullLeased(dataRoot, snapshotter, name, opts);
    try {
      return await pullLeased(dataRoot, snapshotter, name, opts);
    } catch (e) {
      // dockerd's registry-mirrors: a mirror that fails is skipped, the registry itself is
      // asked. What the mirror already delivered is content-addressed and kept.
      opts.onWarning?.(`mirror ${mirror} for ${registry} failed: ${(e as Error).message}; pulling from ${registry} itself`);
      const others = Object.fromEntries(Object.entries(opts.mirrors!).filter(([r]) => r !== registry));
      return await pullLeased(dataRoot, snapshotter, name, { ...opts, mirrors: others });
    }
  });
}

async function pullLeased(dataRoot: string, snapshotter: Snapshotter, name: string, opts: PullOptions = {}): Promise<ImageRecord> {
  const ref = parseReference(name);
  const want = opts.platform ?? hostPlatform();
  const progress = opts.progress ?? silentProgress;
  const store = new ContentStore(dataRoot);
  const client = new RegistryClient(ref, opts);

  const top = await client.manifest(ref.digest ?? ref.tag!);
  store.write(top.data, top.digest);
  const target: Descriptor = { mediaType: top.mediaType, digest: top.digest, size: top.data.length };
  let manifestDesc = target;
  let manifestData = top.data;
  if (isIndex(top.mediaType)) {
    const index = JSON.parse(top.data.toString('utf8')) as Index;
    const chosen = selectManifest(index.manifests ?? [], want);
    if (!chosen) {
      const have = (index.manifests ?? []).map((m) => formatPlatform(m.platform)).filter((p) => p !== 'unknown/unknown');
      throw new RuntimeError({ step: 'select platform', path: formatReference(ref), detail: `no manifest for ${formatPlatform(want)}; the image has ${have.join(', ') || 'none'} (use --platform)` });
    }
    const m = await client.manifest(chosen.digest);
    store.write(m.data, chosen.digest);
    manifestDesc = { mediaType: m.mediaType, digest: m.digest, size: m.data.length, platform: chosen.platform };
    manifestData = m.data;
  } else if (!isManifest(top.mediaType)) {
    throw new RuntimeError({ step: 'read manifest', path: formatReference(ref), detail: `unsupported media type ${JSON.stringify(top.mediaType)}` });
  }
  const manifest = JSON.parse(manifestData.toString('utf8')) as Manifest;
  if (!manifest.config?.digest || !Array.isArray(manifest.layers)) throw new RuntimeError({ step: 'read manifest', path: manifestDesc.digest, detail: 'no config or layers' });
  progress.resolved?.({ target: target.digest, config: manifest.config.digest });

  await onceMoreAfterFailedResume(() => store.ingest(manifest.config, (offset) => client.blob(manifest.config, offset), { source: client.blobUrl(manifest.config.digest) }), `config ${manifest.config.digest}`, opts.onWarning);
  const config = store.readJson<ImageConfig>(manifest.config.digest);
  if (!isIndex(top.mediaType) && !matches(want, { os: config.os, architecture: config.architecture, variant: config.variant })) {
    throw new RuntimeError({ step: 'select platform', path: formatReference(ref), detail: `the image is ${formatPlatform({ os: config.os, architecture: config.architecture, variant: config.variant })}, not ${formatPlatform(want)} (use --platform)` });
  }

  const layers = layerChain(manifest, config);
  const streaming = snapshotter.whiteouts === 'overlay';
  const extracted = new Map<number, string>(); // layer index → active extract key
  const failures: unknown[] = [];
  let next = 0;
  /** Downloads layer `l` into the store and, when streaming, unpacks it into its extract snapshot as it comes. */
  const fetchLayer = async (l: (typeof layers)[number], haveSnapshot: boolean) => {
    const id = l.digest;
    // A layer of the chain is its own descriptor (mediaType, digest, size).
    const download = (tap?: (chunk: Buffer) => Promise<void>) =>
      store.ingest(l, (offset) => client.blob(l, offset), { source: client.blobUrl(l.digest), tap, progress: (d) => progress.update(id, d) });
    if (!streaming || haveSnapshot) {
      await download();
      progress.status(id, 'downloaded');
      return;
    }
    // Download and unpack at once: the blob's bytes are tapped into the unpacker.
    // What a failed attempt unpacked goes; this one starts empty.
    const before = extracted.get(l.index);
    if (before && snapshotter.stat(before)) await snapshotter.remove(before);
    const key = extractKey(l.chainId);
    await snapshotter.prepare(key, undefined);
    extracted.set(l.index, key);
    const pipe = new PassThrough({ highWaterMark: 1 << 20 });
    let unpackError: unknown;
    const unpacking = unpackStream(pipe, snapshotter.writableDir(key), 'overlay', l.diffId, `layer ${l.index + 1} (${l.digest.slice(7, 19)})`).catch((e) => {
      unpackError = e;
      pipe.resume(); // keep the download flowing to its own error or end
    });
    const tap = async (chunk: Buffer) => {
      if (unpackError) throw unpackError;
      if (!pipe.write(chunk)) await new Promise<void>((r) => { pipe.once('drain', r); pipe.once('close', r); });
    };
    try {
      await download(tap);
      pipe.end();
    } catch (e) {
      pipe.destroy(e as Error);
      await unpacking;
      throw e;
    }
    await unpacking;
    if (unpackError) throw unpackError;
    progress.status(id, 'unpacked');
  };
  const worker = async () => {
    while (next < layers.length && failures.length === 0) {
      const l = layers[next++];
      const id = l.digest;
      progress.layer(id, l.size);
      const haveSnapshot = !!snapshotter.stat(l.chainId);
      if (haveSnapshot && store.has(l.digest)) {
        progress.status(id, 'already here');
        continue;
      }
      await onceMoreAfterFailedResume(() => fetchLayer(l, haveSnapshot), `layer ${l.digest}`, opts.onWarning);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(opts.concurrency ?? 3, layers.length) }, () => worker().catch((e) => { failures.push(e); })));
    if (failures.length) throw failures[0];
    if (streaming) {
      // Commit in order: a layer's parent must be committed before it.
      let parent: string | undefined;
      for (const l of layers) {
        const key = extracted.get(l.index);
        if (key) {
          await snapshotter.commitOnce(l.chainId, key, parent);
          extracted.delete(l.index);
        }
        parent = l.chainId;
      }
    } else {
      await unpackImage(store, snapshotter, manifest, config, (d, s) => progress.status(d, s));
    }
  } finally {
    for (const key of extracted.values()) if (snapshotter.stat(key)) await snapshotter.remove(key);
    progress.done();
  }
  const record: ImageRecord = { name: formatReference(ref), target, manifest: manifestDesc, config: manifest.config.digest, updated: new Date().toISOString() };
  new ImageStore(dataRoot).put(record);
  return record;
}

/**
 * A resumed download that did not add up (its partial is gone by then) is fetched once more
 * from the first byte, as a fresh download would have been; a second failure is the answer.
 */
async function onceMoreAfterFailedResume(fetchIt: () => Promise<void>, what: string, warn?: (message: string) => void): Promise<void> {
  try {
    await fetchIt();
  } catch (e) {
    if (!isFailedResume(e)) throw e;
    warn?.(`${what}: ${(e as Error).message}, after resuming a partial download: fetching it again from the start`);
    await fetchIt();
  }
}
