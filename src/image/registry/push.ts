// A push to a Docker Registry v2 / OCI distribution registry: each layer blob
// is checked (HEAD), else mounted from another repository of the same registry
// when one is known to hold it, else uploaded (one PUT when small, PATCH
// chunks then PUT when not); then the config blob, then the manifest as stored
// (its digest stays the one the image has here). Auth is the client's, with a
// push,pull scope.
import { open } from 'node:fs/promises';
import { RuntimeError } from '../../common/errors.js';
import { ContentStore } from '../content/store.js';
import type { ImageRecord } from '../imageStore.js';
import type { Descriptor, Manifest } from '../mediaTypes.js';
import { silentProgress, type Progress } from '../progress.js';
import { formatReference, parseReference, type ImageReference } from '../reference.js';
import { httpError, RegistryClient, type RegistryOptions } from './client.js';

export interface PushOptions extends RegistryOptions {
  progress?: Progress;
  /** Bytes per PATCH of a chunked upload; a blob up to this size goes in one PUT. */
  chunkSize?: number;
  /** Blobs uploaded at once. */
  concurrency?: number;
  /** Another repository of the same registry that holds this blob (a cross-repository mount), if one is known. */
  mountFrom?: (digest: string) => string | undefined;
}

export interface PushResult {
  /** The repository and tag pushed to, in full. */
  name: string;
  /** The manifest's digest, media type and size as the registry has it now. */
  digest: string;
  mediaType: string;
  size: number;
}

/** How a blob got to the registry (progress states). */
export type BlobOutcome = 'exists' | 'mounted' | 'pushed';

export const DEFAULT_CHUNK = 4 << 20;

/** The step a request of a push is, for messages: `push 127.0.0.1:5000/x: upload blob sha256:...`. */
const stepOf = (ref: ImageReference, what: string) => `push ${ref.registry}/${ref.repository}: ${what}`;

/** The Location of an upload, absolute (registries may answer a path). */
export function uploadUrl(location: string | null, base: string): string {
  if (!location) throw new RuntimeError({ step: 'start blob upload', path: base, detail: 'the registry answered without a Location header' });
  return new URL(location, base).toString();
}

/** `url` with `?digest=` added (an upload URL may carry its own query already). */
export function withDigest(url: string, digest: string): string {
  const u = new URL(url);
  u.searchParams.set('digest', digest);
  return u.toString();
}

