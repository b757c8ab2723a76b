import { parseArgs, flagString, UsageError } from '../../common/argv.js';
import type { Engine } from '../../engine/engine.js';
import { checkFormat } from '../context.js';

export default async function importCommand(args: string[], engine: Engine): Promise<number> {
  const p = parseArgs(args, [{ name: 'name', kind: 'string' }, { name: 'platform', kind: 'string' }, { name: 'format', kind: 'string' }]);
  if (p.positionals.length !== 1) throw new UsageError('usage: tsctl import [--name NAME] DIR|FILE.tar');
  const format = checkFormat(flagString(p, 'format'));
  const records = await engine.importImages(p.positionals[0], { name: flagString(p, 'name'), platform: flagString(p, 'platform') });
  process.stdout.write(format === 'json' ? JSON.stringify(records, null, 2) + '\n' : records.map((r) => `${r.name}: ${r.manifest.digest}\n`).join(''));
  return 0;
}
