import type { GlobalOptions } from '../globals.js';
import { parseIdArgs } from './idOnly.js';

export default async function pause(args: string[], g: GlobalOptions): Promise<number> {
  const { id } = parseIdArgs(args);
  const { pauseContainer } = await import('../../runtime/pause.js');
  pauseContainer(g.root, id);
  return 0;
}
