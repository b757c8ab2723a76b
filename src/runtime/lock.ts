// An exclusive flock on <dir>/.lock (a container's state dir, a snapshot
// store). The kernel drops it when the process dies, so a killed command never
// leaves a stale lock behind.
import { closeSync, constants, openSync } from 'node:fs';
import { join } from 'node:path';
import { addon } from '../native/addon.js';
import { RuntimeError } from './errors.js';

export function withLock<T>(dir: string, fn: () => T, what = 'the container'): T {
  const path = join(dir, '.lock');
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_CREAT, 0o600);
  } catch (e) {
    throw RuntimeError.fromSystem(`lock ${what}`, e, { path });
  }
  try {
    addon().flock(fd, true, false);
    return fn();
  } finally {
    closeSync(fd);
  }
}
