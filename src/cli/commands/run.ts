import { flagBool } from '../../common/argv.js';
import type { GlobalOptions } from '../globals.js';
import { createOptionsFrom, inheritedFdOptions } from './create.js';

export default async function run(args: string[], g: GlobalOptions): Promise<number> {
  const { parsed, options } = createOptionsFrom(args, g, [
    { name: 'detach', kind: 'bool', alias: ['d'] },
    { name: 'keep', kind: 'bool' },
  ]);
  const { runContainer } = await import('../../runtime/run.js');
  return runContainer({
    ...options,
    ...(await inheritedFdOptions()),
    detach: flagBool(parsed, 'detach'),
    keep: flagBool(parsed, 'keep'),
  });
}
