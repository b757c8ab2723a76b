// The classic builder (Docker's Builder-Version 1): a parsed Dockerfile run
// step by step, each step an image whose parent is the previous one. What
// runs a step's container is the caller's (`StepRunner`, the engine: this
// folder knows nothing of running containers); the builder decides what each
// instruction means for the image config, the history and the cache, and
// writes the images. A step is reused when the cache index maps
// sha256(parent image ID, the instruction with its arguments expanded, the
// content hash of what a COPY/ADD copies) to an image that is still here.
import { createHash } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { writeFileAtomicAsync } from '../../common/atomicFile.js';
import { RuntimeError } from '../../common/errors.js';
import type { StoredLayer } from '../diff/storeLayer.js';
import { withLease } from '../gcLease.js';
import { ImageStore } from '../imageStore.js';
import type { Descriptor } from '../mediaTypes.js';
import { ContentStore } from '../content/store.js';
import { copyInto, mkdirInRoot } from './copySteps.js';
import { intermediateName, keepBuiltImage, writeBuiltImage, type BuildImageConfigBody, type BuiltImageConfig, type HistoryEntry } from './imageWriter.js';
import type { CommandForm, Dockerfile, Instruction, Stage } from './instructions.js';
import { BuildArgs, expandInstruction, processWord, unusedBuildArgsWarning, type StageArgs } from './substitute.js';
import { hashCopySources } from './contextHash.js';
import { parseOnbuildTrigger } from './dockerfile.js';
import { fetchIntoContext, isUrl } from './remote.js';

export type { BuiltImageConfig };

/** What a step container runs with. */
export interface StepSpec {
  /** The command; none for a COPY/WORKDIR step (the container is only filled). */
  argv?: string[];
  env: string[];
  user: string;
  workingDir: string;
  /** none (default), host, or a network name. */
  network: string;
}

export interface StepResult {
  containerId: string;
  exitCode: number;
}

/** The engine's side: images by name, and containers made of a step's image. */
export interface StepRunner {
  /** The image `name` names (pulled when missing, or always with `pull`): its ID. */
  image(name: string, o: { pull: boolean; output: (line: string) => void }): Promise<string>;
  /**
   * A container of image `imageId`: `fill` writes into its mounted rootfs,
   * then `spec.argv` runs (its output to `output`). The container stays
   * until removeContainer.
   */
  step(imageId: string, spec: StepSpec, o: { fill?: (rootfs: string) => Promise<void>; output: (data: Buffer) => void; started: (containerId: string) => void; signal?: AbortSignal }): Promise<StepResult>;
  /** A step container's changes as a stored layer; undefined when it changed nothing. */
  storeLayer(containerId: string): Promise<StoredLayer | undefined>;
  removeContainer(id: string): Promise<void>;
  /** Runs `fn` with image `imageId`'s rootfs mounted, the source of a COPY --from (nothing writes to it). */
  withRootfs<T>(imageId: string, fn: (rootfs: string) => Promise<T>): Promise<T>;
}

export interface BuildOptions {
  dataRoot: string;
  /** The extracted context. */
  contextDir: string;
  buildArgs: Record<string, string | null>;
  target?: string;
  noCache: boolean;
  pull: boolean;
  labels: Record<string, string>;
  network: string;
  /** Remove intermediate containers after a successful step (default true). */
  rm: boolean;
  /** Remove them after a failed one too. */
  forceRm: boolean;
  /** A line (or raw output) for the client's stream. */
  output: (text: string) => void;
  platform: { os: string; architecture: string; variant?: string };
  /** The client went away: the running step is killed and the build stops. */
  signal?: AbortSignal;
}

const DEFAULT_SHELL = ['/bin/sh', '-c'];
const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const short = (id: string) => id.replace(/^sha256:/, '').slice(0, 12);

/** Docker's "failed to ..." wrapper keeps the client's 400 for a bad Dockerfile. */
const invalid = (message: string) => new RuntimeError({ kind: 'invalid-argument', step: message });

interface StageState {
  imageId: string;
  manifest: string;
  config: BuiltImageConfig;
  layers: Descriptor[];
  /** The ARGs declared in this stage (values: --build-arg, else the default, else the meta ARG's). */
  args: StageArgs;
  /** CMD set in this stage (an ENTRYPOINT then keeps it; else it resets the inherited one). */
  cmdSet: boolean;
}

