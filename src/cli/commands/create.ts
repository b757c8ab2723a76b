import { flagBool, flagInt, flagString, parseArgs, UsageError, type FlagSpec } from '../../common/argv.js';
import type { GlobalOptions } from '../globals.js';
import { writeLog } from '../log.js';
import { inheritedFdOptions } from '../inheritedFds.js';

export const CREATE_FLAGS: FlagSpec[] = [
  { name: 'bundle', kind: 'string', alias: ['b'] },
  { name: 'pid-file', kind: 'string' },
  { name: 'console-socket', kind: 'string' },
  { name: 'no-pivot', kind: 'bool' },
  { name: 'no-new-keyring', kind: 'bool' },
  { name: 'preserve-fds', kind: 'string' },
];

export function createOptionsFrom(args: string[], g: GlobalOptions, extra: FlagSpec[] = []) {
  const p = parseArgs(args, [...CREATE_FLAGS, ...extra]);
  if (p.positionals.length !== 1) throw new UsageError(`expects exactly one container id, got ${p.positionals.length}`);
  const preserveFds = flagInt(p, 'preserve-fds') ?? 0;
  if (preserveFds < 0) throw new UsageError('--preserve-fds must not be negative');
  return {
    parsed: p,
    options: {
      root: g.root,
      id: p.positionals[0],
      bundle: flagString(p, 'bundle') ?? process.cwd(),
      pidFile: flagString(p, 'pid-file'),
      consoleSocket: flagString(p, 'console-socket'),
      noPivot: flagBool(p, 'no-pivot'),
      noNewKeyring: flagBool(p, 'no-new-keyring'),
      preserveFds,
      systemdCgroup: g.systemdCgroup,
      onWarning: (warning: string) => {
        process.stderr.write(`tsrun: warning: ${warning}\n`);
        writeLog(g, 'warn', warning);
      },
    },
  };
}

export default async function create(args: string[], g: GlobalOptions): Promise<number> {
  const { options } = createOptionsFrom(args, g);
  const { createContainer } = await import('../../runtime/create.js');
  createContainer({ ...options, ...inheritedFdOptions() });
  return 0;
}
