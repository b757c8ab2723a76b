import type { GlobalOptions } from '../globals.js';
import { parseIdArgs } from './idOnly.js';

export default async function start(args: string[], g: GlobalOptions): Promise<number> {
  const { id } = parseIdArgs(args);
  const { startContainer } = await import('../../runtime/start.js');
  startContainer(g.root, id);
  return 0;
}
