// /volumes: create, list (filters), inspect, remove, prune (Docker Engine API
// 1.41). The rules (names, options, in-use refusals, events) are the engine's
// (src/engine/volumes.ts over src/volume); this file parses and maps.
import { validateVolumeCreate } from '../generated/bodyValidators.js';
import { sendJson, type Request, type Router } from '../http/router.js';
import type { Api } from './context.js';
import { checkBody } from './bodyErrors.js';
import { parseFilters } from './system.js';

type Maybe<T> = T | null | undefined;
interface CreateBody { Name?: Maybe<string>; Driver?: Maybe<string>; DriverOpts?: Maybe<Record<string, string>>; Labels?: Maybe<Record<string, string>> }

const flag = (req: Request, name: string) => ['1', 'true', 'True'].includes(req.query.get(name) ?? '');

export function registerVolumes(router: Router, api: Api): void {
  const volumes = api.containers.volumes;

  router.post('/volumes/create', async (req, res) => {
    const body = checkBody<CreateBody>(validateVolumeCreate, (await req.json()) ?? {}, 'VolumeCreateBody');
    const v = await volumes.create(body.Name ?? undefined, { driver: body.Driver ?? undefined, options: body.DriverOpts ?? {}, labels: body.Labels ?? {} });
    sendJson(res, 201, v);
  });

  router.get('/volumes', async (req, res) => {
    sendJson(res, 200, { Volumes: volumes.list(parseFilters(req.query.get('filters'))), Warnings: null });
  });

  router.post('/volumes/prune', async (req, res) => {
    sendJson(res, 200, await volumes.prune(parseFilters(req.query.get('filters'))));
  });

  router.get('/volumes/{name}', async (req, res) => {
    sendJson(res, 200, volumes.inspect(req.params.name));
  });

  router.delete('/volumes/{name}', async (req, res) => {
    await volumes.remove(req.params.name, { force: flag(req, 'force') });
    res.writeHead(204).end();
  });
}