/** Pushes the image `record` names as `destination` (in full: registry/repository:tag). */
export async function push(dataRoot: string, record: ImageRecord, destination: string, opts: PushOptions = {}): Promise<PushResult> {
  const ref = parseReference(destination);
  if (!ref.tag) throw new RuntimeError({ kind: 'invalid-argument', step: 'push', path: destination, detail: 'push a tag, not a digest' });
  const progress = opts.progress ?? silentProgress;
  const store = new ContentStore(dataRoot);
  const client = new RegistryClient(ref, { ...opts, actions: 'push,pull' });
  const origin = client.base.replace(/\/v2\/.*$/, '');
  const manifestData = store.read(record.manifest.digest);
  let manifest: Manifest;
  try {
    manifest = JSON.parse(manifestData.toString('utf8')) as Manifest;
  } catch (e) {
    throw new RuntimeError({ step: stepOf(ref, 'read manifest'), path: record.manifest.digest, detail: (e as Error).message });
  }
  if (!manifest.config?.digest || !Array.isArray(manifest.layers)) throw new RuntimeError({ step: stepOf(ref, 'read manifest'), path: record.manifest.digest, detail: 'no config or layers' });
  for (const d of [manifest.config, ...manifest.layers]) {
    if (!store.has(d.digest)) throw new RuntimeError({ step: stepOf(ref, 'read blob'), path: d.digest, detail: `the image's blob ${d.digest} is not in the content store (a foreign layer, or the store was modified)` });
  }
  const chunkSize = opts.chunkSize ?? DEFAULT_CHUNK;

  const exists = async (d: Descriptor): Promise<boolean> => {
    const url = `${client.base}/blobs/${d.digest}`;
    const step = stepOf(ref, `check blob ${d.digest}`);
    const res = await client.request('HEAD', url, {}, step);
    await res.body?.cancel();
    if (res.ok) return true;
    if (res.status === 404) return false;
    throw await httpError(step, url, res);
  };

  /** A mount when `from` is known (201: done), else an upload session's URL. */
  const start = async (d: Descriptor): Promise<string | 'mounted'> => {
    const from = opts.mountFrom?.(d.digest);
    const query = from && from !== ref.repository ? `?mount=${encodeURIComponent(d.digest)}&from=${encodeURIComponent(from)}` : '';
    const url = `${client.base}/blobs/uploads/${query}`;
    const step = stepOf(ref, query ? `mount blob ${d.digest} from ${from}` : `start upload of ${d.digest}`);
    const res = await client.request('POST', url, { 'content-length': '0' }, step, Buffer.alloc(0));
    await res.body?.cancel().catch(() => undefined);
    if (res.status === 201 && query) return 'mounted';
    if (res.status !== 202) throw await httpError(step, url, res);
    return uploadUrl(res.headers.get('location'), url);
  };

  /** `id`: the layer to report progress for (none for the config). */
  const upload = async (d: Descriptor, id?: string): Promise<BlobOutcome> => {
    let url = await start(d);
    if (url === 'mounted') return 'mounted';
    const file = await open(store.blobPath(d.digest));
    try {
      let offset = 0;
      const size = d.size;
      const buf = Buffer.alloc(Math.min(chunkSize, Math.max(size, 1)));
      if (size <= chunkSize) {
        // Monolithic: the whole blob with the closing PUT.
        const { bytesRead } = await file.read(buf, 0, size, 0);
        const step = stepOf(ref, `upload blob ${d.digest}`);
        const res = await client.request('PUT', withDigest(url, d.digest), { 'content-type': 'application/octet-stream', 'content-length': String(bytesRead) }, step, buf.subarray(0, bytesRead));
        await res.body?.cancel().catch(() => undefined);
        if (res.status !== 201) throw await httpError(step, url, res);
        if (id) progress.update(id, size);
        return 'pushed';
      }
      while (offset < size) {
        const { bytesRead } = await file.read(buf, 0, Math.min(chunkSize, size - offset), offset);
        if (bytesRead === 0) throw new RuntimeError({ step: stepOf(ref, `read blob ${d.digest}`), path: store.blobPath(d.digest), detail: `ended at ${offset} of ${size} bytes` });
        const step = stepOf(ref, `upload blob ${d.digest} (bytes ${offset}-${offset + bytesRead - 1})`);
        const res = await client.request('PATCH', url, { 'content-type': 'application/octet-stream', 'content-length': String(bytesRead), 'content-range': `${offset}-${offset + bytesRead - 1}` }, step, Buffer.from(buf.subarray(0, bytesRead)));
        await res.body?.cancel().catch(() => undefined);
        if (res.status !== 202) throw await httpError(step, url, res);
        url = uploadUrl(res.headers.get('location'), url);
        offset += bytesRead;
        if (id) progress.update(id, offset);
      }
      const step = stepOf(ref, `finish upload of ${d.digest}`);
      const res = await client.request('PUT', withDigest(url, d.digest), { 'content-length': '0' }, step, Buffer.alloc(0));
      await res.body?.cancel().catch(() => undefined);
      if (res.status !== 201) throw await httpError(step, url, res);
      return 'pushed';
    } finally {
      await file.close();
    }
  };

  const layers = manifest.layers;
  const concurrency = Math.min(opts.concurrency ?? 3, layers.length);
  for (const l of layers) progress.layer(l.digest, l.size);
  // Those past the first uploads wait for a slot, as dockerd says.
  for (const l of layers.slice(concurrency)) progress.status(l.digest, 'waiting');
  const failures: unknown[] = [];
  let next = 0;
  const worker = async () => {
    while (next < layers.length && failures.length === 0) {
      const l = layers[next++];
      if (await exists(l)) {
        progress.status(l.digest, 'exists' satisfies BlobOutcome);
        continue;
      }
      progress.status(l.digest, 'pushing');
      progress.status(l.digest, await upload(l, l.digest));
    }
  };
  try {
    await Promise.all(Array.from({ length: concurrency }, () => worker().catch((e) => { failures.push(e); })));
    if (failures.length) throw failures[0];
    if (!(await exists(manifest.config))) await upload(manifest.config);
    const mediaType = record.manifest.mediaType || manifest.mediaType || 'application/vnd.oci.image.manifest.v1+json';
    const url = `${client.base}/manifests/${ref.tag}`;
    const step = stepOf(ref, `put manifest ${ref.tag}`);
    const res = await client.request('PUT', url, { 'content-type': mediaType }, step, manifestData);
    await res.body?.cancel().catch(() => undefined);
    if (res.status !== 201) throw await httpError(step, url, res);
    const digest = record.manifest.digest;
    const claimed = res.headers.get('docker-content-digest');
    if (claimed && claimed !== digest) throw new RuntimeError({ step, path: url, detail: `the registry stored the manifest as ${claimed}, not ${digest}` });
    return { name: formatReference(ref), digest, mediaType, size: manifestData.length };
  } finally {
    progress.done();
  }
}
