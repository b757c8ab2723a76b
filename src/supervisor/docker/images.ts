// /images: pull (create) with Docker's JSON progress stream and the client's
// X-Registry-Auth, list (filters), inspect, history, tag, delete, prune; /auth
// (auth.ts). The rules (conflicts, dangling images, events) are the engine's
// (src/engine/images.ts); this file parses and maps.
import type { ServerResponse } from 'node:http';
import { PassThrough } from 'node:stream';
import { BadRequest } from '../http/errors.js';
import { messageOf } from '../http/errors.js';
import { sendJson, type Router } from '../http/router.js';
import { familiarName, type Progress } from '../../engine/engine.js';
import { fullName, Images } from '../../engine/images.js';
import { registerAuth, registryAuth } from './auth.js';
import type { Api } from './context.js';
import { parseFilters } from './system.js';

const truthy = (v: string | null) => ['1', 'true', 'True', 'TRUE'].includes(v ?? '');

const short = (digest: string) => digest.replace(/^sha256:/, '').slice(0, 12);
const unix = (iso: string) => (iso ? Math.floor(Date.parse(iso) / 1000) : 0);

/** go-units HumanSizeWithPrecision(n, 4): decimal units, 4 significant digits (36.45kB, 1.035MB, 148B). */
function humanSize(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) {
    n /= 1000;
    i++;
  }
  return `${Number(n.toPrecision(4))}${units[i]}`;
}

/** Docker's progress bar text (moby jsonmessage JSONProgress.String): [=>     ]  36.45kB/1.035MB */
function bar(current: number, total: number): string {
  const pct = Math.min(50, Math.floor(Math.floor((current / total) * 100) / 2));
  return `[${'='.repeat(pct)}>${' '.repeat(Math.max(0, 50 - pct))}] ${humanSize(current).padStart(8)}/${humanSize(total)}`;
}

/** dockerd's progress reader reports every 512 KiB read, and at the end. */
const UPDATE_EVERY = 512 * 1024;

/** Progress as Docker's JSON lines; the headers go out with the first line, so an early error is still a plain status. */
function jsonProgress(res: ServerResponse): Progress & { line(v: object): void } {
  const totals = new Map<string, number>();
  const reported = new Map<string, number>();
  const downloaded = new Set<string>();
  // A layer that is here already is only "Already exists" (its status comes in the same turn).
  const pending = new Set<string>();
  const flush = (id: string) => {
    if (pending.delete(id)) line({ status: 'Pulling fs layer', progressDetail: {}, id: short(id) });
  };
  const line = (v: object) => {
    if (!res.headersSent) res.writeHead(200, { 'Content-Type': 'application/json' });
    res.write(JSON.stringify(v) + '\r\n');
  };
  return {
    line,
    layer(id, total) {
      totals.set(id, total);
      pending.add(id);
      queueMicrotask(() => flush(id));
    },
    update(id, done) {
      flush(id);
      const total = totals.get(id) ?? 0;
      if (done <= 0 || (done - (reported.get(id) ?? 0) < UPDATE_EVERY && done < total)) return;
      reported.set(id, done);
      line({ status: 'Downloading', progressDetail: { current: done, total }, progress: bar(done, total), id: short(id) });
    },
    status(id, state) {
      if (state === 'already here' && pending.delete(id)) {
        line({ status: 'Already exists', progressDetail: {}, id: short(id) });
        return;
      }
      flush(id);
      // dockerd's sequence: Verifying Checksum, Download complete, (Extracting,) Pull complete. A layer
      // unpacked while it downloads is reported once it is checked and in place.
      const text = state === 'already here' ? ['Already exists'] : state === 'downloaded' ? ['Verifying Checksum', 'Download complete'] : state === 'unpacked' ? [...(downloaded.has(id) ? [] : ['Verifying Checksum', 'Download complete']), 'Pull complete'] : [state];
      if (state === 'downloaded') downloaded.add(id);
      for (const status of text) line({ status, progressDetail: {}, id: short(id) });
    },
    done() {},
  };
}

const ZERO_CONTAINER_CONFIG = {
  Hostname: '', Domainname: '', User: '', AttachStdin: false, AttachStdout: false, AttachStderr: false, Tty: false, OpenStdin: false, StdinOnce: false,
  Env: null, Cmd: null, Image: '', Volumes: null, WorkingDir: '', Entrypoint: null, OnBuild: null, Labels: null,
};

