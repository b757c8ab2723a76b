import { spawn } from 'node:child_process';
import { flagBool, parseArgs, UsageError } from '../../common/argv.js';
import { openSnapshotter, type TsctlGlobals } from '../context.js';
import { runRuntime } from './run.js';

export default async function rmCommand(args: string[], g: TsctlGlobals): Promise<number> {
  const p = parseArgs(args, [{ name: 'force', kind: 'bool', alias: ['f'] }]);
  if (!p.positionals.length) throw new UsageError('usage: tsctl rm ID...');
  const { removeContainer } = await import('../../image/containers.js');
  const snapshotter = await openSnapshotter(g);
  const force = flagBool(p, 'force');
  for (const id of p.positionals) {
    // As `docker rm`: a container that still runs is removed only with --force.
    const status = await runtimeStatus(g, id);
    if (!force && status && status !== 'stopped')
      throw new UsageError(`container ${id} is ${status}: stop it first or use --force`);
    // Whatever still runs in it goes first (delete --force of a gone id succeeds).
    await runRuntime(g, ['delete', '--force', id], 'ignore');
    await removeContainer(g.root, snapshotter, id);
    process.stdout.write(`${id}\n`);
  }
  return 0;
}

/** The runtime's status of `id`, or undefined when it has no such container. */
function runtimeStatus(g: TsctlGlobals, id: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const child = spawn(g.runtime, ['--root', g.runtimeRoot, 'state', id], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('error', () => resolve(undefined));
    child.on('exit', (code) => {
      try {
        resolve(code === 0 ? String(JSON.parse(out).status) : undefined);
      } catch {
        resolve(undefined);
      }
    });
  });
}
