// /system/df (docker system df [-v]): the engine's disk usage as dockerd 20.10
// answers it. Its own file because it lists containers as /containers/json
// does (containers.ts imports system.ts: one more edge there would be a cycle).
import { sendJson, type Router } from '../http/router.js';
import { summary } from './containers.js';
import type { Api } from './context.js';

const unix = (iso: string) => (iso ? Math.floor(Date.parse(iso) / 1000) : 0);

/** Unpacked bytes; an image whose layers are not here counts as none. */
const imageSize = (s: { size: number; shared: number } | undefined) => ({ SharedSize: s?.shared ?? 0, Size: s?.size ?? 0, VirtualSize: s?.size ?? 0 });

/** Each volume with its size and how many containers use it (UsageData), as dockerd. */
async function volumeUsage(api: Api) {
  const v = api.containers.volumes;
  const list = v.list();
  const sizes = await Promise.all(list.map((x) => v.size(x.Name)));
  const refs = new Map<string, number>();
  for (const c of api.containers.list()) for (const m of c.Mounts ?? []) if (m.type === 'volume' && m.name) refs.set(m.name, (refs.get(m.name) ?? 0) + 1);
  return list.map((x, i) => ({ ...x, UsageData: { Size: sizes[i], RefCount: refs.get(x.Name) ?? 0 } }));
}

export function registerSystemDf(router: Router, api: Api): void {
  router.get('/system/df', async (_req, res) => {
    const c = api.containers;
    const [usage, images, sizes] = await Promise.all([api.engine.diskUsage(), api.engine.listImages(), api.engine.imageLayerSizes()]);
    const containers = c.list();
    const byId = new Map<string, { tags: string[]; digests: string[]; created: string }>();
    for (const i of images) {
      const e = byId.get(i.id) ?? { tags: [], digests: [], created: i.created };
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
        ...imageSize(sizes.get(id)),
        Containers: containers.filter((x) => x.ImageId === id).length,
        Created: unix(e.created),
        Id: id,
        Labels: null,
        ParentId: '',
        RepoDigests: [...new Set(e.digests)],
        RepoTags: e.tags,
      })),
      Containers: rows,
      Volumes: await volumeUsage(api),
      BuildCache: [],
    });
  });
}
