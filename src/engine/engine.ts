// The engine: images and the containers made of them on one data root, for
// every client (tsctl now, the daemon later). Clients parse their input and
// show results; what an operation means lives here: pull when missing, which
// image a container uses, cleaning up after a run, refusing to remove what is
// in use. Containers run with a runc-compatible binary as a child process
// (ociRuntime.ts). Every method is async and leaves process-global state
// (cwd, signals, stdio other than a foreground run's) alone.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { DEFAULT_RUNTIME_ROOT } from '../common/defaults.js';
import { RuntimeError } from '../common/errors.js';
import { UsageError } from '../common/argv.js';
import { ContainerStore, createBundle, newContainerId, removeContainer, type BundleRequest, type ContainerRecord } from '../image/containers.js';
import { ContentStore } from '../image/content/store.js';
import { exportArchive, writeArchive } from '../image/exportArchive.js';
import { diskUsage, prune, removeSnapshotLeftovers, type DiskUsage, type PruneResult } from '../image/gc.js';
import { ImageStore, type ImageRecord } from '../image/imageStore.js';
import { importArchive, importStream } from '../image/importArchive.js';
import { push, type PushOptions, type PushResult } from '../image/registry/push.js';
import type { ImageConfig, Manifest } from '../image/mediaTypes.js';
import { parsePlatform } from '../image/platform.js';
import type { Progress } from '../image/progress.js';
import { pull } from '../image/pull.js';
import { familiarName, formatReference, parseReference } from '../image/reference.js';
import { parseMirrors } from '../image/registry/client.js';
import type { Credentials } from '../image/registry/credentials.js';
import { findImage } from '../image/resolveImage.js';
import { layerChain } from '../image/unpack/unpacker.js';
import { openSnapshotter, unmount } from '../image/snapshots/mount.js';
import type { Snapshotter } from '../image/snapshots/snapshotter.js';
import { overlayChanges, type Change } from './changes.js';
import { storeTreeDiffLayer, storeUpperDirLayer, type StoredLayer } from '../image/diff/storeLayer.js';
import { readTar } from '../image/archive/tarReader.js';
import { applyLayer } from '../image/unpack/applyLayer.js';
import { chainIds } from '../image/unpack/unpacker.js';
import { randomBytes } from 'node:crypto';
import { PassThrough } from 'node:stream';
import type { SkipRule } from '../image/diff/layerTar.js';
import { defaultRuntimeBinary, OciRuntime } from './ociRuntime.js';

export type { BundleRequest, Change, ContainerRecord, DiskUsage, ImageConfig, ImageRecord, Manifest, Progress, PruneResult };
/** How people write an image name: docker.io/library/busybox:latest → busybox:latest. */
export { familiarName };

export interface EngineOptions {
  /** Data root: content, snapshots, image names, container records. */
  dataRoot: string;
  /** overlay, copy or auto (default: overlay when the kernel has it). */
  snapshotter?: string;
  /** The runc-compatible binary containers run with (default: this checkout's bin/tsrun). */
  runtime?: string;
  /** The runtime's --root (default /run/tsrun). */
  runtimeRoot?: string;
  /** Where containers get their bundle unless told otherwise: <stateDir>/bundles/<id> (mount points: ephemeral). */
  stateDir: string;
  /**
   * Registry → the host its images are fetched from first (docker's registry-mirrors),
   * or that map as text: `docker.io=127.0.0.1:5000,quay.io=mirror:5000`. The text is
   * read at the first pull, so a bad one fails only what pulls.
   */
  mirrors?: Record<string, string> | string;
  /** A registry GET that brings no byte for this long is aborted (default 60 s). */
  registryStallTimeoutMs?: number;
  /** Told what went wrong but was worked around (a failed mirror). */
  onWarning?: (message: string) => void;
}

export interface PullRequest {
  /** Plain HTTP even for a non-local registry. */
  insecure?: boolean;
  /** Credentials file (docker config.json / containers auth.json format). */
  authFile?: string;
  /** os/arch[/variant] (default: this machine). */
  platform?: string;
  progress?: Progress;
  /** Credentials for this pull only (a daemon's client sent them); authFile is not read then. */
  credentials?: Credentials;
  /** A bearer token the client holds for the registry. */
  registryToken?: string;
}

