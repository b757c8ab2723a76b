import { parseArgs, UsageError } from '../../common/argv.js';
import type { Engine } from '../../engine/engine.js';

export default async function exportCommand(args: string[], engine: Engine): Promise<number> {
  const p = parseArgs(args, []);
  if (p.positionals.length < 2) throw new UsageError('usage: tsctl export FILE.tar IMAGE...');
  const [file, ...names] = p.positionals;
  const blobs = await engine.exportImages(file, names);
  process.stderr.write(`wrote ${file}: ${names.length} image(s), ${blobs} blobs\n`);
  return 0;
}
