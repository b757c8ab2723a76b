// The sidecar `fast.state` that lets the native front binary (addon/fast)
// answer `state`, `start`, `kill` and `delete` without starting Node. TypeScript makes
// every decision here, once, at create: the state document is pre-rendered
// with two holes (pid, status), and the facts status is derived from (init
// pid and start time, the freezer file and its frozen value) are spelled out.
// The native side only fills the holes; anything unusual goes back to Node.
import { writeFileAtomic } from '../common/atomicFile.js';
import { join } from 'node:path';
import { cgroupManager } from '../linux/cgroups/manager.js';
import { removalOrder } from '../linux/cgroups/removeCgroups.js';
import type { ContainerRecord, StateStore } from './stateStore.js';

// The holes addon/fast/state.c fills: "@PID@" (quoted, as JSON renders it) and @STATUS@.
const PID_HOLE = '@PID@';
const STATUS_HOLE = '@STATUS@';

export function fastStateText(rec: ContainerRecord): string {
  const doc = {
    ociVersion: rec.ociVersion,
    id: rec.id,
    pid: PID_HOLE,
    status: STATUS_HOLE,
    bundle: rec.bundle,
    rootfs: rec.rootfs,
    created: rec.created,
    owner: rec.owner,
    annotations: rec.annotations ?? {},
  };
  const freeze = Object.keys(rec.cgroupPaths).length ? cgroupManager('', rec.cgroupPaths).freezeProbe() : undefined;
  // delete of a stopped container: its cgroups must hold no process (else Node
  // kills them), then the directories it created go, deepest first, the
  // container's own leaf retried while its last processes exit (removeCgroups.ts).
  const procs = [...new Set(Object.values(rec.cgroupPaths))].map((d) => `procs ${join(d, 'cgroup.procs')}`);
  const rmdirs = removalOrder(rec.cgroupCreated).map(({ dir, isLeaf }) => `rmdir ${isLeaf ? 1 : 0} ${dir}`);
  const lines = [
    'tsrun-fast 1',
    `pid ${rec.pid}`,
    `start ${rec.pidStartTime ?? ''}`,
    `poststart ${rec.config.hooks?.poststart?.length ? 1 : 0}`,
    `poststop ${rec.config.hooks?.poststop?.length ? 1 : 0}`,
    ...(freeze ? [`freeze ${freeze.value} ${freeze.file}`] : []),
    ...procs,
    ...rmdirs,
    'template',
    JSON.stringify(doc, null, 2),
  ];
  return lines.join('\n') + '\n';
}

export function writeFastState(store: StateStore, rec: ContainerRecord): void {
  const file = join(store.dir(rec.id), 'fast.state');
  try {
    writeFileAtomic(file, fastStateText(rec), 0o600);
  } catch {
    // Only a shortcut: without it every verb takes the Node path.
  }
}
