import { flagBool } from '../argv.js';
import type { GlobalOptions } from '../globals.js';
import { parseIdArgs } from './idOnly.js';

export default async function del(args: string[], g: GlobalOptions): Promise<number> {
  const { id, parsed } = parseIdArgs(args, [{ name: 'force', kind: 'bool', alias: ['f'] }]);
  const { deleteContainer } = await import('../../runtime/delete.js');
  deleteContainer(g.root, id, flagBool(parsed, 'force'));
  return 0;
}
