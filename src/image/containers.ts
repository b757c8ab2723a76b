// Containers of images: a writable snapshot on top of the image's layers,
// mounted as DIR/rootfs beside a config.json built from the image. The record
// under <root>/containers lets `tsctl rm` undo all of it later.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { RuntimeError } from '../common/errors.js';
import { specFromImage, type ContainerOptions } from './bundle/imageSpec.js';
import { ContentStore } from './content/store.js';
import { JsonRecords } from './jsonRecords.js';
import type { ImageConfig, Manifest } from './mediaTypes.js';
import { findImage } from './resolveImage.js';
import { mountAll, unmount } from './snapshots/mount.js';
import type { Snapshotter } from './snapshots/snapshotter.js';
import { layerChain, unpackImage } from './unpack/unpacker.js';
import { withLease } from './gcLease.js';

export interface ContainerRecord {
  id: string;
  image: string;
  snapshotter: string;
  snapshotKey: string;
  bundle: string;
  /** The bundle directory was made by tsctl (removed with the container). */
  ownsBundle: boolean;
  created: string;
}

const ID_RE = /^[\w+-][\w+.-]*$/;

export class ContainerStore {
  private readonly records: JsonRecords<ContainerRecord>;
  constructor(dataRoot: string) {
    this.records = new JsonRecords(join(dataRoot, 'containers'), (id) => `${id}.json`);
  }
  get(id: string): ContainerRecord | undefined {
    return this.records.get(id);
  }
  put(r: ContainerRecord): void {
    this.records.put(r.id, r);
  }
  remove(id: string): void {
    this.records.remove(id);
  }
  list(): ContainerRecord[] {
    return this.records.list();
  }
}

export const newContainerId = () => randomBytes(6).toString('hex');

export interface BundleRequest extends Omit<ContainerOptions, 'imageName' | 'id'> {
  id?: string;
}

/** Makes bundleDir/config.json and bundleDir/rootfs (mounted) for a new container of `image`. */
export async function createBundle(dataRoot: string, snapshotter: Snapshotter, image: string, bundleDir: string, req: BundleRequest): Promise<ContainerRecord> {
  return withLease(dataRoot, () => createBundleLeased(dataRoot, snapshotter, image, bundleDir, req));
}

async function createBundleLeased(dataRoot: string, snapshotter: Snapshotter, image: string, bundleDir: string, req: BundleRequest): Promise<ContainerRecord> {
  const id = req.id ?? newContainerId();
  if (!ID_RE.test(id) || id.length > 128) throw new RuntimeError({ step: 'create container', detail: `invalid container name ${JSON.stringify(id)}` });
  const containers = new ContainerStore(dataRoot);
  if (containers.get(id)) throw new RuntimeError({ step: 'create container', path: id, detail: 'a container with this name exists (tsctl rm it first)' });
  const img = findImage(dataRoot, image);
  const store = new ContentStore(dataRoot);
  const manifest = store.readJson<Manifest>(img.manifest.digest);
  const config = store.readJson<ImageConfig>(img.config);
  const layers = layerChain(manifest, config);
  const top = layers.length ? layers[layers.length - 1].chainId : undefined;
  if (top && !snapshotter.stat(top)) await unpackImage(store, snapshotter, manifest, config);
  const bundle = resolve(bundleDir);
  const ownsBundle = !existsSync(bundle);
  const rootfs = join(bundle, 'rootfs');
  if (existsSync(join(bundle, 'config.json'))) throw new RuntimeError({ step: 'create bundle', path: join(bundle, 'config.json'), detail: 'exists already' });
  const key = `container/${id}`;
  const record: ContainerRecord = { id, image: img.name, snapshotter: snapshotter.driver, snapshotKey: key, bundle, ownsBundle, created: new Date().toISOString() };
  let mounted = false;
  try {
    mkdirSync(rootfs, { recursive: true });
    const mounts = await snapshotter.prepare(key, top, { 'io.tsrun.container': id });
    containers.put(record);
    mountAll(mounts, rootfs);
    mounted = true;
    const fromImage = specFromImage(config, rootfs, { ...req, id, imageName: img.name });
    const spec = req.adjust ? req.adjust(fromImage) : fromImage;
    await writeFile(join(bundle, 'config.json'), JSON.stringify(spec, null, 2));
  } catch (e) {
    if (mounted) unmount(rootfs);
    if (snapshotter.stat(key)) await snapshotter.remove(key);
    containers.remove(id);
    if (ownsBundle) await rm(bundle, { recursive: true, force: true });
    else await rm(rootfs, { recursive: true, force: true });
    throw e;
  }
  return record;
}

/** Unmounts and removes a container's rootfs, writable layer, bundle (if tsctl's) and record. */
export async function removeContainer(dataRoot: string, snapshotter: Snapshotter, id: string): Promise<ContainerRecord> {
  const containers = new ContainerStore(dataRoot);
  const r = containers.get(id);
  if (!r) throw new RuntimeError({ step: 'remove container', path: id, detail: 'no such container' });
  const rootfs = join(r.bundle, 'rootfs');
  unmount(rootfs);
  if (snapshotter.stat(r.snapshotKey)) await snapshotter.remove(r.snapshotKey);
  if (r.ownsBundle) await rm(r.bundle, { recursive: true, force: true });
  else {
    await rm(join(r.bundle, 'config.json'), { force: true });
    await rm(rootfs, { recursive: true, force: true });
  }
  containers.remove(id);
  return r;
}
