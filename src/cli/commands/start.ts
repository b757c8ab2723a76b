import type { GlobalOptions } from '../globals.js';
import { parseIdArgs } from './idOnly.js';
import { writeLog } from '../log.js';

export default async function start(args: string[], g: GlobalOptions): Promise<number> {
  const { id } = parseIdArgs(args);
  const { startContainer } = await import('../../runtime/start.js');
  for (const warning of startContainer(g.root, id)) {
    process.stderr.write(`tsrun: warning: ${warning}\n`);
    writeLog(g, 'warn', warning);
  }
  return 0;
}
