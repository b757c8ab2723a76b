import { parseArgs, flagBool, flagString, UsageError } from '../../common/argv.js';
import type { Engine } from '../../engine/engine.js';
import { checkFormat, REGISTRY_FLAGS, pullRequest } from '../context.js';
import { progressFor } from '../progressBars.js';

export default async function pullCommand(args: string[], engine: Engine): Promise<number> {
  const p = parseArgs(args, [...REGISTRY_FLAGS, { name: 'quiet', kind: 'bool', alias: ['q'] }, { name: 'format', kind: 'string' }]);
  if (p.positionals.length !== 1) throw new UsageError('usage: tsctl pull NAME[:TAG|@DIGEST]');
  const format = checkFormat(flagString(p, 'format'));
  const record = await engine.pull(p.positionals[0], {
    ...pullRequest(p),
    progress: progressFor(process.stderr, flagBool(p, 'quiet') || format === 'json'),
  });
  process.stdout.write(format === 'json' ? JSON.stringify(record, null, 2) + '\n' : `${record.name}: ${record.target.digest}\n`);
  return 0;
}