export interface ImportRequest {
  /** Name for an image the archive does not name (or to rename a single image). */
  name?: string;
  /** os/arch[/variant] (default: this machine). */
  platform?: string;
}

/** An image as a listing shows it. */
export interface ImageSummary {
  name: string;
  /** The familiar repository (`busybox`, `example.com/app`). */
  repository: string;
  /** `<none>` for a name by digest. */
  tag: string;
  /** The config digest. */
  id: string;
  /** What the name points at (an index or a manifest). */
  digest: string;
  /** From the image config; '' when it has none or the content is missing. */
  created: string;
  /** Compressed bytes: config and layers of the platform's manifest. */
  size: number;
}

export class Engine {
  private readonly dataRoot: string;
  private readonly stateDir: string;
  private readonly runtime: OciRuntime;
  private readonly onWarning?: (message: string) => void;
  private opened?: Promise<Snapshotter>;

  constructor(private readonly options: EngineOptions) {
    this.dataRoot = options.dataRoot;
    this.stateDir = options.stateDir;
    this.runtime = new OciRuntime(options.runtime ?? defaultRuntimeBinary(), options.runtimeRoot ?? DEFAULT_RUNTIME_ROOT);
    this.onWarning = options.onWarning;
  }

  /** Opened at first use, so an operation that needs no snapshots never fails on the driver. */
  private snapshotter(): Promise<Snapshotter> {
    this.opened ??= openSnapshotter(this.dataRoot, this.options.snapshotter);
    return this.opened;
  }

  private mirrors(): Record<string, string> {
    const m = this.options.mirrors;
    return typeof m === 'string' || m === undefined ? parseMirrors(m) : m;
  }

  // Images

  async pull(name: string, req: PullRequest = {}): Promise<ImageRecord> {
    const snapshotter = await this.snapshotter();
    const mirrors = this.mirrors();
    return pull(this.dataRoot, snapshotter, name, {
      insecure: req.insecure,
      authFile: req.authFile,
      credentials: req.credentials,
      registryToken: req.registryToken,
      mirrors,
      stallTimeoutMs: this.options.registryStallTimeoutMs,
      platform: req.platform ? parsePlatform(req.platform) : undefined,
      onWarning: this.onWarning,
      progress: req.progress,
    });
  }

  /** The image `name` names here, pulled first when there is none. */
  async pullIfMissing(name: string, req: PullRequest = {}): Promise<ImageRecord> {
    await this.snapshotter();
    try {
      return findImage(this.dataRoot, name);
    } catch {
      return this.pull(name, req);
    }
  }

  /** An OCI image layout (directory or tar) or a docker save tar → images here. */
  async importImages(source: string, req: ImportRequest = {}): Promise<ImageRecord[]> {
    const snapshotter = await this.snapshotter();
    return importArchive(this.dataRoot, snapshotter, source, { name: req.name, platform: req.platform ? parsePlatform(req.platform) : undefined });
  }

  /** Writes the images `names` name to `file` (an OCI layout and a docker archive in one tar); the number of blobs. */
  async exportImages(file: string, names: string[]): Promise<number> {
    return exportArchive(this.dataRoot, names.map((n) => findImage(this.dataRoot, n)), file);
  }

  /** A tar streamed in (docker load) → images here. */
  async loadImages(body: AsyncIterable<Uint8Array>, what: string): Promise<ImageRecord[]> {
    const snapshotter = await this.snapshotter();
    return importStream(this.dataRoot, snapshotter, body, what);
  }

  /** The archive of exportImages, written to `out` (docker save); the images are found before the first byte. */
  async saveImages(out: Writable, names: string[]): Promise<number> {
    return writeArchive(this.dataRoot, names.map((n) => findImage(this.dataRoot, n)), out);
  }

