import { parseArgs, flagString } from '../../common/argv.js';
import { checkFormat, table, type TsctlGlobals } from '../context.js';

export default async function psCommand(args: string[], g: TsctlGlobals): Promise<number> {
  const p = parseArgs(args, [{ name: 'format', kind: 'string' }]);
  const format = checkFormat(flagString(p, 'format'));
  const { ContainerStore } = await import('../../image/containers.js');
  const { familiarName } = await import('../../image/reference.js');
  const rows = new ContainerStore(g.root).list().sort((a, b) => a.created.localeCompare(b.created));
  if (format === 'json') process.stdout.write(JSON.stringify(rows, null, 2) + '\n');
  else process.stdout.write(table(['CONTAINER', 'IMAGE', 'CREATED', 'BUNDLE'], rows.map((r) => [r.id, familiarName(r.image), r.created, r.bundle])));
  return 0;
}
