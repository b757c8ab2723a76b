import { parseArgs, flagString } from '../../common/argv.js';
import { familiarName, type Engine } from '../../engine/engine.js';
import { checkFormat, table } from '../context.js';

export default async function psCommand(args: string[], engine: Engine): Promise<number> {
  const p = parseArgs(args, [{ name: 'format', kind: 'string' }]);
  const format = checkFormat(flagString(p, 'format'));
  const rows = await engine.listContainers();
  if (format === 'json') process.stdout.write(JSON.stringify(rows, null, 2) + '\n');
  else process.stdout.write(table(['CONTAINER', 'IMAGE', 'CREATED', 'BUNDLE'], rows.map((r) => [r.id, familiarName(r.image), r.created, r.bundle])));
  return 0;
}
