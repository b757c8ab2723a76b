// `delete`: removes a stopped (or created) container: its remaining
// processes, the cgroups it created, and its state directory.
import { addon } from '../native/addon.js';
import { cgroupManager } from '../linux/cgroups/manager.js';
import { removeCgroupDirs } from '../linux/cgroups/removeCgroups.js';
import { validateContainerId } from './containerId.js';
import { RuntimeError } from '../common/errors.js';
import { emptyCgroup } from './reap.js';
import { isProcessAlive } from '../common/proc.js';
import { policies } from '../common/wait.js';
import { StateStore, type ContainerRecord } from './stateStore.js';
import { containerStatus, hookState } from './status.js';
import { withLock } from '../common/lock.js';
import { runHooks } from './hooks.js';

/** Deletes the container; returns the poststop hook failures, which do not stop the delete. */
export function deleteContainer(root: string, id: string, force = false): string[] {
  validateContainerId(id);
  const store = new StateStore(root);
  if (!store.exists(id)) {
    if (force) return [];
    throw new RuntimeError({ step: `delete ${id}`, errno: 'ENOENT', detail: `container ${JSON.stringify(id)} does not exist` });
  }
  return withLock(store.dir(id), () => {
    let record: ContainerRecord | undefined;
    let warnings: string[] = [];
    try {
      record = store.read(id);
    } catch (e) {
      // A create killed before its first state write leaves only the directory. A
      // state that is there but not as create wrote it names processes and cgroups
      // we would forget: refuse, even with --force.
      if (!force || !(e instanceof RuntimeError && e.kind === 'not-found')) throw e;
    }
    if (record) {
      const status = containerStatus(store, record);
      if ((status === 'running' || status === 'paused' || status === 'creating') && !force)
        throw new RuntimeError({ kind: 'invalid-state', step: `delete ${id}`, detail: `cannot delete a container that is ${status} (use --force)` });
      destroy(record);
      // poststop: after the container is gone, before its state; every hook runs, failures are warnings.
      if (record.phase === 'created' || record.started) warnings = runHooks('poststop', record.config.hooks?.poststop, hookState(record, 'stopped'), false);
    }
    store.remove(id);
    return warnings;
  });
}

function destroy(record: ContainerRecord): void {
  const cg = Object.keys(record.cgroupPaths).length ? cgroupManager('', record.cgroupPaths) : undefined;
  const killInit = () => {
    try {
      addon().killSame(record.pid ?? 0, record.pidStartTime ?? '', 9);
    } catch { /* gone, or its pid is someone else's now */ }
  };
  emptyCgroup(cg, policies.cgroupEmpty, killInit, () => isProcessAlive(record.pid, record.pidStartTime));
  removeCgroupDirs(record.cgroupCreated);
}