// The cache index: key → "<image ID> <manifest digest>", one JSON file under the data root.

interface CacheIndex {
  entries: Record<string, string>;
}

/** A step's image: its ID (the config digest) and its manifest's digest. */
interface ImageRef {
  id: string;
  manifest: string;
}

class BuildCache {
  private readonly file: string;
  private index?: CacheIndex;
  constructor(private readonly dataRoot: string) {
    this.file = join(dataRoot, 'build', 'cache.json');
  }

  private async load(): Promise<CacheIndex> {
    if (this.index) return this.index;
    try {
      const v: unknown = JSON.parse(await readFile(this.file, 'utf8'));
      const entries = (v as { entries?: unknown })?.entries;
      const ok = entries && typeof entries === 'object' && Object.values(entries).every((x) => typeof x === 'string');
      this.index = { entries: ok ? (entries as Record<string, string>) : {} };
    } catch {
      this.index = { entries: {} };
    }
    return this.index;
  }

  /** The cached image for `key`, if it is still here: a name keeps it, its config and manifest are stored. */
  async get(key: string): Promise<ImageRef | undefined> {
    const [id, manifest] = ((await this.load()).entries[key] ?? '').split(' ');
    if (!id || !manifest) return undefined;
    const images = new ImageStore(this.dataRoot);
    const kept = images.get(intermediateName(manifest))?.config === id || images.list().some((r) => r.config === id);
    const store = new ContentStore(this.dataRoot);
    if (!kept || !store.has(id) || !store.has(manifest)) return undefined;
    return { id, manifest };
  }

  async put(key: string, image: ImageRef): Promise<void> {
    // Read again before writing: another build may have added entries.
    this.index = undefined;
    const index = await this.load();
    index.entries[key] = `${image.id} ${image.manifest}`;
    await mkdir(join(this.dataRoot, 'build'), { recursive: true });
    await writeFileAtomicAsync(this.file, JSON.stringify(index));
  }
}

function cacheKey(parent: string, createdBy: string, extra: string): string {
  return createHash('sha256').update(`${parent}\n${createdBy}\n${extra}`).digest('hex');
}

/** An image by its name record (a base image, found once per stage). */
function refOf(dataRoot: string, imageId: string): ImageRef {
  const record = new ImageStore(dataRoot).list().find((r) => r.config === imageId);
  if (!record) throw new RuntimeError({ kind: 'not-found', step: `No such image: ${imageId}` });
  return { id: record.config, manifest: record.manifest.digest };
}

function loadConfig(dataRoot: string, image: ImageRef): { config: BuiltImageConfig; layers: Descriptor[] } {
  const store = new ContentStore(dataRoot);
  const config = store.readJson<BuiltImageConfig>(image.id);
  const manifest = store.readJson<{ layers: Descriptor[] }>(image.manifest);
  return {
    config: { ...config, config: config.config ?? {}, history: config.history ?? [], rootfs: { type: 'layers', diff_ids: config.rootfs?.diff_ids ?? [] } },
    layers: manifest.layers,
  };
}

/** The environment a step sees: the image's Env, then the ARGs in scope that Env does not set. */
function stepEnv(s: StageState): string[] {
  const env = [...(s.config.config.Env ?? [])];
  const names = new Set(env.map((e) => e.split('=')[0]));
  for (const [k, v] of s.args.values()) if (!names.has(k)) env.push(`${k}=${v}`);
  return env;
}

/** Variables for expansion: ENV wins over ARG, as Docker. */
function variables(s: StageState): Map<string, string> {
  return s.args.environment(s.config.config.Env ?? []);
}

function setEnv(env: string[], key: string, value: string): string[] {
  const out = env.filter((e) => e.split('=')[0] !== key);
  out.push(`${key}=${value}`);
  return out;
}

const shellOf = (s: StageState) => s.config.config.Shell ?? DEFAULT_SHELL;

function commandArgv(c: CommandForm, s: StageState): string[] {
  return c.form === 'exec' ? c.argv : [...shellOf(s), c.command];
}

/** Docker's `#(nop)` text of a command: CMD ["/bin/sh" "-c" "echo hi"]. */
const quotedList = (argv: string[]) => `[${argv.map((a) => JSON.stringify(a)).join(' ')}]`;

