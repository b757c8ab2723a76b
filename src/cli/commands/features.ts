import { parseArgs, UsageError } from '../../common/argv.js';
import type { GlobalOptions } from '../globals.js';

export default async function features(args: string[], _g: GlobalOptions): Promise<number> {
  const p = parseArgs(args, []);
  if (p.positionals.length) throw new UsageError(`unexpected arguments: ${p.positionals.join(' ')}`);
  const { featuresDocument } = await import('../../runtime/features.js');
  process.stdout.write(JSON.stringify(featuresDocument(), null, 2) + '\n');
  return 0;
}
