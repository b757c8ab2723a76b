// flock-based locks: an exclusive one on <dir>/.lock (a container's state dir,
// a snapshot store), or any lock file in either mode (the image store's gc
// lease). The kernel drops a lock when the process dies, so a killed command
// never leaves a stale lock behind.
import { closeSync, constants, openSync } from 'node:fs';
import { join } from 'node:path';
import { addon } from '../native/addon.js';
import { RuntimeError } from '../common/errors.js';

/** Opens (creating) `path` and waits for the lock; returns the fd that holds it. `step` names a failure. */
export function lockFile(path: string, exclusive: boolean, step: string): number {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_CREAT, 0o600);
  } catch (e) {
    throw RuntimeError.fromSystem(step, e, { path });
  }
  try {
    addon().flock(fd, exclusive, false);
  } catch (e) {
    closeSync(fd);
    throw RuntimeError.fromSystem(step, e, { path });
  }
  return fd;
}

export function withLock<T>(dir: string, fn: () => T, what = 'the container'): T {
  const fd = lockFile(join(dir, '.lock'), true, `lock ${what}`);
  try {
    return fn();
  } finally {
    closeSync(fd);
  }
}
