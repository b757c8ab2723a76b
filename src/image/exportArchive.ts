// tsctl export: images → one tar that is both an OCI image layout and a
// `docker save` archive (index.json + manifest.json over the same blobs), so
// tsctl, ctr, podman, skopeo and docker all read it.
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { TarWriter } from './archive/tarWriter.js';
import { ContentStore } from './content/store.js';
import type { ImageRecord } from './imageStore.js';
import type { Manifest } from './mediaTypes.js';
import { familiarName, parseReference } from './reference.js';

export async function exportArchive(dataRoot: string, images: ImageRecord[], file: string): Promise<number> {
  const store = new ContentStore(dataRoot);
  const tmp = `${file}.${process.pid}.tmp`;
  const out = createWriteStream(tmp);
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
      docker.push({ Config: `blobs/sha256/${manifest.config.digest.slice(7)}`, RepoTags: [familiarName(img.name)], Layers: manifest.layers.map((l) => `blobs/sha256/${l.digest.slice(7)}`) });
    }
    await tar.file('oci-layout', Buffer.from(JSON.stringify({ imageLayoutVersion: '1.0.0' })));
    await tar.file('index.json', Buffer.from(JSON.stringify(index)));
    await tar.file('manifest.json', Buffer.from(JSON.stringify(docker)));
    await tar.finish();
    await rename(tmp, file);
  } catch (e) {
    out.destroy();
    await rm(tmp, { force: true });
    throw e;
  }
  return written.size;
}
