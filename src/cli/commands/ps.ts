// `ps [--format table|json] ID [-- ps options]`: json prints the host pids;
// table runs the host's ps (default -ef) and keeps the container's lines, like runc.
import { spawnSync } from 'node:child_process';
import { flagString, parseArgs, UsageError } from '../../common/argv.js';
import type { GlobalOptions } from '../globals.js';
import { RuntimeError } from '../../common/errors.js';

export default async function ps(args: string[], g: GlobalOptions): Promise<number> {
  const p = parseArgs(args, [{ name: 'format', kind: 'string', alias: ['f'] }], 1);
  const [id, ...psArgs] = p.positionals;
  if (!id) throw new UsageError('a container id is required');
  const format = flagString(p, 'format') ?? 'table';
  if (format !== 'table' && format !== 'json') throw new UsageError(`invalid --format ${JSON.stringify(format)}: use table or json`);
  const { containerPids } = await import('../../runtime/pause.js');
  const pids = containerPids(g.root, id);
  if (format === 'json') {
    process.stdout.write(JSON.stringify(pids) + '\n');
    return 0;
  }
  const r = spawnSync('ps', psArgs.length ? psArgs : ['-ef'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) throw new RuntimeError({ step: 'run ps', detail: r.error?.message ?? r.stderr.trim() });
  const [header, ...lines] = r.stdout.split('\n');
  const pidColumn = header.trim().split(/\s+/).indexOf('PID');
  if (pidColumn < 0) throw new RuntimeError({ step: 'run ps', detail: 'the ps output has no PID column' });
  const wanted = new Set(pids);
  process.stdout.write([header, ...lines.filter((l) => wanted.has(Number(l.trim().split(/\s+/)[pidColumn])))].join('\n') + '\n');
  return 0;
}
