import { parseArgs, flagBool, flagString, UsageError } from '../../common/argv.js';
import { checkFormat, openSnapshotter, REGISTRY_FLAGS, pullOptions, type TsctlGlobals } from '../context.js';
import { progressFor } from '../progressBars.js';

export default async function pullCommand(args: string[], g: TsctlGlobals): Promise<number> {
  const p = parseArgs(args, [...REGISTRY_FLAGS, { name: 'quiet', kind: 'bool', alias: ['q'] }, { name: 'format', kind: 'string' }]);
  if (p.positionals.length !== 1) throw new UsageError('usage: tsctl pull NAME[:TAG|@DIGEST]');
  const format = checkFormat(flagString(p, 'format'));
  const { pull } = await import('../../image/pull.js');
  const record = await pull(g.root, await openSnapshotter(g), p.positionals[0], {
    ...(await pullOptions(g, p)),
    progress: progressFor(process.stderr, flagBool(p, 'quiet') || format === 'json'),
  });
  process.stdout.write(format === 'json' ? JSON.stringify(record, null, 2) + '\n' : `${record.name}: ${record.target.digest}\n`);
  return 0;
}