  /** Pushes the image `source` names to `destination` (in full, with a tag). */
  async push(source: string, destination: string, req: PullRequest & Pick<PushOptions, 'mountFrom' | 'chunkSize'> = {}): Promise<PushResult> {
    const record = findImage(this.dataRoot, source);
    let full: string;
    try {
      full = formatReference(parseReference(destination));
    } catch (e) {
      throw new RuntimeError({ kind: 'invalid-argument', step: 'push', path: destination, detail: `not an image name: ${(e as Error).message}` });
    }
    return push(this.dataRoot, record, full, {
      insecure: req.insecure,
      authFile: req.authFile,
      credentials: req.credentials,
      registryToken: req.registryToken,
      progress: req.progress,
      mountFrom: req.mountFrom,
      chunkSize: req.chunkSize,
    });
  }

  /** An image by name, familiar name or ID prefix; not-found otherwise. */
  async findImage(name: string): Promise<ImageRecord> {
    return findImage(this.dataRoot, name);
  }

  /** An image with its config and platform manifest, for an inspect. */
  async imageDetails(name: string): Promise<{ record: ImageRecord; config: ImageConfig; manifest: Manifest }> {
    const record = findImage(this.dataRoot, name);
    const store = new ContentStore(this.dataRoot);
    return { record, config: store.readJson<ImageConfig>(record.config), manifest: store.readJson<Manifest>(record.manifest.digest) };
  }

  /** Gives the image `source` names a second name (replacing what `target` named). */
  async tagImage(source: string, target: string): Promise<ImageRecord> {
    const img = findImage(this.dataRoot, source);
    let name: string;
    try {
      name = formatReference(parseReference(target));
    } catch (e) {
      throw new RuntimeError({ kind: 'invalid-argument', step: 'tag image', path: target, detail: (e as Error).message });
    }
    // A name makes an image visible (a build's result is kept as a hidden record until tagged).
    const { hidden: _hidden, ...visible } = img;
    const record = { ...visible, name, updated: new Date().toISOString() };
    new ImageStore(this.dataRoot).put(record);
    return record;
  }

  async listImages(): Promise<ImageSummary[]> {
    const store = new ContentStore(this.dataRoot);
    return new ImageStore(this.dataRoot).list().map((img) => {
      let created = '';
      let size = 0;
      try {
        const config = store.readJson<{ created?: string }>(img.config);
        created = config.created ?? '';
        const manifest = store.readJson<Pick<Manifest, 'layers' | 'config'>>(img.manifest.digest);
        size = manifest.layers.reduce((a, l) => a + l.size, manifest.config.size);
      } catch { /* content missing: shown with what is known */ }
      const ref = parseReference(img.name);
      const repository = familiarName(`${ref.registry}/${ref.repository}`);
      const tag = ref.digest || !ref.tag ? '<none>' : ref.tag;
      return { name: img.name, repository, tag, id: img.config, digest: img.target.digest, created, size };
    });
  }

  /**
   * Removes the names (in order, each reported to `onUntagged` as it goes), then,
   * as docker rmi, the content and layers nothing uses any more. An image a
   * container uses is refused unless `force`.
   */
  async removeImages(names: string[], opts: { force?: boolean; onUntagged?: (name: string) => void } = {}): Promise<PruneResult> {
    const images = new ImageStore(this.dataRoot);
    for (const name of names) {
      const img = findImage(this.dataRoot, name);
      const users = new ContainerStore(this.dataRoot).list().filter((c) => c.image === img.name);
      if (users.length && !opts.force) throw new RuntimeError({ step: 'remove image', path: img.name, detail: `container ${users[0].id} uses it (tsctl rm it, or --force)` });
      images.remove(img.name);
      opts.onUntagged?.(img.name);
    }
    return this.prune();
  }

  /** Every image name here with what it points at (a name by digest included). */
  async imageRecords(): Promise<ImageRecord[]> {
    return new ImageStore(this.dataRoot).list();
  }

  /** Writes an image name (a new name for an image that is here, or one kept by digest). */
  async putImageRecord(record: ImageRecord): Promise<void> {
    new ImageStore(this.dataRoot).put(record);
  }

