import { parseArgs, flagBool, UsageError } from '../../common/argv.js';
import type { Engine } from '../../engine/engine.js';

export default async function rmiCommand(args: string[], engine: Engine): Promise<number> {
  const p = parseArgs(args, [{ name: 'force', kind: 'bool', alias: ['f'] }]);
  if (!p.positionals.length) throw new UsageError('usage: tsctl rmi [--force] IMAGE...');
  const r = await engine.removeImages(p.positionals, {
    force: flagBool(p, 'force'),
    onUntagged: (name) => process.stdout.write(`Untagged: ${name}\n`),
  });
  if (r.blobs || r.snapshots) process.stdout.write(`Deleted: ${r.blobs} blobs, ${r.snapshots} layers\n`);
  return 0;
}
