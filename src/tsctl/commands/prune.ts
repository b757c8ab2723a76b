import { parseArgs, flagString } from '../../common/argv.js';
import { checkFormat, humanBytes, openSnapshotter, type TsctlGlobals } from '../context.js';

export default async function pruneCommand(args: string[], g: TsctlGlobals): Promise<number> {
  const p = parseArgs(args, [{ name: 'format', kind: 'string' }]);
  const format = checkFormat(flagString(p, 'format'));
  const { prune } = await import('../../image/gc.js');
  const r = await prune(g.root, await openSnapshotter(g));
  process.stdout.write(format === 'json' ? JSON.stringify(r) + '\n' : `removed ${r.blobs} blobs (${humanBytes(r.blobBytes)}), ${r.snapshots} layers, ${r.leftovers} leftovers\n`);
  return 0;
}