  /** Removes one image name (exactly as stored); the content stays until collectUnused. */
  async untagImage(name: string): Promise<void> {
    new ImageStore(this.dataRoot).remove(name);
  }

  /** The unpacked bytes of layers by chain ID (what docker shows as sizes); undefined for a layer not here. */
  async layerSizes(chainIds: string[]): Promise<Array<number | undefined>> {
    const snapshotter = await this.snapshotter();
    return chainIds.map((c) => snapshotter.stat(c)?.size);
  }

  /** What collecting removed: the prune result and the layers (chain IDs) that went. */
  async collectUnused(): Promise<{ result: PruneResult; layers: string[] }> {
    const snapshotter = await this.snapshotter();
    const before = snapshotter.walk().filter((s) => s.kind === 'committed').map((s) => s.name);
    const result = await prune(this.dataRoot, snapshotter);
    const after = new Set(snapshotter.walk().map((s) => s.name));
    return { result, layers: before.filter((n) => !after.has(n)) };
  }

  /** What a crash left in the snapshot store (see gc.ts); how many went. */
  async removeSnapshotLeftovers(): Promise<number> {
    return removeSnapshotLeftovers(this.dataRoot, await this.snapshotter());
  }

  /** Removes content, layers and leftovers no image or container uses. */
  async prune(): Promise<PruneResult> {
    return prune(this.dataRoot, await this.snapshotter());
  }

  async diskUsage(): Promise<DiskUsage> {
    return diskUsage(this.dataRoot, await this.snapshotter());
  }

  // Containers

  /**
   * A container of `image`: a writable layer on the image's, mounted as
   * <bundle>/rootfs beside a config.json from the image config and `req`.
   * The bundle is `bundleDir` or <stateDir>/bundles/<id>.
   */
  async createContainer(image: string, req: BundleRequest, bundleDir?: string): Promise<ContainerRecord> {
    const snapshotter = await this.snapshotter();
    const id = req.id ?? newContainerId();
    return createBundle(this.dataRoot, snapshotter, image, bundleDir ?? join(this.stateDir, 'bundles', id), { ...req, id });
  }

  /** What a bundle's config.json runs (the command after the image's defaults were applied). */
  async containerSpec(bundle: string): Promise<{ args: string[]; exposedPorts: string[] }> {
    const spec = JSON.parse(await readFile(join(bundle, 'config.json'), 'utf8')) as { process?: { args?: string[] }; annotations?: Record<string, string> };
    // The image's EXPOSE, kept by the bundle builder as an annotation (our own file: a bad one reads as none).
    let exposedPorts: string[] = [];
    try {
      const v: unknown = JSON.parse(spec.annotations?.['io.tsrun.image.exposed-ports'] ?? '[]');
      if (Array.isArray(v) && v.every((x) => typeof x === 'string')) exposedPorts = v;
    } catch { /* none */ }
    return { args: spec.process?.args ?? [], exposedPorts };
  }

  async listContainers(): Promise<ContainerRecord[]> {
    return new ContainerStore(this.dataRoot).list().sort((a, b) => a.created.localeCompare(b.created));
  }

  /**
   * Runs container `id` with the runtime's `run`, attached to this process's
   * stdio (the runtime handles the terminal and forwards the signals it gets);
   * its exit code. Afterwards, however it ended, the runtime's container is
   * deleted and the rootfs unmounted; with `remove` the container goes too.
   */
  async runForeground(id: string, opts: { remove?: boolean } = {}): Promise<number> {
    const record = new ContainerStore(this.dataRoot).get(id);
    if (!record) throw new RuntimeError({ kind: 'not-found', step: 'run container', path: id, detail: 'no such container' });
    try {
      return await this.runtime.call(['run', '--bundle', record.bundle, id], 'inherit');
    } finally {
      await this.runtime.forceDelete(id).catch(() => {});
      unmount(join(record.bundle, 'rootfs'));
      if (opts.remove) await removeContainer(this.dataRoot, await this.snapshotter(), id);
    }
  }

