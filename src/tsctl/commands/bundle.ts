import { parseArgs, UsageError } from '../../common/argv.js';
import type { Engine } from '../../engine/engine.js';
import { CONTAINER_FLAGS, containerRequest } from './containerFlags.js';

export default async function bundleCommand(args: string[], engine: Engine): Promise<number> {
  const p = parseArgs(args, CONTAINER_FLAGS, 2);
  if (p.positionals.length < 2) throw new UsageError('usage: tsctl bundle [options] IMAGE DIR [COMMAND...]');
  const [image, dir, ...command] = p.positionals;
  const r = await engine.createContainer(image, containerRequest(p, command), dir);
  process.stdout.write(`${r.id}\n`);
  process.stderr.write(`bundle ${r.bundle} ready (rootfs mounted); run it with: tsrun run --bundle ${r.bundle} ${r.id}; remove it with: tsctl rm ${r.id}\n`);
  return 0;
}
