// The first write to a cgroup.procs file after a quiet spell costs 7–30 ms
// here: the kernel's cgroup_threadgroup_rwsem waits out an RCU grace period
// before its first writer (rcu_sync_enter) and stays on the fast path for
// about one grace period after its last. create and exec start a no-op
// migration (this process into the cgroup it is already in) on a pool thread
// as they begin, so that wait overlaps their own work instead of following it
// (on Node: the join 10–33 ms → <1 ms, create 131 → 119 ms). The front binary
// does the same from a grandchild before it execs the engine (addon/fast), which
// is what gives bun, whose start is too short for this one to lead by enough,
// its gain; this one serves Node and library callers.
import { closeSync, openSync, readFileSync, write } from 'node:fs';
import { CGROUP_ROOT } from './fsutil.js';
import { isCgroupV2Host } from './manager.js';

/** The cgroup.procs file of a hierarchy this process is in. */
function ownProcsFile(): string | undefined {
  let lines: string[];
  try {
    lines = readFileSync('/proc/self/cgroup', 'utf8').split('\n');
  } catch {
    return undefined;
  }
  const v2 = isCgroupV2Host();
  for (const line of lines) {
    const [, controllers, path] = line.split(':');
    if (path === undefined) continue;
    if (v2) {
      if (controllers === '') return `${CGROUP_ROOT}${path === '/' ? '' : path}/cgroup.procs`;
    } else if (controllers) {
      return `${CGROUP_ROOT}/${controllers.replace(/^name=/, '')}${path === '/' ? '' : path}/cgroup.procs`;
    }
  }
  return undefined;
}

/**
 * Fire and forget: a failure only means the later migration pays the wait
 * itself. The file is opened here so the pool thread's one request is the
 * write (fs.writeFile would wait for the busy main thread between open and
 * write). The fd is O_CLOEXEC and the helper closes what it does not park.
 */
export function startMigrationWarmup(): void {
  const file = ownProcsFile();
  if (!file) return;
  let fd: number;
  try {
    fd = openSync(file, 'w');
  } catch {
    return;
  }
  write(fd, String(process.pid), () => closeSync(fd));
}
