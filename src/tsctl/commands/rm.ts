import { parseArgs, UsageError } from '../../common/argv.js';
import { openSnapshotter, type TsctlGlobals } from '../context.js';
import { runRuntime } from './run.js';

export default async function rmCommand(args: string[], g: TsctlGlobals): Promise<number> {
  const p = parseArgs(args, [{ name: 'force', kind: 'bool', alias: ['f'] }]);
  if (!p.positionals.length) throw new UsageError('usage: tsctl rm ID...');
  const { removeContainer } = await import('../../image/containers.js');
  const snapshotter = await openSnapshotter(g);
  for (const id of p.positionals) {
    // Whatever still runs in it goes first (delete --force of a gone id succeeds).
    await runRuntime(g, ['delete', '--force', id], 'ignore');
    removeContainer(g.root, snapshotter, id);
    process.stdout.write(`${id}\n`);
  }
  return 0;
}
