// /system/df (docker system df [-v]): the engine's disk usage as dockerd 20.10
// answers it. Its own file because it lists containers as /containers/json
// does (containers.ts imports system.ts: one more edge there would be a cycle).
import { sendJson, type Router } from '../http/router.js';
import { summary } from './containers.js';
import type { Api } from './context.js';

const unix = (iso: string) => (iso ? Math.floor(Date.parse(iso) / 1000) : 0);

export function registerSystemDf(router: Router, api: Api): void {
  router.get('/system/df', async (_req, res) => {
    const c = api.containers;
    const [usage, images] = await Promise.all([api.engine.diskUsage(), api.engine.listImages()]);
    const containers = c.list();
    // Unpacked bytes per image name (layers used by two images or more are shared).
    const perName = new Map(usage.perImage.map((p) => [p.name, p]));
    const byId = new Map<string, { tags: string[]; digests: string[]; created: string; shared: number; unique: number }>();
    for (const i of images) {
      const sizes = perName.get(i.name);
      const e = byId.get(i.id) ?? { tags: [], digests: [], created: i.created, shared: sizes?.sharedBytes ?? 0, unique: sizes?.uniqueBytes ?? 0 };
      if (i.tag !== '<none>') e.tags.push(`${i.repository}:${i.tag}`);
      e.digests.push(`${i.repository}@${i.digest}`);
      byId.set(i.id, e);
    }
    const rows = [];
    for (const x of containers) {
      const size = await c.size(x.Id);
      rows.push({ ...summary(x, c.isRestarting(x.Id)), SizeRw: size?.rw ?? 0, SizeRootFs: size?.rootFs ?? 0 });
    }
    sendJson(res, 200, {
      LayersSize: usage.sharedBytes + usage.uniqueBytes + usage.unusedBytes,
      Images: [...byId].map(([id, e]) => ({
        Containers: containers.filter((x) => x.ImageId === id).length,
        Created: unix(e.created),
        Id: id,
        Labels: null,
        ParentId: '',
        RepoDigests: [...new Set(e.digests)],
        RepoTags: e.tags,
        SharedSize: e.shared,
        Size: e.shared + e.unique,
        VirtualSize: e.shared + e.unique,
      })),
      Containers: rows,
      Volumes: [],
      BuildCache: [],
    });
  });
}
