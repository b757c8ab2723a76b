import { flagBool } from '../../common/argv.js';
import type { GlobalOptions } from '../globals.js';
import { parseIdArgs } from './idOnly.js';

export default async function kill(args: string[], g: GlobalOptions): Promise<number> {
  const { id, rest, parsed } = parseIdArgs(args, [{ name: 'all', kind: 'bool', alias: ['a'] }], 1);
  const { parseSignal } = await import('../../runtime/signals.js');
  const { killContainer } = await import('../../runtime/kill.js');
  killContainer(g.root, id, parseSignal(rest[0] ?? 'SIGTERM'), flagBool(parsed, 'all'));
  return 0;
}
