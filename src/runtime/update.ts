// `update`: new resource limits applied to the live cgroup and kept in the
// container's state, so later updates and `events` see them.
import { cgroupManager } from '../linux/cgroups/manager.js';
import { readStats } from '../linux/cgroups/stats.js';
import type { Resources } from '../spec/types.js';
import { RuntimeError } from '../common/errors.js';
import { openContainer } from './open.js';
import { containerStatus } from './status.js';
import { withLock } from '../common/lock.js';

function merge(base: Resources | undefined, change: Resources): Resources {
  const out: Resources = { ...(base ?? {}) };
  for (const key of Object.keys(change) as Array<keyof Resources>) {
    const v = change[key];
    if (v && typeof v === 'object' && !Array.isArray(v)) (out as Record<string, unknown>)[key] = { ...((base?.[key] as object) ?? {}), ...v };
    else (out as Record<string, unknown>)[key] = v;
  }
  return out;
}

export function updateContainer(root: string, id: string, change: Resources): void {
  const { store } = openContainer(root, id);
  withLock(store.dir(id), () => {
    const record = store.read(id);
    const status = containerStatus(store, record);
    if (status === 'stopped') throw new RuntimeError({ step: `update ${id}`, detail: 'cannot update a stopped container' });
    // Device rules are not re-applied on update (runc neither): only the limits change.
    const { devices: _ignored, ...limits } = change;
    const check = limits.memory?.checkBeforeUpdate ?? record.config.linux?.resources?.memory?.checkBeforeUpdate;
    const newLimit = limits.memory?.limit;
    if (check && newLimit !== undefined && newLimit > 0) {
      const usage = readStats(record.cgroupPaths).memory.usage.usage;
      if (newLimit < usage)
        throw new RuntimeError({ step: `update ${id}`, pointer: '/linux/resources/memory/limit', detail: `the new memory limit ${newLimit} is below the current usage ${usage} (checkBeforeUpdate)` });
    }
    cgroupManager('', record.cgroupPaths).apply(limits);
    record.config.linux ??= {};
    record.config.linux.resources = merge(record.config.linux.resources, limits);
    store.write(record);
  });
}
