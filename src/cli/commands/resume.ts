import type { GlobalOptions } from '../globals.js';
import { parseIdArgs } from './idOnly.js';

export default async function resume(args: string[], g: GlobalOptions): Promise<number> {
  const { id } = parseIdArgs(args);
  const { resumeContainer } = await import('../../runtime/pause.js');
  resumeContainer(g.root, id);
  return 0;
}
