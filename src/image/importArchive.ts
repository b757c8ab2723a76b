// tsctl import: an OCI image layout (directory or tar) or a `docker save`
// archive (legacy or with an OCI layout inside) → content store, snapshots
// and image names. Every blob is checked against its digest as it is stored.
import { createReadStream, lstatSync, readdirSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { join, posix } from 'node:path';
import { Readable } from 'node:stream';
import { RuntimeError } from '../common/errors.js';
import { readTar, TarFormatError, type TarEntry } from './archive/tarReader.js';
import { decompress } from './archive/decompress.js';
import { ContentStore, sha256 } from './content/store.js';
import { ImageStore, type ImageRecord } from './imageStore.js';
import { isIndex, MediaType, type Descriptor, type ImageConfig, type Index, type Manifest, type Platform } from './mediaTypes.js';
import { formatPlatform, hostPlatform, matches, selectManifest } from './platform.js';
import { formatReference, parseReference } from './reference.js';
import type { Snapshotter } from './snapshots/snapshotter.js';
import { unpackImage } from './unpack/unpacker.js';
import { withLease } from './gcLease.js';

export interface ImportOptions {
  /** Name for an image the archive does not name (or to rename a single image). */
  name?: string;
  platform?: Platform;
}

const SMALL = 4 << 20;
const BLOB_RE = /^blobs\/sha256\/([a-f0-9]{64})$/;

interface Collected {
  small: Map<string, Buffer>;
  /** archive path → blob digest (verified blobs/ and layer.tar files). */
  blobs: Map<string, string>;
  links: Map<string, string>;
}

async function collect(entries: AsyncIterable<TarEntry>, store: ContentStore, added: Set<string>, source: string): Promise<Collected> {
  const c: Collected = { small: new Map(), blobs: new Map(), links: new Map() };
  for await (const e of entries) {
    const path = posix.normalize(e.path).replace(/^(\.\/)+|^\/+/, '');
    if (e.type === 'symlink' || e.type === 'hardlink') {
      c.links.set(path, e.type === 'symlink' ? posix.join(posix.dirname(path), e.linkname) : posix.normalize(e.linkname));
      continue;
    }
    if (e.type !== 'file') continue;
    const blob = BLOB_RE.exec(path);
    if (blob) {
      const digest = `sha256:${blob[1]}`;
      if (!store.has(digest)) added.add(digest);
      try {
        await store.ingest({ mediaType: 'application/octet-stream', digest, size: e.size }, async () => ({ offset: 0, body: e.body }), { source: path });
      } catch (err) {
        // An archive is not resumed like a download: its partial blob and lock go.
        for (const suffix of ['partial', 'lock']) rmSync(join(store.ingestDir, `${blob[1]}.${suffix}`), { force: true });
        if (!(err instanceof RuntimeError)) throw err;
        // The store speaks of downloads and registries; here the bytes come from the archive.
        const why = (err.detail ?? err.message).replace(/; the partial download is kept.*$/, '').replace(/^the registry sent content/, 'the archive holds content');
        throw new RuntimeError({ kind: 'invalid-argument', step: 'import', path: source, detail: `${path}: ${err.step.replace(/^download /, 'read ')}: ${why}` });
      }
      c.blobs.set(path, digest);
    } else if (path.endsWith('layer.tar')) {
      const before = new Set(store.list());
      const { digest } = await store.ingestStream(e.body);
      if (!before.has(digest)) added.add(digest);
      c.blobs.set(path, digest);
    } else if (e.size <= SMALL) {
      const parts: Buffer[] = [];
      for await (const b of e.body) parts.push(b);
      c.small.set(path, Buffer.concat(parts));
    }
  }
  return c;
}

/** A directory read as tar entries, so both sources share one path. */
async function* walkDir(root: string, rel = ''): AsyncGenerator<TarEntry> {
  for (const name of readdirSync(join(root, rel))) {
    const p = rel ? `${rel}/${name}` : name;
    const full = join(root, p);
    const st = lstatSync(full);
    const base = { path: p, mode: st.mode & 0o7777, uid: 0, gid: 0, mtime: 0, linkname: '', devmajor: 0, devminor: 0, xattrs: {} };
    if (st.isDirectory()) yield* walkDir(root, p);
    else if (st.isSymbolicLink()) yield { ...base, type: 'symlink', size: 0, linkname: readlinkSync(full), body: (async function* () {})() };
    else if (st.isFile()) yield { ...base, type: 'file', size: st.size, body: createReadStream(full) as AsyncIterable<Buffer> };
  }
}

export async function importArchive(dataRoot: string, snapshotter: Snapshotter, source: string, opts: ImportOptions = {}): Promise<ImageRecord[]> {
  return withLease(dataRoot, () => importArchiveLeased(dataRoot, snapshotter, source, opts));
}

async function importArchiveLeased(dataRoot: string, snapshotter: Snapshotter, source: string, opts: ImportOptions = {}): Promise<ImageRecord[]> {
  let st;
  try {
    st = statSync(source);
  } catch (e) {
    throw RuntimeError.fromSystem('import', e, { path: source });
  }
  return importEntries(dataRoot, snapshotter, source, st.isDirectory() ? walkDir(source) : readTar(decompress(createReadStream(source), source)), opts);
}

/**
 * docker load: an archive streamed in (a request body, gzip or plain) → images here.
 * `what` names the source in errors.
 */
export async function importStream(dataRoot: string, snapshotter: Snapshotter, body: AsyncIterable<Uint8Array>, what: string, opts: ImportOptions = {}): Promise<ImageRecord[]> {
  return withLease(dataRoot, () => importEntries(dataRoot, snapshotter, what, readTar(decompress(Readable.from(body), what)), opts));
}

/** A failed import leaves no blob it brought (a blob that was here before stays). */
async function importEntries(dataRoot: string, snapshotter: Snapshotter, source: string, entries: AsyncIterable<TarEntry>, opts: ImportOptions): Promise<ImageRecord[]> {
  const store = new ContentStore(dataRoot);
  const added = new Set<string>();
  try {
    return await importCollected(dataRoot, snapshotter, source, entries, opts, store, added);
  } catch (e) {
    const kept = new Set(new ImageStore(dataRoot).list().flatMap((r) => [r.manifest.digest, r.target.digest, r.config]));
    for (const d of added) if (!kept.has(d)) store.remove(d);
    throw e;
  }
}

async function importCollected(dataRoot: string, snapshotter: Snapshotter, source: string, entries: AsyncIterable<TarEntry>, opts: ImportOptions, store: ContentStore, added: Set<string>): Promise<ImageRecord[]> {
  let c: Collected;
  try {
    c = await collect(entries, store, added, source);
  } catch (e) {
    if (e instanceof TarFormatError) throw new RuntimeError({ kind: 'invalid-argument', step: 'import', path: source, detail: e.message });
    throw e;
  }
  const resolve = (p: string): string | undefined => {
    for (let i = 0, cur = posix.normalize(p); i < 16; i++) {
      if (c.blobs.has(cur)) return c.blobs.get(cur);
      const small = c.small.get(cur);
      if (small) {
        // A config in a legacy docker save.
        const had = store.has(sha256(small));
        const d = store.write(small);
        if (!had) added.add(d);
        return d;
      }
      const next = c.links.get(cur);
      if (!next) return undefined;
      cur = next;
    }
    return undefined;
  };
  const want = opts.platform ?? hostPlatform();
  const found: Array<{ name?: string; target: Descriptor; manifest: Descriptor }> = [];
  const index = c.small.get('index.json');
  const dockerManifest = c.small.get('manifest.json');
  if (index) {
    const doc = parseIndexJson(index, source);
    for (const d of doc.manifests) {
      if (!store.has(d.digest)) throw new RuntimeError({ step: 'import', path: source, detail: `index.json names ${d.digest}, which the archive does not contain` });
      let manifest: Descriptor = d;
      if (isIndex(d.mediaType)) {
        const nested = store.readJson<Index>(d.digest);
        const chosen = selectManifest(nested.manifests ?? [], want);
        if (!chosen) throw new RuntimeError({ step: 'select platform', path: source, detail: `no manifest for ${formatPlatform(want)}` });
        manifest = chosen;
      }
      const ref = d.annotations?.['io.containerd.image.name'] ?? d.annotations?.['org.opencontainers.image.ref.name'];
      found.push({ name: ref, target: d, manifest });
    }
  } else if (dockerManifest) {
    const doc = parseDockerManifest(dockerManifest, source);
    for (const img of doc) {
      const configDigest = resolve(img.Config);
      if (!configDigest) throw new RuntimeError({ step: 'import', path: source, detail: `manifest.json names config ${img.Config}, which the archive does not contain` });
      const layers: Descriptor[] = img.Layers.map((p) => {
        const digest = resolve(p);
        if (!digest) throw new RuntimeError({ step: 'import', path: source, detail: `manifest.json names layer ${p}, which the archive does not contain` });
        return { mediaType: MediaType.ociLayer, digest, size: store.size(digest)! };
      });
      // A docker save has no manifest: write the OCI one it implies.
      const m: Manifest = { schemaVersion: 2, mediaType: MediaType.ociManifest, config: { mediaType: MediaType.ociConfig, digest: configDigest, size: store.size(configDigest)! }, layers };
      const data = Buffer.from(JSON.stringify(m));
      if (!store.has(sha256(data))) added.add(sha256(data));
      const digest = store.write(data);
      const desc = { mediaType: MediaType.ociManifest, digest, size: data.length };
      const tags = img.RepoTags?.length ? img.RepoTags : [undefined];
      for (const t of tags) found.push({ name: t, target: desc, manifest: desc });
    }
  } else {
    throw new RuntimeError({ step: 'import', path: source, detail: 'neither an OCI image layout (index.json) nor a docker save archive (manifest.json)' });
  }
  if (opts.name && found.length !== 1 && new Set(found.map((f) => f.manifest.digest)).size !== 1) {
    throw new RuntimeError({ step: 'import', path: source, detail: `--name names one image; the archive has ${found.length}` });
  }
  const images = new ImageStore(dataRoot);
  const out: ImageRecord[] = [];
  for (const f of found) {
    const raw = opts.name ?? f.name;
    if (!raw) throw new RuntimeError({ step: 'import', path: source, detail: `image ${f.manifest.digest} has no name in the archive; give one with --name` });
    // An OCI ref.name may be a bare tag ("latest"); that needs --name too.
    const name = formatReference(parseReference(raw));
    const manifest = store.readJson<Manifest>(f.manifest.digest);
    const config = store.readJson<ImageConfig>(manifest.config.digest);
    if (!matches(want, { os: config.os, architecture: config.architecture, variant: config.variant })) {
      throw new RuntimeError({ step: 'select platform', path: source, detail: `image ${raw} is ${formatPlatform({ os: config.os, architecture: config.architecture })}, not ${formatPlatform(want)}` });
    }
    for (const l of manifest.layers) if (!store.has(l.digest)) throw new RuntimeError({ step: 'import', path: source, detail: `layer ${l.digest} of ${raw} is not in the archive` });
    await unpackImage(store, snapshotter, manifest, config);
    const record: ImageRecord = { name, target: f.target, manifest: f.manifest, config: manifest.config.digest, updated: new Date().toISOString() };
    images.put(record);
    out.push(record);
  }
  return out;
}

const bad = (source: string, file: string, why: string) => new RuntimeError({ kind: 'invalid-argument', step: 'import', path: source, detail: `${file}: ${why}` });
const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const isDigestText = (v: unknown): v is string => typeof v === 'string' && /^sha256:[a-f0-9]{64}$/.test(v);

function parseJson(data: Buffer, source: string, file: string): unknown {
  try {
    return JSON.parse(data.toString('utf8'));
  } catch (e) {
    throw bad(source, file, `not JSON: ${(e as Error).message}`);
  }
}

/** An archive's index.json, checked field by field (it is untrusted input). */
export function parseIndexJson(data: Buffer, source: string): Index {
  const doc = parseJson(data, source, 'index.json');
  if (!isObject(doc) || !Array.isArray(doc.manifests)) throw bad(source, 'index.json', 'not an OCI index (no manifests array)');
  doc.manifests.forEach((d, i) => {
    if (!isObject(d) || !isDigestText(d.digest) || typeof d.mediaType !== 'string' || typeof d.size !== 'number') throw bad(source, 'index.json', `manifests[${i}] is not a descriptor (mediaType, sha256 digest, size)`);
    if (d.annotations !== undefined && (!isObject(d.annotations) || Object.values(d.annotations).some((v) => typeof v !== 'string'))) throw bad(source, 'index.json', `manifests[${i}].annotations is not a map of strings`);
  });
  return doc as unknown as Index;
}

/** A docker save's manifest.json: [{ Config, RepoTags, Layers }], checked. */
export function parseDockerManifest(data: Buffer, source: string): Array<{ Config: string; RepoTags?: string[] | null; Layers: string[] }> {
  const doc = parseJson(data, source, 'manifest.json');
  if (!Array.isArray(doc)) throw bad(source, 'manifest.json', 'not an array of images');
  doc.forEach((img, i) => {
    if (!isObject(img) || typeof img.Config !== 'string') throw bad(source, 'manifest.json', `[${i}].Config is not a path`);
    if (!Array.isArray(img.Layers) || img.Layers.some((l) => typeof l !== 'string')) throw bad(source, 'manifest.json', `[${i}].Layers is not a list of paths`);
    if (img.RepoTags != null && (!Array.isArray(img.RepoTags) || img.RepoTags.some((t) => typeof t !== 'string'))) throw bad(source, 'manifest.json', `[${i}].RepoTags is not a list of names`);
  });
  return doc as Array<{ Config: string; RepoTags?: string[] | null; Layers: string[] }>;
}
