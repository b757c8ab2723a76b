// A built image into the content store: config and manifest blobs (the
// layers are stored already) and a hidden name, so the collector keeps it and
// a container can be made of it by ID. Tags are the caller's (the engine's
// Images, which moves names as docker tag does).
import { ContentStore } from '../content/store.js';
import { ImageStore, type ImageRecord } from '../imageStore.js';
import { MediaType, type Descriptor, type Manifest } from '../mediaTypes.js';
import { formatReference, parseReference } from '../reference.js';

/** Docker's container config of an image, every field the builder sets. */
export interface BuildImageConfigBody {
  Hostname?: string;
  User?: string;
  Env?: string[];
  Cmd?: string[] | null;
  Entrypoint?: string[] | null;
  WorkingDir?: string;
  Volumes?: Record<string, object> | null;
  ExposedPorts?: Record<string, object>;
  Labels?: Record<string, string> | null;
  StopSignal?: string;
  Healthcheck?: { Test?: string[] | null; Interval?: number | null; Timeout?: number | null; StartPeriod?: number | null; Retries?: number | null };
  OnBuild?: string[] | null;
  Shell?: string[];
  ArgsEscaped?: boolean;
  Image?: string;
}

export interface HistoryEntry {
  created: string;
  created_by: string;
  empty_layer?: boolean;
  comment?: string;
  author?: string;
}

/** The whole image config document as Docker writes it. */
export interface BuiltImageConfig {
  architecture: string;
  os: string;
  variant?: string;
  created: string;
  author?: string;
  config: BuildImageConfigBody;
  container?: string;
  container_config?: BuildImageConfigBody;
  docker_version?: string;
  rootfs: { type: 'layers'; diff_ids: string[] };
  history: HistoryEntry[];
}

/** The name a built image is kept under until it is tagged (a hidden record: `<none>:<none>`). */
export const builtImageName = (manifestDigest: string) => formatReference(parseReference(`tsd-build@${manifestDigest}`));

/**
 * The repository of a build's intermediate images (one per step, the cache):
 * hidden, and left out of image lists as dockerd leaves out images that have
 * children (`docker images` without -a).
 */
export const INTERMEDIATE_REPOSITORY = 'docker.io/library/tsd-build-step';
export const isIntermediateName = (name: string) => name.startsWith(`${INTERMEDIATE_REPOSITORY}@`);
export const intermediateName = (manifestDigest: string) => `${INTERMEDIATE_REPOSITORY}@${manifestDigest}`;

/** The build's result with no tag: kept as a dangling image that lists show. */
export function keepBuiltImage(dataRoot: string, imageId: string): void {
  const images = new ImageStore(dataRoot);
  const all = images.list().filter((r) => r.config === imageId);
  if (all.some((r) => !isIntermediateName(r.name))) return;
  const r = all[0];
  if (r) images.put({ ...r, name: builtImageName(r.manifest.digest), hidden: true, updated: new Date().toISOString() });
}

/** Writes config + manifest and a hidden record; returns the record (its `config` is the image ID). */
export function writeBuiltImage(dataRoot: string, config: BuiltImageConfig, layers: Descriptor[]): ImageRecord {
  const store = new ContentStore(dataRoot);
  const configData = Buffer.from(JSON.stringify(config));
  const configDigest = store.write(configData);
  const manifest: Manifest = { schemaVersion: 2, mediaType: MediaType.ociManifest, config: { mediaType: MediaType.ociConfig, digest: configDigest, size: configData.length }, layers };
  const manifestData = Buffer.from(JSON.stringify(manifest));
  const manifestDigest = store.write(manifestData);
  const desc: Descriptor = { mediaType: MediaType.ociManifest, digest: manifestDigest, size: manifestData.length };
  const images = new ImageStore(dataRoot);
  // One file read, not a scan of every name: a daemon builds while it serves.
  const existing = images.get(intermediateName(manifestDigest));
  if (existing) return existing;
  const record: ImageRecord = { name: intermediateName(manifestDigest), target: desc, manifest: desc, config: configDigest, updated: new Date().toISOString(), hidden: true };
  images.put(record);
  return record;
}
