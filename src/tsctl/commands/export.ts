import { parseArgs, UsageError } from '../../common/argv.js';
import type { TsctlGlobals } from '../context.js';

export default async function exportCommand(args: string[], g: TsctlGlobals): Promise<number> {
  const p = parseArgs(args, []);
  if (p.positionals.length < 2) throw new UsageError('usage: tsctl export FILE.tar IMAGE...');
  const [file, ...names] = p.positionals;
  const { findImage } = await import('../../image/resolveImage.js');
  const { exportArchive } = await import('../../image/exportArchive.js');
  const blobs = await exportArchive(g.root, names.map((n) => findImage(g.root, n)), file);
  process.stderr.write(`wrote ${file}: ${names.length} image(s), ${blobs} blobs\n`);
  return 0;
}
