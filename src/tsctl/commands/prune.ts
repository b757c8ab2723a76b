import { parseArgs, flagString } from '../../common/argv.js';
import type { Engine } from '../../engine/engine.js';
import { checkFormat, humanBytes } from '../context.js';

export default async function pruneCommand(args: string[], engine: Engine): Promise<number> {
  const p = parseArgs(args, [{ name: 'format', kind: 'string' }]);
  const format = checkFormat(flagString(p, 'format'));
  const r = await engine.prune();
  process.stdout.write(format === 'json' ? JSON.stringify(r) + '\n' : `removed ${r.blobs} blobs (${humanBytes(r.blobBytes)}), ${r.snapshots} layers, ${r.leftovers} leftovers\n`);
  return 0;
}