function durationNs(text: string | undefined, what: string): number | undefined {
  if (text === undefined) return undefined;
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;
  const unit: Record<string, number> = { ns: 1, us: 1e3, 'µs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
  let total = 0;
  let m: RegExpExecArray | null;
  let end = 0;
  while ((m = re.exec(text))) {
    total += Number(m[1]) * unit[m[2]];
    end = re.lastIndex;
  }
  if (end !== text.length || text === '') throw invalid(`HEALTHCHECK: invalid duration ${JSON.stringify(text)} for ${what}`);
  return Math.round(total);
}

function normalizePort(p: string): string {
  return p.includes('/') ? p.toLowerCase() : `${p}/tcp`;
}

/** Runs the Dockerfile; the final image's ID (sha256:...). */
export async function build(df: Dockerfile, o: BuildOptions, runner: StepRunner): Promise<string> {
  const cache = new BuildCache(o.dataRoot);
  const escape = df.directives.escape ?? '\\';
  const args = new BuildArgs(new Map(Object.entries(o.buildArgs)));
  for (const w of df.warnings ?? []) o.output(`${w}\n`);
  let stages = df.stages;
  if (!stages.length) throw invalid('the Dockerfile (Dockerfile) cannot be empty');
  if (o.target) {
    const t = o.target.toLowerCase();
    const i = stages.findIndex((s) => s.name === t);
    if (i < 0) throw invalid(`failed to reach build target ${o.target} in Dockerfile`);
    stages = stages.slice(0, i + 1);
  }
  const total = stages.reduce((n, s) => n + 1 + s.instructions.length, 0);
  let stepNo = 0;
  const results = new Map<number, string>();
  const byName = new Map<string, number>();
  for (const a of df.metaArgs) for (const x of a.args) {
    args.addMetaArg(x.name, x.default !== undefined ? processWord(x.default, args.metaEnvironment(), escape) : undefined);
  }
  const stageImage = (ref: string): string | undefined => {
    const n = /^\d+$/.test(ref) ? Number(ref) : byName.get(ref.toLowerCase());
    return n === undefined ? undefined : results.get(n);
  };
  let last = '';
  let lastRef: ImageRef = { id: '', manifest: '' };
  for (const stage of stages) {
    stepNo++;
    o.output(`Step ${stepNo}/${total} : ${stage.from.original}\n`);
    const s = await fromStage(stage, o, runner, args, escape, stageImage);
    o.output(` ---> ${short(s.imageId)}\n`);
    // The base image's ONBUILD triggers run first, as part of FROM; the image built on it has none.
    const triggers = s.config.config.OnBuild ?? [];
    if (triggers.length) {
      o.output(`# Executing ${triggers.length} build trigger${triggers.length > 1 ? 's' : ''}\n`);
      s.config.config.OnBuild = null;
      for (const trigger of triggers) {
        await runInstruction(parseOnbuildTrigger(trigger, stage.from.loc, escape), s, o, runner, cache, stageImage, escape);
      }
      o.output(` ---> ${short(s.imageId)}\n`);
    }
    for (const ins of stage.instructions) {
      if (o.signal?.aborted) throw new RuntimeError({ kind: 'invalid-state', step: 'the build was cancelled (the client went away)' });
      stepNo++;
      o.output(`Step ${stepNo}/${total} : ${ins.original}\n`);
      await runInstruction(ins, s, o, runner, cache, stageImage, escape);
      o.output(` ---> ${short(s.imageId)}\n`);
    }
    results.set(stage.index, s.imageId);
    if (stage.name) byName.set(stage.name, stage.index);
    last = s.imageId;
    lastRef = { id: s.imageId, manifest: s.manifest };
  }
  // Build labels (--label) apply to the final image as a last LABEL step would.
  if (Object.keys(o.labels).length) {
    const { config, layers } = loadConfig(o.dataRoot, lastRef);
    config.config.Labels = { ...(config.config.Labels ?? {}), ...o.labels };
    config.created = new Date().toISOString();
    last = (await withLease(o.dataRoot, async () => writeBuiltImage(o.dataRoot, config, layers))).config;
  }
  keepBuiltImage(o.dataRoot, last);
  const warning = unusedBuildArgsWarning(args.unused());
  if (warning) o.output(`${warning}\n`);
  return last;
}

async function fromStage(stage: Stage, o: BuildOptions, runner: StepRunner, args: BuildArgs, escape: string, stageImage: (ref: string) => string | undefined): Promise<StageState> {
  const name = (expandInstruction(stage.from, args.metaEnvironment(), escape) as Instruction & { kind: 'FROM' }).image;
  let image: ImageRef;
  if (name.toLowerCase() === 'scratch') {
    const empty: BuiltImageConfig = { architecture: o.platform.architecture, os: o.platform.os, ...(o.platform.variant ? { variant: o.platform.variant } : {}), created: new Date(0).toISOString(), config: { Env: [DEFAULT_PATH] }, rootfs: { type: 'layers', diff_ids: [] }, history: [] };
    const r = await withLease(o.dataRoot, async () => writeBuiltImage(o.dataRoot, empty, []));
    image = { id: r.config, manifest: r.manifest.digest };
  } else {
    image = refOf(o.dataRoot, stageImage(name) ?? (await runner.image(name, { pull: o.pull, output: o.output })));
  }
  const { config, layers } = loadConfig(o.dataRoot, image);
  return { imageId: image.id, manifest: image.manifest, config, layers, args: args.newStage(), cmdSet: false };
}

async function runInstruction(written: Instruction, s: StageState, o: BuildOptions, runner: StepRunner, cache: BuildCache, stageImage: (ref: string) => string | undefined, escape: string): Promise<void> {
  // Arguments expanded as dockerd does, with the ENV and ARGs in scope before this step.
  const ins = expandInstruction(written, variables(s), escape);
  const c = s.config.config;
  /** A step that only changes the config: an empty_layer history entry. */
  const meta = async (text: string, change: (cfg: BuildImageConfigBody, whole: BuiltImageConfig) => void) => {
    const createdBy = `/bin/sh -c #(nop) ${text}`;
    const key = cacheKey(s.imageId, createdBy, '');
    if (await useCache(key)) return;
    const cfg = structuredClone(s.config);
    change(cfg.config, cfg);
    await withLease(o.dataRoot, async () => commitImage(cfg, undefined, createdBy));
    await cache.put(key, { id: s.imageId, manifest: s.manifest });
  };
  const useCache = async (key: string): Promise<boolean> => {
    if (o.noCache) return false;
    const hit = await cache.get(key);
    if (!hit) return false;
    o.output(' ---> Using cache\n');
    const { config, layers } = loadConfig(o.dataRoot, hit);
    s.imageId = hit.id;
    s.manifest = hit.manifest;
    s.config = config;
    s.layers = layers;
    return true;
  };
  const commitImage = (cfg: BuiltImageConfig, layer: StoredLayer | undefined, createdBy: string) => {
    const created = new Date().toISOString();
    const layers = layer ? [...s.layers, { mediaType: layer.mediaType, digest: layer.digest, size: layer.size }] : s.layers;
    const next: BuiltImageConfig = {
      ...cfg,
      created,
      rootfs: { type: 'layers', diff_ids: layer ? [...cfg.rootfs.diff_ids, layer.diffId] : cfg.rootfs.diff_ids },
      history: [...cfg.history, { created, created_by: createdBy, ...(layer ? {} : { empty_layer: true }) } satisfies HistoryEntry],
    };
    const record = writeBuiltImage(o.dataRoot, next, layers);
    s.imageId = record.config;
    s.manifest = record.manifest.digest;
    s.config = next;
    s.layers = layers;
  };
  /** A step that runs a container: RUN, or a filled one (COPY, ADD, WORKDIR). */
  const containerStep = async (createdBy: string, extraKey: string, spec: StepSpec, fill: ((rootfs: string) => Promise<void>) | undefined, announce: boolean, change?: (cfg: BuildImageConfigBody) => void) => {
    const key = cacheKey(s.imageId, createdBy, extraKey);
    if (await useCache(key)) return;
    let containerId = '';
    let result: StepResult;
    // A filled step's container never ran a process and is no container of the daemon's (no
    // `ps -a` shows it): it goes also under --rm=false, which keeps the RUN steps' ones.
    const remove = o.rm || !spec.argv;
    try {
      result = await runner.step(s.imageId, spec, {
        fill,
        output: (d) => o.output(d.toString('utf8')),
        signal: o.signal,
        started: (id) => {
          containerId = id;
          if (announce) o.output(` ---> Running in ${short(id)}\n`);
        },
      });
    } catch (e) {
      if (containerId && (remove || o.forceRm)) await runner.removeContainer(containerId).catch(() => {});
      throw e;
    }
    if (result.exitCode !== 0) {
      if (o.rm || o.forceRm) await runner.removeContainer(result.containerId).catch(() => {});
      throw new RuntimeError({ kind: 'invalid-argument', step: `The command '${(spec.argv ?? []).join(' ')}' returned a non-zero code: ${result.exitCode}` });
    }
    const cfg = structuredClone(s.config);
    change?.(cfg.config);
    // From the layer's blob to the image's name, prune must wait: nothing names the blob before.
    await withLease(o.dataRoot, async () => commitImage(cfg, await runner.storeLayer(result.containerId), createdBy));
    if (remove) {
      if (announce) o.output(`Removing intermediate container ${short(result.containerId)}\n`);
      await runner.removeContainer(result.containerId);
    }
    await cache.put(key, { id: s.imageId, manifest: s.manifest });
  };
  const baseSpec = (): StepSpec => ({ env: stepEnv(s), user: c.User ?? '', workingDir: c.WorkingDir || '/', network: o.network });

  switch (ins.kind) {
    case 'ENV': {
      const pairs = ins.pairs;
      return meta(`ENV ${pairs.map((p) => `${p.key}=${p.value}`).join(' ')}`.replace(/^/, ' '), (cfg) => {
        let env = cfg.Env ?? [];
        for (const p of pairs) env = setEnv(env, p.key, p.value);
        cfg.Env = env;
      });
    }
    case 'LABEL': {
      const pairs = ins.pairs;
      return meta(` LABEL ${pairs.map((p) => `${p.key}=${p.value}`).join(' ')}`, (cfg) => {
        cfg.Labels = { ...(cfg.Labels ?? {}), ...Object.fromEntries(pairs.map((p) => [p.key, p.value])) };
      });
    }
    case 'MAINTAINER':
      return meta(` MAINTAINER ${ins.name}`, (_cfg, whole) => { whole.author = ins.name; });
    case 'ARG': {
      for (const a of ins.args) s.args.declare(a.name, a.default);
      return meta(` ARG ${ins.args.map((a) => (a.default !== undefined ? `${a.name}=${a.default}` : a.name)).join(' ')}`, () => {});
    }
    case 'CMD': {
      const argv = commandArgv(ins.command, s);
      s.cmdSet = true;
      return meta(` CMD ${quotedList(argv)}`, (cfg) => { cfg.Cmd = argv; });
    }
    case 'ENTRYPOINT': {
      const argv = commandArgv(ins.command, s);
      const keepCmd = s.cmdSet;
      return meta(` ENTRYPOINT ${quotedList(argv)}`, (cfg) => {
        cfg.Entrypoint = argv;
        if (!keepCmd) cfg.Cmd = null;
      });
    }
    case 'SHELL':
      return meta(` SHELL ${quotedList(ins.argv)}`, (cfg) => { cfg.Shell = ins.argv; });
    case 'USER': {
      const user = ins.user;
      return meta(` USER ${user}`, (cfg) => { cfg.User = user; });
    }
    case 'EXPOSE': {
      const ports = ins.ports.map(normalizePort);
      return meta(` EXPOSE ${ports.join(' ')}`, (cfg) => {
        cfg.ExposedPorts = { ...(cfg.ExposedPorts ?? {}), ...Object.fromEntries(ports.map((p) => [p, {}])) };
      });
    }
    case 'VOLUME': {
      const paths = ins.paths;
      if (paths.some((p) => !p)) throw invalid(`VOLUME specified can not be an empty string (line ${ins.loc.line})`);
      return meta(` VOLUME ${quotedList(paths).replace(/"/g, '')}`, (cfg) => {
        cfg.Volumes = { ...(cfg.Volumes ?? {}), ...Object.fromEntries(paths.map((p) => [p, {}])) };
      });
    }
    case 'STOPSIGNAL': {
      const sig = ins.signal;
      return meta(` STOPSIGNAL ${sig}`, (cfg) => { cfg.StopSignal = sig; });
    }
    case 'ONBUILD':
      return meta(` ONBUILD ${ins.trigger}`, (cfg) => { cfg.OnBuild = [...(cfg.OnBuild ?? []), ins.trigger]; });
    case 'HEALTHCHECK': {
      const h = ins.check;
      if (h.none) return meta(' HEALTHCHECK NONE', (cfg) => { cfg.Healthcheck = { Test: ['NONE'] }; });
      const test = h.command.form === 'exec' ? ['CMD', ...h.command.argv] : ['CMD-SHELL', h.command.command];
      const hc = {
        Test: test,
        ...(h.interval ? { Interval: durationNs(h.interval, '--interval') } : {}),
        ...(h.timeout ? { Timeout: durationNs(h.timeout, '--timeout') } : {}),
        ...(h.startPeriod ? { StartPeriod: durationNs(h.startPeriod, '--start-period') } : {}),
        ...(h.retries !== undefined ? { Retries: h.retries } : {}),
      };
      return meta(` HEALTHCHECK &{${quotedList(test)} ${JSON.stringify(hc)}}`, (cfg) => { cfg.Healthcheck = hc; });
    }
    case 'WORKDIR': {
      const dir = posix.resolve(c.WorkingDir || '/', ins.path);
      return containerStep(`/bin/sh -c #(nop) WORKDIR ${dir}`, '', baseSpec(), (rootfs) => mkdirInRoot(rootfs, dir), false, (cfg) => { cfg.WorkingDir = dir; });
    }
    case 'RUN': {
      const argv = commandArgv(ins.command, s);
      // Build args in scope are part of what ran (Docker's "|N A=b" prefix) and of the cache key.
      const argPairs = [...s.args.values()].filter(([k]) => !(c.Env ?? []).some((e) => e.split('=')[0] === k)).map(([k, v]) => `${k}=${v}`);
      const createdBy = `${argPairs.length ? `|${argPairs.length} ${argPairs.join(' ')} ` : ''}${argv.join(' ')}`;
      return containerStep(createdBy, '', { ...baseSpec(), argv }, undefined, true);
    }
    case 'COPY':
    case 'ADD': {
      const from = ins.flags.from;
      const sources = ins.sources;
      const destWritten = ins.dest;
      const dest = destWritten.startsWith('/') ? destWritten : `${posix.resolve(c.WorkingDir || '/', destWritten)}${destWritten.endsWith('/') || destWritten === '.' ? '/' : ''}`;
      const what = `${written.kind} ${written.kind === 'COPY' || written.kind === 'ADD' ? [...written.sources, written.dest].join(' ') : ''}`;
      const chown = ins.flags.chown;
      const copy = async (srcRoot: string, srcs = sources, instruction: 'COPY' | 'ADD' = ins.kind) => {
        const { digest, resolved } = await hashCopySources({ contextDir: srcRoot, sources: srcs, chown, chmod: ins.flags.chmod, instruction });
        const kind = resolved.length > 1 ? 'multi' : resolved[0]?.type === 'directory' ? 'dir' : 'file';
        const createdBy = `/bin/sh -c #(nop) ${ins.kind} ${kind}:${digest.slice(7)} in ${dest} `;
        const key = JSON.stringify({ chown, chmod: ins.flags.chmod, from });
        return containerStep(createdBy, key, baseSpec(), (rootfs) => copyInto(rootfs, { kind: instruction, srcRoot, paths: resolved.map((r) => r.path), dest, chown, chmod: ins.flags.chmod }, what), false);
      };
      const urls = ins.kind === 'ADD' ? sources.filter(isUrl) : [];
      if (urls.length) {
        // Fetched into this build's copy of the context, then copied as files are (never extracted, as Docker).
        if (urls.length !== sources.length || from !== undefined) throw invalid(`${what}: ADD of URLs mixed with local sources or --from is not supported`);
        if (urls.length > 1 && !dest.endsWith('/')) throw invalid(`${what}: When using ADD with more than one source file, the destination must be a directory and end with a /`);
        const fetched: string[] = [];
        for (const url of urls) fetched.push(await fetchIntoContext(url, o.contextDir, `.tsrun-add-${createHash('sha256').update(url).digest('hex').slice(0, 12)}`, dest.endsWith('/'), posix.basename(dest)));
        return copy(o.contextDir, fetched, 'COPY');
      }
      if (from === undefined) return copy(o.contextDir);
      const fromRef = from;
      const fromImage = stageImage(fromRef) ?? (await runner.image(fromRef, { pull: o.pull, output: o.output }));
      return runner.withRootfs(fromImage, copy);
    }
    case 'FROM':
      throw invalid(`FROM inside a stage (line ${ins.loc.line})`);
  }
}
