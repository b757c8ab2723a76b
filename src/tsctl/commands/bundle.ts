import { parseArgs, UsageError } from '../../common/argv.js';
import { openSnapshotter, type TsctlGlobals } from '../context.js';
import { CONTAINER_FLAGS, containerRequest } from './containerFlags.js';

export default async function bundleCommand(args: string[], g: TsctlGlobals): Promise<number> {
  const p = parseArgs(args, CONTAINER_FLAGS, 2);
  if (p.positionals.length < 2) throw new UsageError('usage: tsctl bundle [options] IMAGE DIR [COMMAND...]');
  const [image, dir, ...command] = p.positionals;
  const { createBundle } = await import('../../image/containers.js');
  const r = await createBundle(g.root, await openSnapshotter(g), image, dir, containerRequest(p, command));
  process.stdout.write(`${r.id}\n`);
  process.stderr.write(`bundle ${r.bundle} ready (rootfs mounted); run it with: tsrun run --bundle ${r.bundle} ${r.id}; remove it with: tsctl rm ${r.id}\n`);
  return 0;
}
