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
  const { openContainer } = await import('../../runtime/open.js');
  const { containerStatus } = await import('../../runtime/status.js');
  const { readStats, oomKillCount } = await import('../../linux/cgroups/stats.js');
  const { store, record } = openContainer(g.root, id);
  const emit = (type: string, data?: unknown) => process.stdout.write(JSON.stringify(data === undefined ? { type, id } : { type, id, data }) + '\n');
  if (flagBool(p, 'stats')) {
    emit('stats', readStats(record.cgroupPaths));
    return 0;
  }
  let ooms = oomKillCount(record.cgroupPaths);
  let nextStats = Date.now();
  while (containerStatus(store, record) !== 'stopped') {
    const now = oomKillCount(record.cgroupPaths);
    if (now > ooms) emit('oom');
    ooms = now;
    if (Date.now() >= nextStats) {
      emit('stats', readStats(record.cgroupPaths));
      nextStats += interval;
    }
    await new Promise((done) => setTimeout(done, Math.min(100, interval)));
  }
  // The last kill may be what stopped it.
  if (oomKillCount(record.cgroupPaths) > ooms) emit('oom');
  return 0;
}
