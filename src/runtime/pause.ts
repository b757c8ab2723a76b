// pause/resume: freeze and thaw every process of the container's cgroup
// (v1 freezer, v2 cgroup.freeze).
import { cgroupManager } from '../linux/cgroups/manager.js';
import { RuntimeError } from '../common/errors.js';
import { openContainer } from './open.js';
import { policies, waitUntilSync } from '../common/wait.js';
import { containerStatus } from './status.js';
import { withLock } from '../common/lock.js';

export function pauseContainer(root: string, id: string): void {
  const { store } = openContainer(root, id);
  withLock(store.dir(id), () => {
    const record = store.read(id);
    const status = containerStatus(store, record);
    if (status !== 'running') throw new RuntimeError({ step: `pause ${id}`, detail: `cannot pause a container that is ${status}` });
    const cg = cgroupManager('', record.cgroupPaths);
    cg.freeze();
    // The v1 freezer passes through FREEZING; report done only when frozen.
    waitUntilSync(() => cg.isFrozen(), policies.frozen);
  });
}

export function resumeContainer(root: string, id: string): void {
  const { store } = openContainer(root, id);
  withLock(store.dir(id), () => {
    const record = store.read(id);
    const status = containerStatus(store, record);
    if (status !== 'paused') throw new RuntimeError({ step: `resume ${id}`, detail: `cannot resume a container that is ${status}` });
    cgroupManager('', record.cgroupPaths).thaw();
  });
}

/** Host pids of every process in the container. */
export function containerPids(root: string, id: string): number[] {
  const { record } = openContainer(root, id);
  return Object.keys(record.cgroupPaths).length ? cgroupManager('', record.cgroupPaths).pids().sort((a, b) => a - b) : [];
}
