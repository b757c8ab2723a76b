// A container's events as runc reports them: "stats" (cgroup statistics) and
// "oom" (the OOM killer acted in the container). A library call so that any
// caller (the `events` verb, a daemon's stats endpoint) gets the same stream.
import { oomKillCount, readStats } from '../linux/cgroups/stats.js';
import { openContainer } from './open.js';
import { containerStatus } from './status.js';
import { waitUntil } from '../common/wait.js';

export interface ContainerEvent {
  type: 'stats' | 'oom';
  id: string;
  data?: unknown;
}

/** One stats event, now. */
export function statsEvent(root: string, id: string): ContainerEvent {
  const { record } = openContainer(root, id);
  return { type: 'stats', id, data: readStats(record.cgroupPaths) };
}

/**
 * Stats every `intervalMs` and an oom event as soon as the kill count rises,
 * until the container stops (polled every ≤100 ms, without blocking the event loop).
 */
export async function watchEvents(root: string, id: string, intervalMs: number, onEvent: (e: ContainerEvent) => void): Promise<void> {
  const { store, record } = openContainer(root, id);
  let ooms = oomKillCount(record.cgroupPaths);
  let nextStats = Date.now();
  const stoppedAfterReport = (): boolean => {
    if (containerStatus(store, record) === 'stopped') return true;
    const now = oomKillCount(record.cgroupPaths);
    if (now > ooms) onEvent({ type: 'oom', id });
    ooms = now;
    if (Date.now() >= nextStats) {
      onEvent({ type: 'stats', id, data: readStats(record.cgroupPaths) });
      nextStats += intervalMs;
    }
    return false;
  };
  await waitUntil(stoppedAfterReport, { intervalMs: Math.min(100, intervalMs) });
  // The last kill may be what stopped it.
  if (oomKillCount(record.cgroupPaths) > ooms) onEvent({ type: 'oom', id });
}
