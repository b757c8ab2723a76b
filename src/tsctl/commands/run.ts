// tsctl run: the image (pulled when it is not here) → a container → the
// runtime's `run`, attached to this terminal; the engine cleans up after it.
import { parseArgs, flagBool, UsageError } from '../../common/argv.js';
import type { Engine } from '../../engine/engine.js';
import { REGISTRY_FLAGS, pullRequest } from '../context.js';
import { progressFor } from '../progressBars.js';
import { CONTAINER_FLAGS, containerRequest } from './containerFlags.js';

export default async function runCommand(args: string[], engine: Engine): Promise<number> {
  const p = parseArgs(args, [...CONTAINER_FLAGS, ...REGISTRY_FLAGS, { name: 'rm', kind: 'bool', help: 'remove the container when it exits' }], 1);
  if (p.positionals.length < 1) throw new UsageError('usage: tsctl run [options] IMAGE [COMMAND...]');
  const [image, ...command] = p.positionals;
  await engine.pullIfMissing(image, { ...pullRequest(p), progress: progressFor(process.stderr, false) });
  const record = await engine.createContainer(image, containerRequest(p, command));
  // The runtime handles the terminal and forwards signals; tsctl only waits.
  const ignore = () => {};
  for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'] as const) process.on(s, ignore);
  return engine.runForeground(record.id, { remove: flagBool(p, 'rm') });
}
