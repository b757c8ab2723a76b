// A per-container flock on <root>/<id>/.lock. The kernel drops it when the
// process dies, so a killed command never leaves a stale lock behind.
import { closeSync, constants, openSync } from 'node:fs';
import { join } from 'node:path';
import { addon } from '../native/addon.js';
import { RuntimeError } from './errors.js';

export function withLock<T>(dir: string, fn: () => T): T {
  const path = join(dir, '.lock');
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_CREAT, 0o600);
  } catch (e) {
    throw RuntimeError.fromSystem('lock the container', e, { path });
  }
  try {
    addon().flock(fd, true, false);
    return fn();
  } finally {
    closeSync(fd);
  }
}
