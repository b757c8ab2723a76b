import { flagBool, flagString, parseArgs, UsageError } from '../../common/argv.js';
import type { GlobalOptions } from '../globals.js';

export default async function list(args: string[], g: GlobalOptions): Promise<number> {
  const p = parseArgs(args, [
    { name: 'format', kind: 'string', alias: ['f'] },
    { name: 'quiet', kind: 'bool', alias: ['q'] },
  ]);
  if (p.positionals.length) throw new UsageError(`unexpected arguments: ${p.positionals.join(' ')}`);
  const format = flagString(p, 'format') ?? 'table';
  if (format !== 'table' && format !== 'json') throw new UsageError(`invalid --format ${JSON.stringify(format)}: use table or json`);
  const { StateStore } = await import('../../runtime/stateStore.js');
  const { ociState } = await import('../../runtime/status.js');
  const store = new StateStore(g.root);
  const states = [];
  for (const id of store.list()) {
    try {
      states.push(ociState(store, store.read(id)));
    } catch {
      /* a container being created or deleted right now */
    }
  }
  if (flagBool(p, 'quiet')) {
    process.stdout.write(states.map((s) => `${s.id}\n`).join(''));
  } else if (format === 'json') {
    process.stdout.write(JSON.stringify(states) + '\n');
  } else {
    const rows = [['ID', 'PID', 'STATUS', 'BUNDLE', 'CREATED', 'OWNER'],
      ...states.map((s) => [s.id, String(s.pid ?? 0), s.status, s.bundle, String(s.created), String(s.owner)])];
    const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
    process.stdout.write(rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c] + 3))).join('')).join('\n') + '\n');
  }
  return 0;
}
