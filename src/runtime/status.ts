import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { State } from '../spec/types.js';
import { cgroupManager } from '../linux/cgroups/manager.js';
import { isProcessAlive } from '../common/proc.js';
import type { ContainerRecord, StateStore } from './stateStore.js';

export type Status = State['status'];

/** The container's status, derived from its init process and exec.fifo, never only stored. */
export function containerStatus(store: StateStore, rec: ContainerRecord): Status {
  const alive = isProcessAlive(rec.pid, rec.pidStartTime);
  if (rec.phase === 'creating') return alive ? 'creating' : 'stopped';
  if (!alive) return 'stopped';
  if (existsSync(join(store.dir(rec.id), 'exec.fifo'))) return 'created';
  if (Object.keys(rec.cgroupPaths).length && cgroupManager('', rec.cgroupPaths).isFrozen()) return 'paused';
  return 'running';
}

/** The state document of runtime.md, plus runc's rootfs/created/owner that engines read. */
export function ociState(store: StateStore, rec: ContainerRecord): State & Record<string, unknown> {
  const status = containerStatus(store, rec);
  return {
    ociVersion: rec.ociVersion,
    id: rec.id,
    pid: status === 'stopped' ? 0 : rec.pid ?? 0,
    status,
    bundle: rec.bundle,
    rootfs: rec.rootfs,
    created: rec.created,
    owner: rec.owner,
    annotations: rec.annotations ?? {},
  };
}

/** The state document hooks and the seccomp listener get (runtime.md#state), at a given lifecycle point. */
export function hookState(rec: ContainerRecord, status: Status): State {
  return {
    ociVersion: rec.ociVersion,
    id: rec.id,
    status,
    ...(status === 'stopped' ? {} : { pid: rec.pid }),
    bundle: rec.bundle,
    annotations: rec.annotations ?? {},
  };
}
