// Killing what a failed or deleted container leaves: our own children (the
// helper's stage 1, an init or exec'd process not yet handed over) are killed
// and reaped; a cgroup's processes are killed until it is empty.
import type { CgroupManager } from '../linux/cgroups/manager.js';
import { addon } from '../native/addon.js';
import { waitUntilSync, type RetryPolicy } from '../common/wait.js';

/** SIGKILL and waitpid each child pid given (0 = none); errors mean it is gone already. */
export function killChildren(pids: number[]): void {
  for (const pid of pids) {
    if (!pid) continue;
    try {
      addon().kill(pid, 9);
    } catch { /* already gone */ }
    try {
      addon().waitPid(pid, false);
    } catch { /* not our child, or reaped */ }
  }
}

/** The kill is repeated every this many checks, for processes forked meanwhile. */
const REKILL_EVERY = 50;

/**
 * SIGKILLs every process in the cgroup (and `alsoKill`, e.g. the init through
 * its pidfd) and waits until none is left, as long as `policy` allows.
 * Returns whether the cgroup ended empty.
 */
export function emptyCgroup(cg: CgroupManager | undefined, policy: RetryPolicy, alsoKill?: () => void, stillAlive?: () => boolean): boolean {
  const killAll = () => {
    alsoKill?.();
    for (const pid of cg?.pids() ?? []) {
      try {
        addon().kill(pid, 9);
      } catch { /* gone */ }
    }
  };
  killAll();
  // Frozen tasks only see the SIGKILL once thawed.
  if (cg?.isFrozen()) cg.thaw();
  return waitUntilSync(
    () => (cg?.pids().length ?? 0) === 0 && !stillAlive?.(),
    policy,
    (attempt) => { if (attempt % REKILL_EVERY === REKILL_EVERY - 1) killAll(); },
  );
}
