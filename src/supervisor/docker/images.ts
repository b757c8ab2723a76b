// /images: pull (create) with Docker's JSON progress stream, list, inspect,
// tag, delete.
import type { ServerResponse } from 'node:http';
import { BadRequest } from '../http/errors.js';
import { messageOf } from '../http/errors.js';
import { sendJson, type Router } from '../http/router.js';
import { familiarName, type Progress } from '../../engine/engine.js';
import type { Api } from './context.js';

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
      const total = totals.get(id) ?? 0;
      line({ status: 'Downloading', progressDetail: { current: done, total }, progress: bar(done, total), id: short(id) });
    },
    status(id, state) {
      const text = state === 'already here' ? 'Already exists' : state === 'downloaded' ? 'Download complete' : state === 'unpacked' ? 'Pull complete' : state;
      line({ status: text, progressDetail: {}, id: short(id) });
    },
    done() {},
  };
}

export function registerImages(router: Router, api: Api): void {
  router.post('/images/create', async (req, res) => {
    const from = req.query.get('fromImage');
    if (!from) throw new BadRequest('fromImage: missing (importing with fromSrc is not supported)');
    const tag = req.query.get('tag');
    // fromImage may carry the tag or digest itself; tag is added otherwise.
    const hasTag = /@|:[^/]+$/.test(from);
    const name = tag && !hasTag ? (tag.startsWith('sha256:') ? `${from}@${tag}` : `${from}:${tag}`) : hasTag ? from : `${from}:latest`;
    const registry = name.split('/')[0];
    const insecure = api.settings.insecureRegistries.includes(registry);
    const progress = jsonProgress(res);
    const shown = familiarName(name);
    progress.line({ status: `Pulling from ${familiarName(name.replace(/[:@][^/]*$/, ''))}`, id: tag ?? 'latest' });
    try {
      const img = await api.engine.pull(name, { insecure, progress });
      progress.line({ status: `Digest: ${img.target.digest}` });
      progress.line({ status: `Status: Downloaded newer image for ${shown}` });
    } catch (e) {
      progress.line({ errorDetail: { message: messageOf(e) }, error: messageOf(e) });
    }
    res.end();
  });

  router.get('/images/json', async (_req, res) => {
    const byId = new Map<string, { tags: string[]; digests: string[]; created: string; size: number }>();
    for (const i of await api.engine.listImages()) {
      const e = byId.get(i.id) ?? { tags: [], digests: [], created: i.created, size: i.size };
      if (i.tag !== '<none>') e.tags.push(`${i.repository}:${i.tag}`);
      e.digests.push(`${i.repository}@${i.digest}`);
      byId.set(i.id, e);
    }
    sendJson(res, 200, [...byId].map(([id, e]) => ({
      Containers: -1, Created: unix(e.created), Id: id, Labels: null, ParentId: '', RepoDigests: [...new Set(e.digests)], RepoTags: e.tags, SharedSize: -1, Size: e.size, VirtualSize: e.size,
    })));
  });

  router.get('/images/{name*}/json', async (req, res) => {
    let details;
    try {
      details = await api.engine.imageDetails(req.params.name);
    } catch {
      throw Object.assign(new Error(`No such image: ${req.params.name}`), { kind: 'not-found' });
    }
    const { record, config, manifest } = details;
    const tags = (await api.engine.listImages()).filter((i) => i.id === record.config && i.tag !== '<none>').map((i) => `${i.repository}:${i.tag}`);
    const size = manifest.layers.reduce((a, l) => a + l.size, 0);
    sendJson(res, 200, {
      Id: record.config,
      RepoTags: tags,
      RepoDigests: [`${familiarName(record.name.replace(/[:@][^/]*$/, ''))}@${record.target.digest}`],
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
    try {
      await api.engine.findImage(req.params.name);
    } catch {
      throw Object.assign(new Error(`No such image: ${req.params.name}`), { kind: 'not-found' });
    }
    await api.engine.tagImage(req.params.name, `${repo}:${tag}`);
    res.writeHead(201).end();
  });

  router.delete('/images/{name*}', async (req, res) => {
    const force = ['1', 'true'].includes(req.query.get('force') ?? '');
    let img;
    try {
      img = await api.engine.findImage(req.params.name);
    } catch {
      throw Object.assign(new Error(`No such image: ${req.params.name}`), { kind: 'not-found' });
    }
    const user = api.containers.list().find((c) => c.ImageId === img.config);
    if (user && !force) throw Object.assign(new Error(`conflict: unable to remove repository reference "${req.params.name}" (must force) - container ${user.Id.slice(0, 12)} is using its referenced image ${short(img.config)}`), { kind: 'exists' });
    const untagged: string[] = [];
    await api.engine.removeImages([req.params.name], { force: true, onUntagged: (n) => untagged.push(n) });
    const left = (await api.engine.listImages()).some((i) => i.id === img.config);
    sendJson(res, 200, [...untagged.map((n) => ({ Untagged: familiarName(n) })), ...(left ? [] : [{ Deleted: img.config }])]);
  });
}
