import { flagBool } from '../../common/argv.js';
import type { GlobalOptions } from '../globals.js';
import { createOptionsFrom } from './create.js';
import { inheritedFdOptions } from '../inheritedFds.js';

export default async function run(args: string[], g: GlobalOptions): Promise<number> {
  const { parsed, options } = createOptionsFrom(args, g, [
    { name: 'detach', kind: 'bool', alias: ['d'] },
    { name: 'keep', kind: 'bool' },
  ]);
  const { runContainer } = await import('../../runtime/run.js');
  const started = runContainer({ ...options, ...inheritedFdOptions(), detach: flagBool(parsed, 'detach') });
  if (!started) return 0;
  const { attachForeground } = await import('../attach.js');
  const code = await attachForeground(started);
  // --keep (runc's run --keep): the stopped container stays for the caller to delete.
  if (!flagBool(parsed, 'keep')) {
    const { deleteContainer } = await import('../../runtime/delete.js');
    // poststop failures are warnings: they do not change the exit code.
    for (const warning of deleteContainer(options.root, options.id, true)) options.onWarning(warning);
  }
  return code;
}
