import { parseArgs, flagString, UsageError } from '../../common/argv.js';
import type { Engine } from '../../engine/engine.js';
import { checkFormat, humanBytes, table } from '../context.js';

export default async function systemCommand(args: string[], engine: Engine): Promise<number> {
  const p = parseArgs(args, [{ name: 'format', kind: 'string' }]);
  if (p.positionals[0] !== 'df' || p.positionals.length !== 1) throw new UsageError('usage: tsctl system df [--format json]');
  const format = checkFormat(flagString(p, 'format'));
  const u = await engine.diskUsage();
  if (format === 'json') {
    process.stdout.write(JSON.stringify(u, null, 2) + '\n');
    return 0;
  }
  process.stdout.write(table(['TYPE', 'COUNT', 'SIZE', 'DETAIL'], [
    ['Images', String(u.images), humanBytes(u.contentBytes), 'content store (compressed blobs)'],
    ['Layers', String(u.layers), humanBytes(u.sharedBytes + u.uniqueBytes + u.unusedBytes), `shared ${humanBytes(u.sharedBytes)}, unique ${humanBytes(u.uniqueBytes)}, unused ${humanBytes(u.unusedBytes)}`],
    ['Containers', String(u.containers), humanBytes(u.containerBytes), 'writable layers'],
  ]));
  if (u.perImage.length) {
    process.stdout.write('\n' + table(['IMAGE', 'LAYERS', 'SHARED', 'UNIQUE'], u.perImage.map((i) => [i.name, String(i.layers), humanBytes(i.sharedBytes), humanBytes(i.uniqueBytes)])));
  }
  return 0;
}