  /**
   * Runs container `id` with the runtime's `run`, its output to `output` (a
   * build step of tsctl build); its exit code. Afterwards the runtime's
   * container is deleted and the rootfs unmounted; the container (its writable
   * layer) stays for the caller.
   */
  async runCaptured(id: string, output: (data: Buffer) => void, signal?: AbortSignal): Promise<number> {
    const record = new ContainerStore(this.dataRoot).get(id);
    if (!record) throw new RuntimeError({ kind: 'not-found', step: 'run container', path: id, detail: 'no such container' });
    try {
      return await this.runtime.captured(['run', '--bundle', record.bundle, id], output, signal);
    } finally {
      await this.runtime.forceDelete(id).catch(() => {});
      unmount(join(record.bundle, 'rootfs'));
    }
  }

  /**
   * Removes container `id`: what the runtime still runs of it, its rootfs,
   * writable layer, bundle (if the engine made it) and record. As docker rm,
   * one that still runs is refused unless `force`.
   */
  async removeContainer(id: string, opts: { force?: boolean } = {}): Promise<ContainerRecord> {
    const snapshotter = await this.snapshotter();
    const status = await this.runtime.status(id);
    if (!opts.force && status && status !== 'stopped') throw new UsageError(`container ${id} is ${status}: stop it first or use --force`);
    await this.runtime.forceDelete(id);
    const removed = await removeContainer(this.dataRoot, snapshotter, id);
    // An image removed while this container used it (docker rmi -f) kept its layers for it: they go with it.
    if (!new ImageStore(this.dataRoot).get(removed.image)) await this.prune().catch((e) => this.onWarning?.(`collecting the layers of ${removed.image} after container ${id}: ${(e as Error).message}`));
    return removed;
  }

  // A container's writable layer (docker diff, ps -s, system df)

  /** The writable snapshot of container `id` (its record from createContainer). */
  private async writableSnapshot(id: string): Promise<{ snapshotter: Snapshotter; key: string }> {
    const snapshotter = await this.snapshotter();
    const record = new ContainerStore(this.dataRoot).get(id);
    if (!record || !snapshotter.stat(record.snapshotKey)) throw new RuntimeError({ kind: 'not-found', step: 'read the container\'s layer', path: id, detail: 'it has no writable snapshot' });
    return { snapshotter, key: record.snapshotKey };
  }

  /**
   * What container `id` changed in its filesystem (Docker's Kind: 0 modified,
   * 1 added, 2 deleted). Read from the overlay upper dir; the copy driver keeps
   * no layer of changes, so it is refused.
   */
  async containerChanges(id: string): Promise<Change[]> {
    const { snapshotter, key } = await this.writableSnapshot(id);
    const [m] = snapshotter.mounts(key);
    if (snapshotter.driver !== 'overlay' || !m) throw new RuntimeError({ kind: 'invalid-state', step: 'list the container\'s changes', path: id, detail: `the ${snapshotter.driver} snapshotter keeps no layer of changes (use overlay)` });
    // An overlay mount names its upper and lower dirs; an image without layers is a plain rw bind.
    if (m.type === 'bind') return overlayChanges(m.source, []);
    const opt = (name: string) => m.options.find((o) => o.startsWith(`${name}=`))?.slice(name.length + 1);
    return overlayChanges(opt('upperdir') ?? '', (opt('lowerdir') ?? '').split(':').filter(Boolean));
  }

