// Pulls, imports and bundle creation build snapshots and blobs that no image
// name or container record reaches until they finish. They hold a shared flock
// on <root>/gc.lock meanwhile; prune holds it exclusively, so it waits for
// them instead of collecting what they are building (containerd's leases,
// reduced to one lock). The kernel drops it when a process dies.
import { closeSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { RuntimeError } from '../common/errors.js';
import { lock } from '../common/lock.js';

function lockStore(dataRoot: string, exclusive: boolean): Promise<number> {
  const step = exclusive ? 'lock the store for garbage collection' : 'take a lease on the store';
  try {
    mkdirSync(dataRoot, { recursive: true });
  } catch (e) {
    throw RuntimeError.fromSystem(step, e, { path: dataRoot });
  }
  return lock(join(dataRoot, 'gc.lock'), exclusive, step);
}

/** Runs fn while prune cannot run. */
export async function withLease<T>(dataRoot: string, fn: () => Promise<T>): Promise<T> {
  const fd = await lockStore(dataRoot, false);
  try {
    return await fn();
  } finally {
    closeSync(fd);
  }
}

/** Runs fn once no pull, import or bundle creation is under way, and keeps new ones waiting. */
export async function withCollectorLock<T>(dataRoot: string, fn: () => Promise<T>): Promise<T> {
  const fd = await lockStore(dataRoot, true);
  try {
    return await fn();
  } finally {
    closeSync(fd);
  }
}
