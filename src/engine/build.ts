// docker build and docker commit for the daemon. The builder (src/image/build)
// decides what each instruction means; this file is its StepRunner: every
// step's container is made, run and removed by `Containers`, the same path as
// docker run, and its writable layer becomes the step's layer. The context
// tar is extracted under the data root (no entry leaves that directory) and
// removed after the build, whatever happened.
import { randomBytes } from 'node:crypto';
import { chmod, copyFile, lchown, lstat, mkdir, readFile, readlink, rm, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { RuntimeError } from '../common/errors.js';
import { resolveInRootAsync } from '../common/resolveInRoot.js';
import { decompress } from '../image/archive/decompress.js';
import { readTar, TarFormatError } from '../image/archive/tarReader.js';
import { build, type StepRunner, type StepSpec, type StepResult } from '../image/build/builder.js';
import { parseDockerfileText } from '../image/build/parse.js';
import { parseDockerignore, walkContext } from '../image/build/dockerignore.js';
import { keepBuiltImage, writeBuiltImage, type BuiltImageConfig } from '../image/build/imageWriter.js';
import { skipRuntimeMountPoints } from '../image/diff/layerTar.js';
import type { StoredLayer } from '../image/diff/storeLayer.js';
import { withLease } from '../image/gcLease.js';
import type { Descriptor } from '../image/mediaTypes.js';
import { hostPlatform } from '../image/platform.js';
import { silentProgress } from '../image/progress.js';
import { applyLayer } from '../image/unpack/applyLayer.js';
import type { ContainerConfig, Containers, HostConfig } from './containers.js';
import type { Engine } from './engine.js';
import { fullName, Images } from './images.js';

/** A build of a context: docker build's query parameters, tsctl build's flags. */
export interface ContextBuildRequest {
  /** The Dockerfile's path inside the context (default Dockerfile). */
  dockerfile?: string;
  tags: string[];
  buildArgs: Record<string, string | null>;
  target?: string;
  noCache: boolean;
  pull: boolean;
  labels: Record<string, string>;
  networkMode?: string;
  rm: boolean;
  forceRm: boolean;
  /** Text for the client's stream (lines, or a step's raw output). */
  output: (text: string) => void;
  /** The image is built (before its tags are set): the stream's aux ID. */
  built?: (id: string) => void;
  /** Aborted when the client goes away. */
  signal?: AbortSignal;
}

export interface BuildRequest extends ContextBuildRequest {
  /** The context: a tar, plain or compressed. */
  context: Readable;
}

const short = (id: string) => id.replace(/^sha256:/, '').slice(0, 12);

/**
 * The builder's steps over the engine alone (tsctl build, no daemon): a RUN
 * step's container runs in the runtime's foreground `run`, its output
 * captured; COPY/ADD/WORKDIR steps fill a mounted writable layer without a
 * process (the image may have no shell at all).
 */
export class EngineStepRunner implements StepRunner {
  /** Steps whose container never ran a process (no runtime mount points in their layer). */
  protected readonly filledIds = new Set<string>();

  constructor(protected readonly engine: Engine) {}

  async image(name: string, o: { pull: boolean; output: (line: string) => void }): Promise<string> {
    const full = fullName(name);
    if (!o.pull) {
      const here = await this.engine.findImage(full).catch(() => undefined);
      if (here && !here.hidden) return here.config;
    }
    try {
      return (await this.pull(full)).config;
    } catch (e) {
      // dockerd's words for a base image it could not get.
      throw new RuntimeError({ kind: (e as RuntimeError).kind ?? 'system', step: (e as Error).message });
    }
  }

  protected pull(name: string): Promise<{ config: string }> {
    return this.engine.pull(name, { progress: silentProgress });
  }

  protected stepDir(id: string): string {
    return join(this.engine.root, 'build', 'steps', id);
  }

  async step(imageId: string, spec: StepSpec, o: { fill?: (rootfs: string) => Promise<void>; output: (data: Buffer) => void; started: (containerId: string) => void; signal?: AbortSignal }): Promise<StepResult> {
    if (!spec.argv) return this.filled(imageId, o);
    if (spec.network !== 'none' && spec.network !== 'host') throw new RuntimeError({ kind: 'invalid-argument', step: `network mode ${JSON.stringify(spec.network)}: a build without the daemon has none and host` });
    const id = `build-${randomBytes(16).toString('hex')}`;
    // The step's command replaces the image's entrypoint and command.
    await this.engine.createContainer(imageId, {
      id, entrypoint: spec.argv, env: spec.env, user: spec.user || undefined, cwd: spec.workingDir || undefined,
      hostNetwork: spec.network === 'host', mounts: [],
    }, this.stepDir(id));
    o.started(id);
    return { containerId: id, exitCode: await this.engine.runCaptured(id, o.output, o.signal) };
  }

  async storeLayer(containerId: string): Promise<StoredLayer | undefined> {
    // A RUN's container has the runtime's mount points in its layer; a filled one none.
    return this.engine.storeContainerLayer(containerId, this.filledIds.has(containerId) ? undefined : skipRuntimeMountPoints, { commitSnapshot: true });
  }

  protected async filled(imageId: string, o: { fill?: (rootfs: string) => Promise<void>; started: (containerId: string) => void }): Promise<StepResult> {
    const id = `build-${randomBytes(16).toString('hex')}`;
    const record = await this.engine.createContainer(imageId, { id, args: ['/bin/true'], mounts: [] }, this.stepDir(id));
    this.filledIds.add(id);
    o.started(id);
    await o.fill?.(join(record.bundle, 'rootfs'));
    return { containerId: id, exitCode: 0 };
  }

  async removeContainer(id: string): Promise<void> {
    this.filledIds.delete(id);
    await this.engine.removeContainer(id, { force: true });
  }

  async withRootfs<T>(imageId: string, fn: (rootfs: string) => Promise<T>): Promise<T> {
    const id = `build-${randomBytes(16).toString('hex')}`;
    const record = await this.engine.createContainer(imageId, { id, args: ['/bin/true'], mounts: [] }, this.stepDir(id));
    this.filledIds.add(id);
    try {
      return await fn(join(record.bundle, 'rootfs'));
    } finally {
      await this.removeContainer(id);
    }
  }
}

/** The daemon's: a RUN step's container is one of the daemon's containers, made, run and removed as docker run's. */
class ContainerStepRunner extends EngineStepRunner {
  constructor(engine: Engine, private readonly containers: Containers, private readonly images: Images) {
    super(engine);
  }

  protected override pull(name: string): Promise<{ config: string }> {
    return this.images.pull(name, { progress: silentProgress }).then((r) => r.record);
  }

  private async create(imageId: string, spec: StepSpec): Promise<string> {
    const config: Partial<ContainerConfig> = {
      Image: imageId,
      Env: spec.env,
      User: spec.user,
      WorkingDir: spec.workingDir,
      // The step's command replaces the image's entrypoint and command.
      Entrypoint: spec.argv ?? ['/bin/true'],
      Cmd: null,
      Tty: false,
      OpenStdin: false,
      Labels: {},
    };
    const hostConfig: Partial<HostConfig> = { NetworkMode: spec.network || 'none', AutoRemove: false, Binds: null };
    const record = await this.containers.create({ config: config as ContainerConfig, hostConfig: hostConfig as HostConfig });
    return record.Id;
  }

  override async step(imageId: string, spec: StepSpec, o: { fill?: (rootfs: string) => Promise<void>; output: (data: Buffer) => void; started: (containerId: string) => void; signal?: AbortSignal }): Promise<StepResult> {
    if (!spec.argv) return this.filled(imageId, o);
    const id = await this.create(imageId, spec);
    o.started(id);
    const attachment = await this.containers.attach(id, { stdin: false, stdout: true, stderr: true, stream: true, logs: false }, { write: (_s, data) => o.output(data) });
    const exited = this.containers.wait(id, 'next-exit');
    // A client that goes away cancels the build: the step's process is killed (its exit fails the step).
    const cancel = () => void this.containers.kill(id, 'SIGKILL').catch(() => {});
    o.signal?.addEventListener('abort', cancel, { once: true });
    let exitCode: number;
    try {
      await this.containers.start(id);
      if (o.signal?.aborted) cancel();
      exitCode = await exited;
    } finally {
      o.signal?.removeEventListener('abort', cancel);
    }
    await attachment.done;
    return { containerId: id, exitCode };
  }

  override async removeContainer(id: string): Promise<void> {
    if (this.filledIds.has(id)) await super.removeContainer(id);
    else await this.containers.remove(id, { force: true, volumes: true });
  }
}

/** Extracts the context tar into `dir`; no entry may leave it. */
async function extractContext(body: Readable, dir: string): Promise<void> {
  try {
    await applyLayer(dir, readTar(decompress(body, 'the build context')), 'delete', 'the build context');
  } catch (e) {
    if (e instanceof TarFormatError) throw new RuntimeError({ kind: 'invalid-argument', step: `failed to read the build context: ${e.message}` });
    if (e instanceof RuntimeError) throw new RuntimeError({ kind: 'invalid-argument', step: `failed to read the build context: ${e.message}` });
    throw e;
  }
}

/**
 * At daemon start, before anything builds: what a build cut short by a crash
 * left — extracted contexts and the bundles of filled steps (their writable
 * snapshots and records). A RUN step's container is an ordinary container:
 * recover() finds it like any other.
 */
export async function removeBuildLeftovers(engine: Engine, warn: (message: string) => void): Promise<void> {
  await rm(join(engine.root, 'build', 'tmp'), { recursive: true, force: true }).catch((e) => warn(`removing old build contexts: ${(e as Error).message}`));
  for (const c of await engine.listContainers()) {
    if (!c.id.startsWith('build-')) continue;
    await engine.removeContainer(c.id, { force: true }).catch((e) => warn(`removing the build step ${c.id}: ${(e as Error).message}`));
  }
}

/** docker build: the final image's ID; the tags are set on it. */
export async function buildImage(engine: Engine, containers: Containers, req: BuildRequest): Promise<string> {
  const images = new Images(engine, containers);
  return inContextDir(engine, (tmp) => extractContext(req.context, tmp), (dir) =>
    buildInContext(dir, req, engine, new ContainerStepRunner(engine, containers, images), (id, name) => images.tag(id, name)));
}

/**
 * tsctl build: the context is directory `dir`, as the docker CLI would send
 * it — .dockerignore applied (walkContext), owners 0:0 as in the CLI's tar —
 * copied under the data root; each step runs with the engine alone.
 */
export async function buildDirectory(engine: Engine, dir: string, req: ContextBuildRequest): Promise<string> {
  return inContextDir(engine, (tmp) => copyContext(dir, tmp, req.dockerfile || 'Dockerfile'), (ctx) =>
    buildInContext(ctx, req, engine, new EngineStepRunner(engine), async (id, name) => { await engine.tagImage(id, name); }));
}

/** A temp context directory under the data root, filled by `fill`, removed after `fn` however it ended. */
async function inContextDir<T>(engine: Engine, fill: (dir: string) => Promise<void>, fn: (dir: string) => Promise<T>): Promise<T> {
  const tmp = join(engine.root, 'build', 'tmp', `context-${randomBytes(8).toString('hex')}`);
  await mkdir(tmp, { recursive: true, mode: 0o700 });
  try {
    await fill(tmp);
    return await fn(tmp);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/** What .dockerignore lets through of `src`, into `dst`: files, directories, symlinks (not followed), owned by root. */
async function copyContext(src: string, dst: string, dockerfile: string): Promise<void> {
  const ignore = await readFile(join(src, '.dockerignore'), 'utf8').catch(() => '');
  for await (const e of walkContext(src, parseDockerignore(ignore), { dockerfile })) {
    const from = join(src, e.path);
    const to = join(dst, e.path);
    const st = await lstat(from);
    if (e.type === 'directory') await mkdir(to, { recursive: true });
    else if (e.type === 'file') await copyFile(from, to);
    else if (e.type === 'symlink') await symlink(await readlink(from), to);
    else continue;
    if (e.type !== 'symlink') await chmod(to, st.mode & 0o7777);
    await lchown(to, 0, 0);
  }
}

async function buildInContext(dir: string, req: ContextBuildRequest, engine: Engine, runner: StepRunner, tag: (id: string, name: string) => Promise<void>): Promise<string> {
  const tags = req.tags.map(fullName);
  const dockerfilePath = req.dockerfile || 'Dockerfile';
  let text: string;
  try {
    text = await readFile(await resolveInRootAsync(dir, dockerfilePath), 'utf8');
  } catch {
    throw new RuntimeError({ kind: 'invalid-argument', step: `Cannot locate specified Dockerfile: ${dockerfilePath}` });
  }
  const df = parseDockerfileText(text);
  const p = hostPlatform();
  const id = await build(df, {
    dataRoot: engine.root,
    contextDir: dir,
    buildArgs: req.buildArgs,
    target: req.target,
    noCache: req.noCache,
    pull: req.pull,
    labels: req.labels,
    network: req.networkMode && req.networkMode !== 'default' ? req.networkMode : 'none',
    rm: req.rm,
    forceRm: req.forceRm,
    output: req.output,
    signal: req.signal,
    platform: { os: p.os, architecture: p.architecture, ...(p.variant ? { variant: p.variant } : {}) },
  }, runner);
  req.built?.(id);
  req.output(`Successfully built ${short(id)}\n`);
  for (const t of tags) {
    await tag(id, t);
    req.output(`Successfully tagged ${familiar(t)}\n`);
  }
  return id;
}

function familiar(name: string): string {
  return name.replace(/^docker\.io\/(library\/)?/, '');
}

export interface CommitRequest {
  container: string;
  /** repo[:tag] (or repo and tag apart); none: an untagged image. */
  repo?: string;
  tag?: string;
  comment?: string;
  author?: string;
  /** Dockerfile instructions applied to the config (CMD, ENV, ...). */
  changes: string[];
  /** The config of the request body (docker commit's API), merged over the container's. */
  config?: Partial<ContainerConfig>;
  /** Pause a running container while its layer is read (docker commit's default). */
  pause: boolean;
}

/** docker commit: the container's changes as a new image on top of its image. */
export async function commitContainer(engine: Engine, containers: Containers, req: CommitRequest): Promise<string> {
  const images = new Images(engine, containers);
  const record = containers.get(req.container);
  const base = await engine.imageDetails(record.ImageId);
  // As dockerd: a running container is paused while its layer is read, so the layer is one moment's.
  const paused = req.pause && record.State.Status === 'running';
  if (paused) await containers.pause(record.Id);
  try {
    return await commitLayer(engine, images, record, base, req);
  } finally {
    if (paused) await containers.unpause(record.Id).catch(() => {});
  }
}

async function commitLayer(engine: Engine, images: Images, record: ReturnType<Containers['get']>, base: Awaited<ReturnType<Engine['imageDetails']>>, req: CommitRequest): Promise<string> {
  // From the layer's blob to the image's name, prune must wait: nothing names the blob before.
  return withLease(engine.root, async () => {
    const layer = await engine.storeContainerLayer(record.Id, undefined, { commitSnapshot: true });
    const c = record.Config;
    const parent = base.config as unknown as BuiltImageConfig;
    const cfg: BuiltImageConfig['config'] = {
      ...(parent.config ?? {}),
      Env: c.Env,
      Cmd: c.Cmd,
      Entrypoint: c.Entrypoint,
      WorkingDir: c.WorkingDir,
      User: c.User,
      Labels: c.Labels,
      ...(c.ExposedPorts ? { ExposedPorts: c.ExposedPorts } : {}),
      ...(c.StopSignal ? { StopSignal: c.StopSignal } : {}),
      ...(req.config ?? {}),
    };
    for (const change of req.changes) applyChange(cfg, change);
    const created = new Date().toISOString();
    const layers: Descriptor[] = [...base.manifest.layers, ...(layer ? [{ mediaType: layer.mediaType, digest: layer.digest, size: layer.size }] : [])];
    const image: BuiltImageConfig = {
      architecture: parent.architecture,
      os: parent.os,
      ...(parent.variant ? { variant: parent.variant } : {}),
      created,
      ...(req.author ? { author: req.author } : {}),
      config: cfg,
      container: record.Id,
      rootfs: { type: 'layers', diff_ids: [...(parent.rootfs?.diff_ids ?? []), ...(layer ? [layer.diffId] : [])] },
      history: [...(parent.history ?? []), { created, created_by: [record.Path, ...record.Args].join(' '), ...(req.comment ? { comment: req.comment } : {}), ...(req.author ? { author: req.author } : {}), ...(layer ? {} : { empty_layer: true }) }],
    };
    const id = writeBuiltImage(engine.root, image, layers).config;
    if (req.repo) {
      const name = req.tag ? `${req.repo}:${req.tag}` : req.repo;
      await images.tag(id, fullName(name));
    } else keepBuiltImage(engine.root, id);
    return id;
  });
}

/** One --change instruction (the subset docker commit allows) applied to a config. */
function applyChange(cfg: BuiltImageConfig['config'], change: string): void {
  const df = parseDockerfileText(`FROM scratch\n${change}\n`);
  const ins = df.stages[0]?.instructions[0];
  if (!ins) return;
  const argv = (c: { form: 'shell'; command: string } | { form: 'exec'; argv: string[] }) => (c.form === 'exec' ? c.argv : ['/bin/sh', '-c', c.command]);
  switch (ins.kind) {
    case 'CMD': cfg.Cmd = argv(ins.command); break;
    case 'ENTRYPOINT': cfg.Entrypoint = argv(ins.command); break;
    case 'ENV': for (const p of ins.pairs) cfg.Env = [...(cfg.Env ?? []).filter((e) => e.split('=')[0] !== p.key), `${p.key}=${p.value}`]; break;
    case 'LABEL': cfg.Labels = { ...(cfg.Labels ?? {}), ...Object.fromEntries(ins.pairs.map((p) => [p.key, p.value])) }; break;
    case 'USER': cfg.User = ins.user; break;
    case 'WORKDIR': cfg.WorkingDir = ins.path; break;
    case 'EXPOSE': cfg.ExposedPorts = { ...(cfg.ExposedPorts ?? {}), ...Object.fromEntries(ins.ports.map((p) => [p.includes('/') ? p : `${p}/tcp`, {}])) }; break;
    case 'VOLUME': cfg.Volumes = { ...(cfg.Volumes ?? {}), ...Object.fromEntries(ins.paths.map((p) => [p, {}])) }; break;
    case 'STOPSIGNAL': cfg.StopSignal = ins.signal; break;
    default: throw new RuntimeError({ kind: 'invalid-argument', step: `${ins.kind} is not a valid change command` });
  }
}
