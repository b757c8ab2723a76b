// --runtime as dockerd takes a runtime's path: a name without a slash (`runc`)
// is looked up in PATH, once, while the flags are read (before tsd listens);
// anything else is a path, made absolute. A name found nowhere is refused at
// start rather than at every create.
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';
import { UsageError } from '../common/argv.js';

export function runtimePath(value: string, path = process.env.PATH ?? ''): string {
  if (value.includes('/')) return resolve(value);
  for (const dir of path.split(delimiter).filter(Boolean)) {
    const candidate = join(dir, value);
    try {
      accessSync(candidate, constants.X_OK);
      if (statSync(candidate).isFile()) return resolve(candidate);
    } catch { /* not here */ }
  }
  throw new UsageError(`--runtime: ${JSON.stringify(value)} is not a path and no executable of that name is in PATH`);
}
