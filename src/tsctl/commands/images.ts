import { parseArgs, flagBool, flagString } from '../../common/argv.js';
import type { Engine } from '../../engine/engine.js';
import { checkFormat, humanBytes, table } from '../context.js';

export default async function imagesCommand(args: string[], engine: Engine): Promise<number> {
  const p = parseArgs(args, [{ name: 'format', kind: 'string' }, { name: 'quiet', kind: 'bool', alias: ['q'] }]);
  const format = checkFormat(flagString(p, 'format'));
  const rows = await engine.listImages();
  if (format === 'json') process.stdout.write(JSON.stringify(rows, null, 2) + '\n');
  else if (flagBool(p, 'quiet')) process.stdout.write(rows.map((r) => r.id.slice(7, 19) + '\n').join(''));
  else process.stdout.write(table(['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE'], rows.map((r) => [r.repository, r.tag, r.id.slice(7, 19), r.created, humanBytes(r.size)])));
  return 0;
}
