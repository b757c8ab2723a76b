import { flagBool, parseArgs, UsageError } from '../../common/argv.js';
import type { Engine } from '../../engine/engine.js';

export default async function rmCommand(args: string[], engine: Engine): Promise<number> {
  const p = parseArgs(args, [{ name: 'force', kind: 'bool', alias: ['f'] }]);
  if (!p.positionals.length) throw new UsageError('usage: tsctl rm ID...');
  for (const id of p.positionals) {
    await engine.removeContainer(id, { force: flagBool(p, 'force') });
    process.stdout.write(`${id}\n`);
  }
  return 0;
}
