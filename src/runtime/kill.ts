import { addon } from '../native/addon.js';
import { cgroupManager } from '../linux/cgroups/manager.js';
import { RuntimeError } from '../common/errors.js';
import { openContainer } from './open.js';
import { containerStatus } from './status.js';

export function killContainer(root: string, id: string, signal: number, all = false): void {
  const { store, record } = openContainer(root, id);
  const status = containerStatus(store, record);
  // --all on a stopped container still signals what is left in its cgroup, and succeeds
  // when nothing is (as runc: containerd's shim calls it after every exit).
  if (status === 'stopped' && !all) throw new RuntimeError({ kind: 'invalid-state', step: `kill ${id}`, detail: 'container not running' });
  if (all) {
    const cg = cgroupManager('', record.cgroupPaths);
    const pids = cg.pids();
    for (const pid of pids) {
      try {
        addon().kill(pid, signal);
      } catch { /* exited meanwhile */ }
    }
    // Frozen tasks only see a SIGKILL once thawed.
    if (status === 'paused' && signal === 9) cg.thaw();
    if (pids.length || status === 'stopped') return;
  }
  try {
    addon().killSame(record.pid ?? 0, record.pidStartTime ?? '', signal);
  } catch (e) {
    throw RuntimeError.fromSystem(`kill ${id}`, e, { syscall: 'kill' });
  }
}
