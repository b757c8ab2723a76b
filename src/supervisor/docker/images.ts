// /images: pull (create) with Docker's JSON progress stream and the client's
// X-Registry-Auth, list (filters), inspect, history, tag, delete, prune; /auth
// (auth.ts). The rules (conflicts, dangling images, events) are the engine's
// (src/engine/images.ts); this file parses and maps.
import type { ServerResponse } from 'node:http';
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

/** Docker's progress bar text: [=====>      ] 1.2MB/3.4MB */
function bar(current: number, total: number): string {
  const width = 50;
  const filled = total > 0 ? Math.min(width, Math.floor((current / total) * width)) : 0;
  const mb = (n: number) => (n >= 1e6 ? `${(n / 1e6).toFixed(1)}MB` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}kB` : `${n}B`);
  return `[${'='.repeat(Math.max(0, filled - 1))}${filled ? '>' : ''}${' '.repeat(width - filled)}] ${mb(current)}/${mb(total)}`;
}

/** Progress as Docker's JSON lines; the headers go out with the first line, so an early error is still a plain status. */
function jsonProgress(res: ServerResponse): Progress & { line(v: object): void } {
  const totals = new Map<string, number>();
  const downloaded = new Set<string>();
  const line = (v: object) => {
    if (!res.headersSent) res.writeHead(200, { 'Content-Type': 'application/json' });
    res.write(JSON.stringify(v) + '\r\n');
  };
  return {
    line,
    layer(id, total) {
      totals.set(id, total);
      line({ status: 'Pulling fs layer', progressDetail: {}, id: short(id) });
    },
    update(id, done) {
      if (done <= 0) return; // dockerd reports bytes read, never an empty bar
      const total = totals.get(id) ?? 0;
      line({ status: 'Downloading', progressDetail: { current: done, total }, progress: bar(done, total), id: short(id) });
    },
    status(id, state) {
      // dockerd's sequence: Verifying Checksum, Download complete, (Extracting,) Pull complete. A layer
      // unpacked while it downloads is reported once it is checked and in place.
      const text = state === 'already here' ? ['Already exists'] : state === 'downloaded' ? ['Verifying Checksum', 'Download complete'] : state === 'unpacked' ? [...(downloaded.has(id) ? [] : ['Verifying Checksum', 'Download complete']), 'Pull complete'] : [state];
      if (state === 'downloaded') downloaded.add(id);
      for (const status of text) line({ status, progressDetail: {}, id: short(id) });
    },
    done() {},
  };
}

export function registerImages(router: Router, api: Api): void {
  const images = new Images(api.engine, api.containers);
  registerAuth(router, api, images);

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
    const size = manifest.layers.reduce((a, l) => a + l.size, 0);
    sendJson(res, 200, {
      Id: record.config,
      RepoTags: tags,
      RepoDigests: digests,
      Parent: '',
      Comment: '',
      Created: config.created ?? '',
      Container: '',
      DockerVersion: '',
      Author: '',
      Config: { Env: config.config?.Env ?? null, Cmd: config.config?.Cmd ?? null, Entrypoint: config.config?.Entrypoint ?? null, WorkingDir: config.config?.WorkingDir ?? '', User: config.config?.User ?? '', Labels: config.config?.Labels ?? null, Volumes: config.config?.Volumes ?? null, ExposedPorts: config.config?.ExposedPorts ?? null, StopSignal: config.config?.StopSignal },
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
