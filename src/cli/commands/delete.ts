import { flagBool } from '../../common/argv.js';
import type { GlobalOptions } from '../globals.js';
import { parseIdArgs } from './idOnly.js';
import { writeLog } from '../log.js';

export default async function del(args: string[], g: GlobalOptions): Promise<number> {
  const { id, parsed } = parseIdArgs(args, [{ name: 'force', kind: 'bool', alias: ['f'] }]);
  const { deleteContainer } = await import('../../runtime/delete.js');
  for (const warning of deleteContainer(g.root, id, flagBool(parsed, 'force'))) {
    process.stderr.write(`tsrun: warning: ${warning}\n`);
    writeLog(g, 'warn', warning);
  }
  return 0;
}
