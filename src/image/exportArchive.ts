// tsctl export and docker save: images → one tar that is both an OCI image
// layout and a `docker save` archive (index.json + manifest.json over the same
// blobs), so tsctl, ctr, podman, skopeo and docker all read it. Written as a
// stream: to a file (renamed into place when complete) or to a client.
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { RuntimeError } from '../common/errors.js';
import { TarWriter } from './archive/tarWriter.js';
import { ContentStore } from './content/store.js';
import type { ImageRecord } from './imageStore.js';
import type { Manifest } from './mediaTypes.js';
import { familiarName, parseReference } from './reference.js';

export async function exportArchive(dataRoot: string, images: ImageRecord[], file: string): Promise<number> {
  const tmp = `${file}.${process.pid}.tmp`;
  const out = createWriteStream(tmp);
  try {
    const n = await writeArchive(dataRoot, images, out);
    await rename(tmp, file);
    return n;
  } catch (e) {
    out.destroy();
    await rm(tmp, { force: true });
    throw e;
  }
}

/**
 * Writes the archive of `images` to `out` and ends it; the number of blobs. Every
 * blob is checked to be here before the first byte goes out, so a missing one is
 * an error status, not a truncated tar.
 */
export async function writeArchive(dataRoot: string, images: ImageRecord[], out: Writable): Promise<number> {
  const store = new ContentStore(dataRoot);
  for (const img of images) {
    const manifest = store.readJson<Manifest>(img.manifest.digest);
    for (const d of [manifest.config, ...manifest.layers]) {
      if (!store.has(d.digest)) throw new RuntimeError({ step: 'export image', path: img.name, detail: `its blob ${d.digest} is not in the content store` });
    }
  }
  const tar = new TarWriter(out);
  const written = new Set<string>();
  const index = { schemaVersion: 2, manifests: [] as unknown[] };
  const docker: Array<{ Config: string; RepoTags: string[]; Layers: string[] }> = [];
  try {
    await tar.dir('blobs');
    await tar.dir('blobs/sha256');
    const blob = async (digest: string) => {
      if (written.has(digest)) return;
      written.add(digest);
      await tar.fileFrom(`blobs/sha256/${digest.slice(7)}`, store.blobPath(digest), store.size(digest)!);
    };
    for (const img of images) {
      const manifest = store.readJson<Manifest>(img.manifest.digest);
      await blob(img.manifest.digest);
      await blob(manifest.config.digest);
      for (const l of manifest.layers) await blob(l.digest);
      const { tag } = parseReference(img.name);
      index.manifests.push({ ...img.manifest, annotations: { 'io.containerd.image.name': img.name, ...(tag ? { 'org.opencontainers.image.ref.name': tag } : {}) } });
      // One manifest.json entry per image: its names are the RepoTags (docker save of two tags of one image).
      const existing = docker.find((d) => d.Config === `blobs/sha256/${manifest.config.digest.slice(7)}`);
      const tags = tag ? [familiarName(img.name)] : [];
      if (existing) existing.RepoTags.push(...tags);
      else docker.push({ Config: `blobs/sha256/${manifest.config.digest.slice(7)}`, RepoTags: tags, Layers: manifest.layers.map((l) => `blobs/sha256/${l.digest.slice(7)}`) });
    }
    await tar.file('oci-layout', Buffer.from(JSON.stringify({ imageLayoutVersion: '1.0.0' })));
    await tar.file('index.json', Buffer.from(JSON.stringify(index)));
    await tar.file('manifest.json', Buffer.from(JSON.stringify(docker)));
    await tar.finish();
  } catch (e) {
    out.destroy(e as Error);
    throw e;
  }
  return written.size;
}
