// `events [--stats] [--interval 5s] ID`: runc's JSON lines. --stats prints one
// stats event and exits; otherwise stats every interval and an "oom" event as
// soon as the OOM killer acts in the container, until the container stops.
import { flagBool, flagString, parseArgs, UsageError } from '../../common/argv.js';
import type { GlobalOptions } from '../globals.js';

function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text);
  if (!m) throw new UsageError(`invalid --interval ${JSON.stringify(text)}: use e.g. 5s or 500ms`);
  return Number(m[1]) * ({ ms: 1, s: 1000, m: 60_000 }[(m[2] ?? 's') as 'ms' | 's' | 'm']);
}

export default async function events(args: string[], g: GlobalOptions): Promise<number> {
  const p = parseArgs(args, [{ name: 'stats', kind: 'bool' }, { name: 'interval', kind: 'string' }]);
  if (p.positionals.length !== 1) throw new UsageError('expects exactly one container id');
  const id = p.positionals[0];
  const interval = parseDuration(flagString(p, 'interval') ?? '5s');
  const { statsEvent, watchEvents } = await import('../../runtime/events.js');
  const print = (e: { type: string; id: string; data?: unknown }) => process.stdout.write(JSON.stringify(e) + '\n');
  if (flagBool(p, 'stats')) print(statsEvent(g.root, id));
  else await watchEvents(g.root, id, interval, print);
  return 0;
}
