import { readFileSync } from 'node:fs';
import { flagString, parseArgs, UsageError } from '../../common/argv.js';
import type { GlobalOptions } from '../globals.js';
import type { Resources } from '../../spec/types.js';
import { RuntimeError } from '../../common/errors.js';

/** runc-style sizes: 1024, 512k, 100M, 1g (binary units); -1 for unlimited. */
export function parseSize(text: string, flag: string): number {
  const m = /^(-?\d+)([kmgt]?)b?$/i.exec(text.trim());
  if (!m) throw new UsageError(`invalid value ${JSON.stringify(text)} for --${flag}`);
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[m[2].toLowerCase() as '' | 'k' | 'm' | 'g' | 't'];
  return Number(m[1]) * mult;
}

const FLAGS: Array<[string, (r: Resources, v: string) => void]> = [
  ['memory', (r, v) => ((r.memory ??= {}).limit = parseSize(v, 'memory'))],
  ['memory-reservation', (r, v) => ((r.memory ??= {}).reservation = parseSize(v, 'memory-reservation'))],
  ['memory-swap', (r, v) => ((r.memory ??= {}).swap = parseSize(v, 'memory-swap'))],
  ['kernel-memory', (r, v) => ((r.memory ??= {}).kernel = parseSize(v, 'kernel-memory'))],
  ['kernel-memory-tcp', (r, v) => ((r.memory ??= {}).kernelTCP = parseSize(v, 'kernel-memory-tcp'))],
  ['cpu-share', (r, v) => ((r.cpu ??= {}).shares = parseSize(v, 'cpu-share'))],
  ['cpu-period', (r, v) => ((r.cpu ??= {}).period = parseSize(v, 'cpu-period'))],
  ['cpu-quota', (r, v) => ((r.cpu ??= {}).quota = parseSize(v, 'cpu-quota'))],
  ['cpu-rt-period', (r, v) => ((r.cpu ??= {}).realtimePeriod = parseSize(v, 'cpu-rt-period'))],
  ['cpu-rt-runtime', (r, v) => ((r.cpu ??= {}).realtimeRuntime = parseSize(v, 'cpu-rt-runtime'))],
  ['cpuset-cpus', (r, v) => ((r.cpu ??= {}).cpus = v)],
  ['cpuset-mems', (r, v) => ((r.cpu ??= {}).mems = v)],
  ['pids-limit', (r, v) => (r.pids = { limit: parseSize(v, 'pids-limit') })],
  ['blkio-weight', (r, v) => ((r.blockIO ??= {}).weight = parseSize(v, 'blkio-weight'))],
];

export default async function update(args: string[], g: GlobalOptions): Promise<number> {
  const p = parseArgs(args, [{ name: 'resources', kind: 'string', alias: ['r'] }, ...FLAGS.map(([name]) => ({ name, kind: 'string' as const }))]);
  if (p.positionals.length !== 1) throw new UsageError('expects exactly one container id');
  let change: Resources = {};
  const file = flagString(p, 'resources');
  if (file) {
    let text: string;
    try {
      text = readFileSync(file === '-' ? 0 : file, 'utf8');
    } catch (e) {
      throw RuntimeError.fromSystem('read the resources', e, { path: file });
    }
    try {
      change = JSON.parse(text) as Resources;
    } catch (e) {
      throw new RuntimeError({ step: 'read the resources', path: file, detail: `invalid JSON: ${(e as Error).message}` });
    }
    const { validateConfigDocument } = await import('../../spec/validateConfig.js');
    const problems = validateConfigDocument({ ociVersion: '1.0.0', linux: { resources: change } });
    if (problems.length) throw new RuntimeError({ step: 'read the resources', path: file, detail: problems.map((x) => `${x.field}: ${x.message}`).join('; ') });
  }
  for (const [name, set] of FLAGS) {
    const v = flagString(p, name);
    if (v !== undefined) set(change, v);
  }
  const { updateContainer } = await import('../../runtime/update.js');
  updateContainer(g.root, p.positionals[0], change);
  return 0;
}