  /**
   * Container `id`'s changes as a layer in the content store (docker commit,
   * a build step); undefined when it changed nothing. `skip` leaves out what
   * the runtime made (a build step's mount points).
   */
  async storeContainerLayer(id: string, skip?: SkipRule, opts: { commitSnapshot?: boolean } = {}): Promise<StoredLayer | undefined> {
    const { snapshotter, key } = await this.writableSnapshot(id);
    const [m] = snapshotter.mounts(key);
    const store = new ContentStore(this.dataRoot);
    const parent = snapshotter.stat(key)?.parent;
    // With commitSnapshot the tar is also applied, as it streams, into a new snapshot that is
    // committed under the layer's ChainID: the next step's container needs no unpack.
    let extract: { key: string; applied: Promise<unknown>; tap: PassThrough } | undefined;
    const tap = opts.commitSnapshot ? () => {
      const ekey = `extract-${randomBytes(4).toString('hex')}-build-${id.slice(0, 12)}`;
      const side = new PassThrough({ highWaterMark: 1 << 20 });
      const applied = snapshotter.prepare(ekey, parent)
        .then(() => applyLayer(snapshotter.writableDir(ekey), readTar(side), snapshotter.whiteouts, `the layer of ${id.slice(0, 12)}`))
        .catch((e: unknown) => {
          side.destroy();
          throw e;
        });
      applied.catch(() => {});
      extract = { key: ekey, applied, tap: side };
      return side;
    } : undefined;
    try {
      let layer: StoredLayer | undefined;
      if (snapshotter.driver === 'copy') {
        // Full trees: the container's against its image's top layer.
        layer = await storeTreeDiffLayer(store, m.source, parent ? snapshotter.mounts(parent)[0].source : undefined, skip, tap);
      } else if (m.type === 'bind') {
        layer = await storeUpperDirLayer(store, m.source, skip, [], tap);
      } else {
        const opt = (name: string) => m.options.find((o) => o.startsWith(`${name}=`))?.slice(name.length + 1) ?? '';
        layer = await storeUpperDirLayer(store, opt('upperdir'), skip, opt('lowerdir').split(':').filter(Boolean), tap);
      }
      if (layer && extract) {
        await extract.applied;
        const chainId = chainIds(parent ? [parent, layer.diffId] : [layer.diffId]).pop()!;
        await snapshotter.commitOnce(chainId, extract.key, parent);
        extract = undefined;
      }
      return layer;
    } finally {
      // Not committed (no change, or a failure): the half-made snapshot goes.
      if (extract) {
        extract.tap.destroy();
        await extract.applied.catch(() => {});
        if (snapshotter.stat(extract.key)) await snapshotter.remove(extract.key).catch((e) => this.onWarning?.(`removing the snapshot ${extract!.key}: ${(e as Error).message}`));
      }
    }
  }

  /** The data root, for what writes images beside the engine's (the builder). */
  get root(): string {
    return this.dataRoot;
  }

  /** Bytes of container `id`'s writable layer (SizeRw) and of it with its image's layers (SizeRootFs). */
  async containerSize(id: string): Promise<{ rw: number; rootFs: number }> {
    const { snapshotter, key } = await this.writableSnapshot(id);
    const rw = await snapshotter.usage(key);
    let rootFs = rw;
    for (let p = snapshotter.stat(key)?.parent; p; p = snapshotter.stat(p)?.parent) rootFs += await snapshotter.usage(p);
    return { rw, rootFs };
  }

  /**
   * Unpacked bytes per image ID (config digest), as docker system df counts them:
   * `size` all its layers, `shared` those another image ID uses too (two names of one
   * image share nothing). An image whose content or layers are missing is left out.
   */
  async imageLayerSizes(): Promise<Map<string, { size: number; shared: number }>> {
    const snapshotter = await this.snapshotter();
    const store = new ContentStore(this.dataRoot);
    const chains = new Map<string, string[]>();
    for (const img of new ImageStore(this.dataRoot).list()) {
      if (chains.has(img.config)) continue;
      try {
        chains.set(img.config, layerChain(store.readJson<Manifest>(img.manifest.digest), store.readJson<ImageConfig>(img.config)).map((l) => l.chainId));
      } catch { /* content missing: nothing to count */ }
    }
    const users = new Map<string, number>();
    for (const layers of chains.values()) for (const l of new Set(layers)) users.set(l, (users.get(l) ?? 0) + 1);
    const out = new Map<string, { size: number; shared: number }>();
    for (const [id, layers] of chains) {
      let size = 0, shared = 0;
      for (const l of new Set(layers)) {
        if (!snapshotter.stat(l)) continue;
        const bytes = await snapshotter.usage(l);
        size += bytes;
        if ((users.get(l) ?? 0) >= 2) shared += bytes;
      }
      out.set(id, { size, shared });
    }
    return out;
  }
}
