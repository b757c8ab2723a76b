// flock-based locks: an exclusive one on <dir>/.lock (a container's state dir,
// a snapshot store), or any lock file in either mode (the image store's gc
// lease, a download in progress). The kernel drops a lock when the process
// dies, so a killed command never leaves a stale lock behind; the front binary
// (addon/fast) takes the same flocks, so the primitive must be flock(2).
//
// Two ways to wait: `lockFileSync`/`withLock` block the thread, which only a
// short-lived command may do (tsrun); `lock`/`withLockAsync` poll a
// non-blocking attempt on timers, so a daemon's event loop keeps running while
// it waits, and two waiters in one process exclude each other as two
// processes do (a flock belongs to the open file, not to the process).
import { closeSync, constants, openSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { RuntimeError } from './errors.js';
import { nativeBuildDir, selfPath } from './selfPath.js';

type Flock = (fd: number, exclusive: boolean, nonblock: boolean) => void;

let flockFn: Flock | undefined;

/**
 * flock(2) from the project's addon, required by path: src/common imports no
 * other part, and Node has no flock of its own. Requiring the same file as
 * src/native/addon.ts (both from nativeBuildDir) yields the same loaded module.
 */
function flock(): Flock {
  if (!flockFn) {
    const addon = createRequire(selfPath(import.meta.url))(join(nativeBuildDir(), 'tsrun.node')) as { flock: Flock };
    flockFn = addon.flock;
  }
  return flockFn;
}

const OPEN_FLAGS = constants.O_RDONLY | constants.O_CREAT;
const isHeldElsewhere = (e: unknown) => ['EWOULDBLOCK', 'EAGAIN'].includes((e as NodeJS.ErrnoException).code ?? '');

function openLockFile(path: string, step: string): number {
  try {
    return openSync(path, OPEN_FLAGS, 0o600);
  } catch (e) {
    throw RuntimeError.fromSystem(step, e, { path });
  }
}

/** Opens (creating) `path` and waits for the lock, blocking the thread; returns the fd that holds it. `step` names a failure. */
export function lockFileSync(path: string, exclusive: boolean, step: string): number {
  const fd = openLockFile(path, step);
  try {
    flock()(fd, exclusive, false);
  } catch (e) {
    closeSync(fd);
    throw RuntimeError.fromSystem(step, e, { path });
  }
  return fd;
}

/** Takes the lock if nobody holds it in a conflicting mode: the fd that holds it, or undefined. */
export function tryLock(path: string, exclusive: boolean, step: string): number | undefined {
  const fd = openLockFile(path, step);
  try {
    flock()(fd, exclusive, true);
    return fd;
  } catch (e) {
    closeSync(fd);
    if (isHeldElsewhere(e)) return undefined;
    throw RuntimeError.fromSystem(step, e, { path });
  }
}

// A lock is mostly held for milliseconds (metadata) and sometimes for a whole
// download or copy: retry soon, then back off to a bounded interval.
const FIRST_RETRY_MS = 2;
const LONGEST_RETRY_MS = 50;

/** Waits for the lock without blocking the event loop; resolves to the fd that holds it. */
export async function lock(path: string, exclusive: boolean, step: string): Promise<number> {
  for (let delay = FIRST_RETRY_MS; ; delay = Math.min(delay * 2, LONGEST_RETRY_MS)) {
    const fd = tryLock(path, exclusive, step);
    if (fd !== undefined) return fd;
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}

/** Runs fn holding the exclusive lock on `dir`/.lock, blocking the thread while it waits (short-lived commands only). */
export function withLock<T>(dir: string, fn: () => T, what = 'the container'): T {
  const fd = lockFileSync(join(dir, '.lock'), true, `lock ${what}`);
  try {
    return fn();
  } finally {
    closeSync(fd);
  }
}

/** withLock for a daemon: waits on timers, and fn may itself be async. */
export async function withLockAsync<T>(dir: string, fn: () => Promise<T> | T, what = 'the container'): Promise<T> {
  const fd = await lock(join(dir, '.lock'), true, `lock ${what}`);
  try {
    return await fn();
  } finally {
    closeSync(fd);
  }
}
