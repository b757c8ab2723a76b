import type { GlobalOptions } from '../globals.js';
import { parseIdArgs } from './idOnly.js';

export default async function state(args: string[], g: GlobalOptions): Promise<number> {
  const { id } = parseIdArgs(args);
  const { openContainer } = await import('../../runtime/open.js');
  const { ociState } = await import('../../runtime/status.js');
  const { store, record } = openContainer(g.root, id);
  process.stdout.write(JSON.stringify(ociState(store, record), null, 2) + '\n');
  return 0;
}
