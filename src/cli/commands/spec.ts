import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { flagBool, flagString, parseArgs, UsageError } from '../../common/argv.js';
import type { GlobalOptions } from '../globals.js';
import { RuntimeError } from '../../common/errors.js';

export default async function spec(args: string[], _g: GlobalOptions): Promise<number> {
  const p = parseArgs(args, [
    { name: 'bundle', kind: 'string', alias: ['b'] },
    { name: 'rootless', kind: 'bool' },
  ]);
  if (p.positionals.length) throw new UsageError(`unexpected arguments: ${p.positionals.join(' ')}`);
  const { defaultSpec } = await import('../../spec/defaultSpec.js');
  const file = join(flagString(p, 'bundle') ?? '.', 'config.json');
  if (existsSync(file)) throw new RuntimeError({ step: 'write the default config', path: file, errno: 'EEXIST', detail: 'file exists; remove it first' });
  try {
    writeFileSync(file, JSON.stringify(defaultSpec(flagBool(p, 'rootless')), null, '\t') + '\n', { flag: 'wx', mode: 0o666 });
  } catch (e) {
    throw RuntimeError.fromSystem('write the default config', e, { path: file });
  }
  return 0;
}
