import { parseArgs, flagString, UsageError } from '../../common/argv.js';
import { checkFormat, openSnapshotter, type TsctlGlobals } from '../context.js';

export default async function importCommand(args: string[], g: TsctlGlobals): Promise<number> {
  const p = parseArgs(args, [{ name: 'name', kind: 'string' }, { name: 'platform', kind: 'string' }, { name: 'format', kind: 'string' }]);
  if (p.positionals.length !== 1) throw new UsageError('usage: tsctl import [--name NAME] DIR|FILE.tar');
  const format = checkFormat(flagString(p, 'format'));
  const { importArchive } = await import('../../image/importArchive.js');
  const { parsePlatform } = await import('../../image/platform.js');
  const platform = flagString(p, 'platform');
  const records = await importArchive(g.root, await openSnapshotter(g), p.positionals[0], { name: flagString(p, 'name'), platform: platform ? parsePlatform(platform) : undefined });
  process.stdout.write(format === 'json' ? JSON.stringify(records, null, 2) + '\n' : records.map((r) => `${r.name}: ${r.manifest.digest}\n`).join(''));
  return 0;
}
