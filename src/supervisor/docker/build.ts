// POST /build (the classic builder's API: the context tar in the body, the
// options as query parameters, a JSON stream of {"stream"} lines, the aux ID
// and errors as errorDetail), POST /build/prune, and POST /commit. An error
// before anything was streamed is an ordinary error status (the CLI prints
// "Error response from daemon: ..."), after it an errorDetail line, as dockerd.
import type { ServerResponse } from 'node:http';
import { buildImage, commitContainer } from '../../engine/build.js';
import type { ContainerConfig } from '../../engine/containers.js';
import { BadRequest, messageOf } from '../http/errors.js';
import { sendJson, type Request, type Router } from '../http/router.js';
import type { Api } from './context.js';

/** Go's strconv.ParseBool as dockerd's httputils.BoolValue reads it: anything but these is true. */
function boolParam(req: Request, name: string, fallback: boolean): boolean {
  const v = req.query.get(name);
  if (v === null) return fallback;
  return !['', '0', 'no', 'false', 'none'].includes(v.trim().toLowerCase());
}

function jsonParam<T extends string | null>(req: Request, name: string): Record<string, T> {
  const raw = req.query.get(name);
  if (!raw) return {};
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch (e) {
    throw new BadRequest(`${name}: invalid JSON: ${(e as Error).message}`);
  }
  if (v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v) || !Object.values(v as object).every((x) => typeof x === 'string' || x === null)) {
    throw new BadRequest(`${name}: json: cannot unmarshal ${JSON.stringify(raw).slice(0, 40)} into a map of strings`);
  }
  return v as Record<string, T>;
}

/** A JSON-lines answer whose headers go out with the first line. */
function jsonStream(res: ServerResponse) {
  return {
    get started() {
      return res.headersSent;
    },
    line(v: object) {
      if (!res.headersSent) res.writeHead(200, { 'Content-Type': 'application/json' });
      res.write(`${JSON.stringify(v)}\r\n`);
    },
  };
}

export function registerBuild(router: Router, api: Api): void {
  router.post('/build', async (req, res) => {
    const quiet = boolParam(req, 'q', false);
    const out = jsonStream(res);
    const buildArgs = jsonParam<string | null>(req, 'buildargs');
    const labels = jsonParam<string>(req, 'labels');
    const version = req.query.get('version');
    if (version && version !== '1') throw new BadRequest(`builder version ${version} is not supported (tsd has the classic builder: DOCKER_BUILDKIT=0)`);
    if (req.query.get('remote')) throw new BadRequest(`remote: build contexts from a URL or git repository are not supported; send the context as the body`);
    const quietLog: string[] = [];
    // dockerd cancels a build whose client went away (docker build interrupted): the running step is killed.
    const abort = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) abort.abort();
    });
    try {
      const id = await buildImage(api.engine, api.containers, {
        context: req.raw,
        dockerfile: req.query.get('dockerfile') || undefined,
        tags: req.query.getAll('t').filter(Boolean),
        buildArgs,
        target: req.query.get('target') || undefined,
        noCache: boolParam(req, 'nocache', false),
        pull: boolParam(req, 'pull', false),
        labels: labels as Record<string, string>,
        networkMode: req.query.get('networkmode') || undefined,
        rm: boolParam(req, 'rm', true),
        forceRm: boolParam(req, 'forcerm', false),
        output: (text) => (quiet ? quietLog.push(text) : out.line({ stream: text })),
        built: (id) => out.line({ aux: { ID: id } }),
        signal: abort.signal,
      });
      if (quiet) out.line({ stream: `${id}\n` });
    } catch (e) {
      if (abort.signal.aborted) return;
      if (!out.started) throw e;
      // As dockerd with -q: what the build printed comes with its error.
      if (quiet && quietLog.length) out.line({ stream: quietLog.join('') });
      out.line({ errorDetail: { message: messageOf(e) }, error: messageOf(e) });
    }
    res.end();
  });

  router.post('/build/prune', async (_req, res) => {
    // The build cache is the intermediate images, which image prune collects.
    sendJson(res, 200, { CachesDeleted: [], SpaceReclaimed: 0 });
  });

  router.post('/commit', async (req, res) => {
    const container = req.query.get('container');
    if (!container) throw new BadRequest('container: missing');
    const body = await req.json();
    if (body !== undefined && body !== null && (typeof body !== 'object' || Array.isArray(body))) throw new BadRequest('json: cannot unmarshal the body into Go value of type container.Config');
    const id = await commitContainer(api.engine, api.containers, {
      container,
      repo: req.query.get('repo') || undefined,
      tag: req.query.get('tag') || undefined,
      comment: req.query.get('comment') || undefined,
      author: req.query.get('author') || undefined,
      changes: req.query.getAll('changes').flatMap((c) => c.split('\n')).filter((c) => c.trim()),
      config: commitConfig(body),
      pause: boolParam(req, 'pause', true),
    });
    sendJson(res, 201, { Id: id });
  });
}

/** The fields of the commit body's config that override the container's (only those that are set). */
function commitConfig(body: unknown): Partial<ContainerConfig> | undefined {
  if (!body || typeof body !== 'object') return undefined;
  const b = body as Record<string, unknown>;
  const out: Partial<ContainerConfig> = {};
  const strings = (v: unknown) => Array.isArray(v) && v.every((x) => typeof x === 'string');
  if (strings(b.Cmd)) out.Cmd = b.Cmd as string[];
  if (strings(b.Entrypoint)) out.Entrypoint = b.Entrypoint as string[];
  if (strings(b.Env) && (b.Env as string[]).length) out.Env = b.Env as string[];
  if (typeof b.WorkingDir === 'string' && b.WorkingDir) out.WorkingDir = b.WorkingDir;
  if (typeof b.User === 'string' && b.User) out.User = b.User;
  return Object.keys(out).length ? out : undefined;
}