/** A push's progress as dockerd's JSON lines: Preparing, Pushing (bars), Pushed / Layer already exists / Mounted from. */
function pushProgress(line: (v: object) => void): Progress {
  const totals = new Map<string, number>();
  const reported = new Map<string, number>();
  return {
    layer(id, total) {
      totals.set(id, total);
      line({ status: 'Preparing', progressDetail: {}, id: short(id) });
    },
    update(id, done) {
      const total = totals.get(id) ?? 0;
      if (done <= 0 || (done - (reported.get(id) ?? 0) < UPDATE_EVERY && done < total)) return;
      reported.set(id, done);
      line({ status: 'Pushing', progressDetail: { current: done, total }, progress: bar(done, total), id: short(id) });
    },
    status(id, state) {
      if (state === 'pushing') return;
      const text = state === 'exists' ? 'Layer already exists' : state === 'pushed' ? 'Pushed' : state === 'waiting' ? 'Waiting' : state.startsWith('mounted:') ? `Mounted from ${familiarName(state.slice(8))}` : state;
      line({ status: text, progressDetail: {}, id: short(id) });
    },
    done() {},
  };
}

export function registerImages(router: Router, api: Api): void {
  const images = new Images(api.engine, api.containers);
  registerAuth(router, api, images);

  // docker save: one tar of the named images (an OCI layout and a docker archive).
  const save = async (names: string[], res: ServerResponse) => {
    if (!names.length) throw new BadRequest('names: missing');
    for (const n of names) await api.engine.findImage(n).catch(() => { throw Object.assign(new Error(`No such image: ${n}`), { kind: 'not-found' }); });
    res.writeHead(200, { 'Content-Type': 'application/x-tar' });
    // Through a stream of our own, so that a client that goes away fails the writer
    // (a waiting write would otherwise wait for a drain that never comes).
    const out = new PassThrough();
    // The writer learns of a destroyed stream from its own writes; an 'error' event with nobody
    // listening between two writes would take the whole daemon down (it did: a client gone mid-save).
    out.on('error', () => {});
    out.pipe(res);
    res.on('close', () => { if (!res.writableFinished) out.destroy(new Error('the client closed the connection')); });
    try {
      await api.engine.saveImages(out, names);
    } catch (e) {
      // Headers are out: all a client can be told is a cut-off archive.
      res.destroy(e as Error);
    }
  };
  router.get('/images/get', async (req, res) => save(req.query.getAll('names'), res));
  router.get('/images/{name*}/get', async (req, res) => save([req.params.name], res));

  // docker load: the body is the tar; dockerd's "Loaded image" lines, or an error status.
  // (?quiet= only silences per-layer progress, which is never sent.)
  router.post('/images/load', async (req, res) => {
    const loaded = await api.engine.loadImages(req.raw, 'the request body (docker load)');
    const lines: string[] = [];
    for (const r of loaded) {
      const names = (await images.namesOf(r.config)).tags;
      const name = familiarName(r.name);
      lines.push(names.includes(name) ? `Loaded image: ${name}\n` : `Loaded image ID: ${r.config}\n`);
    }
    if (!loaded.length) lines.push('Loaded image ID: <none>\n');
    res.writeHead(200, { 'Content-Type': 'application/json' });
    for (const stream of lines) res.write(JSON.stringify({ stream }) + '\r\n');
    res.end();
  });

  router.post('/images/{name*}/push', async (req, res) => {
    const full = fullName(req.params.name);
    const tag = req.query.get('tag') || undefined;
    const repo = full.replace(/:[^:/]+$/, '');
    const auth = registryAuth(req.headers['x-registry-auth']);
    const registry = repo.split('/')[0];
    const insecure = api.settings.insecureRegistries.includes(registry);
    const line = (v: object) => {
      if (!res.headersSent) res.writeHead(200, { 'Content-Type': 'application/json' });
      res.write(JSON.stringify(v) + '\r\n');
    };
    // dockerd names the repository in full (docker.io/library/x) before anything else.
    line({ status: `The push refers to repository [${repo}]` });
    try {
      // A name with a tag and no ?tag= pushes that tag (the API's name may carry it).
      const explicit = /:[^:/]+$/.test(req.params.name) ? /:([^:/]+)$/.exec(full)![1] : undefined;
      const pushed = await images.push(repo, tag ?? explicit, { insecure, auth, progress: pushProgress(line) });
      for (const p of pushed) {
        line({ status: `${p.tag}: digest: ${p.digest} size: ${p.size}` });
        line({ progressDetail: {}, aux: { Tag: p.tag, Digest: p.digest, Size: p.size } });
      }
    } catch (e) {
      line({ errorDetail: { message: messageOf(e) }, error: messageOf(e) });
    }
    res.end();
  });

  router.post('/images/create', async (req, res) => {
    const from = req.query.get('fromImage');
    if (!from) throw new BadRequest('fromImage: missing (importing with fromSrc is not supported)');
    const tag = req.query.get('tag');
    // fromImage may carry the tag or digest itself; tag is added otherwise.
    const hasTag = /@|:[^/]+$/.test(from);
    const name = tag && !hasTag ? (tag.startsWith('sha256:') ? `${from}@${tag}` : `${from}:${tag}`) : hasTag ? from : `${from}:latest`;
    const full = fullName(name);
    const auth = registryAuth(req.headers['x-registry-auth']);
    const registry = name.split('/')[0];
    const insecure = api.settings.insecureRegistries.includes(registry);
    const progress = jsonProgress(res);
    const shown = familiarName(full);
    // As dockerd: "<tag>: Pulling from <repository path>" once the manifest is here, so a
    // missing image or a refused login is still a plain error status.
    const at = /@(sha256:[a-f0-9]+)$/.exec(full)?.[1] ?? /:([^:/]+)$/.exec(full)![1];
    const repoPath = full.replace(/[:@][^/]*$/, '').split('/').slice(1).join('/');
    progress.resolved = () => progress.line({ status: `Pulling from ${repoPath}`, id: at });
    try {
      const { record, upToDate } = await images.pull(full, { insecure, auth, progress });
      progress.line({ status: `Digest: ${record.target.digest}` });
      progress.line({ status: upToDate ? `Status: Image is up to date for ${shown}` : `Status: Downloaded newer image for ${shown}` });
    } catch (e) {
      if (!res.headersSent) throw e;
      progress.line({ errorDetail: { message: messageOf(e) }, error: messageOf(e) });
    }
    res.end();
  });

  router.get('/images/json', async (req, res) => {
    const list = await images.list(parseFilters(req.query.get('filters')));
    sendJson(res, 200, list.map((e) => ({
      Containers: -1, Created: unix(e.created), Id: e.id, Labels: Object.keys(e.labels).length ? e.labels : null, ParentId: '', RepoDigests: e.digests, RepoTags: e.tags, SharedSize: -1, Size: e.size, VirtualSize: e.size,
    })));
  });

  router.post('/images/prune', async (req, res) => {
    sendJson(res, 200, await images.prune(parseFilters(req.query.get('filters'))));
  });

  router.get('/images/{name*}/history', async (req, res) => {
    sendJson(res, 200, await images.history(req.params.name));
  });

  router.get('/images/{name*}/json', async (req, res) => {
    let details;
    try {
      details = await api.engine.imageDetails(req.params.name);
    } catch {
      throw Object.assign(new Error(`No such image: ${req.params.name}`), { kind: 'not-found' });
    }
    const { record, config, manifest } = details;
    const { tags, digests } = await images.namesOf(record.config);
    const size = (await images.sizeOf(config, manifest.layers.map((l) => l.size))).total;
    sendJson(res, 200, {
      Id: record.config,
      RepoTags: tags,
      RepoDigests: digests,
      Parent: '',
      Comment: '',
      Created: config.created ?? '',
      Container: '',
      // The config of the container that made the image (none here): dockerd's zero value, which docker-compose reads.
      ContainerConfig: ZERO_CONTAINER_CONFIG,
      DockerVersion: '',
      Author: '',
      Config: { Env: config.config?.Env ?? null, Cmd: config.config?.Cmd ?? null, Entrypoint: config.config?.Entrypoint ?? null, WorkingDir: config.config?.WorkingDir ?? '', User: config.config?.User ?? '', Labels: config.config?.Labels ?? null, Volumes: config.config?.Volumes ?? null, ExposedPorts: config.config?.ExposedPorts ?? null, StopSignal: config.config?.StopSignal,
        OnBuild: config.config?.OnBuild ?? null, ...(config.config?.Healthcheck ? { Healthcheck: config.config.Healthcheck } : {}), ...(config.config?.Shell ? { Shell: config.config.Shell } : {}) },
      Architecture: config.architecture,
      Variant: config.variant,
      Os: config.os,
      Size: size,
      VirtualSize: size,
      GraphDriver: { Name: 'overlay', Data: null },
      RootFS: { Type: 'layers', Layers: config.rootfs.diff_ids },
      Metadata: { LastTagTime: record.updated },
    });
  });

  router.post('/images/{name*}/tag', async (req, res) => {
    const repo = req.query.get('repo');
    if (!repo) throw new BadRequest('repo: missing');
    const tag = req.query.get('tag') || 'latest';
    await images.tag(req.params.name, fullName(`${repo}:${tag}`));
    res.writeHead(201).end();
  });

  router.delete('/images/{name*}', async (req, res) => {
    const { items } = await images.remove(req.params.name, { force: truthy(req.query.get('force')), noprune: truthy(req.query.get('noprune')) });
    sendJson(res, 200, items);
  });
}
