import { parseArgs, flagBool, UsageError } from '../../common/argv.js';
import { openSnapshotter, type TsctlGlobals } from '../context.js';

export default async function rmiCommand(args: string[], g: TsctlGlobals): Promise<number> {
  const p = parseArgs(args, [{ name: 'force', kind: 'bool', alias: ['f'] }]);
  if (!p.positionals.length) throw new UsageError('usage: tsctl rmi [--force] IMAGE...');
  const { findImage } = await import('../../image/resolveImage.js');
  const { ImageStore } = await import('../../image/imageStore.js');
  const { ContainerStore } = await import('../../image/containers.js');
  const { prune } = await import('../../image/gc.js');
  const { RuntimeError } = await import('../../common/errors.js');
  const images = new ImageStore(g.root);
  for (const name of p.positionals) {
    const img = findImage(g.root, name);
    const users = new ContainerStore(g.root).list().filter((c) => c.image === img.name);
    if (users.length && !flagBool(p, 'force')) throw new RuntimeError({ step: 'remove image', path: img.name, detail: `container ${users[0].id} uses it (tsctl rm it, or --force)` });
    images.remove(img.name);
    process.stdout.write(`Untagged: ${img.name}\n`);
  }
  // Like docker rmi: what no image or container uses any more goes with it.
  const r = await prune(g.root, await openSnapshotter(g));
  if (r.blobs || r.snapshots) process.stdout.write(`Deleted: ${r.blobs} blobs, ${r.snapshots} layers\n`);
  return 0;
}
