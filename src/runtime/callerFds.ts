// The fds tsrun's caller handed it, so that `--preserve-fds N` and LISTEN_FDS
// pass those and never one the runtime opened itself (the engine's event
// fds, the sync socket, the plan memfd, a cgroup.procs opened for writing):
// an over-counted N used to dup2 them all into the container.
//
// The native front binary records them before anything else is open
// (TSRUN_INHERITED_FDS: "fd:dev:ino,..."), so each is also checked to be the
// same file. Started without it (the CLI run directly), the fds open when the
// engine started our code are taken instead: that leaves out everything of
// ours, though not the engine's own. The CLI reads the environment and takes
// that snapshot before it opens anything (src/cli/inheritedFds.ts).
import { fstatSync, readdirSync } from 'node:fs';
import { RuntimeError } from '../common/errors.js';

export interface CallerFd {
  fd: number;
  dev?: bigint;
  ino?: bigint;
}

function parseRecorded(text: string): CallerFd[] | undefined {
  const out: CallerFd[] = [];
  for (const item of text.split(',').filter(Boolean)) {
    const m = /^(\d+):(\d+):(\d+)$/.exec(item);
    if (!m) return undefined;
    out.push({ fd: Number(m[1]), dev: BigInt(m[2]), ino: BigInt(m[3]) });
  }
  return out;
}

function snapshot(): CallerFd[] {
  try {
    // readdirSync opens (and closes) one fd of its own, the highest at this point: it is gone again.
    return readdirSync('/proc/self/fd').map(Number).filter((fd) => fd > 2).map((fd) => ({ fd }));
  } catch {
    return [];
  }
}

/** The caller's fds from the front binary's record, else the fds open now (call it before opening any). */
export function callerFdsFrom(recorded: string | undefined): CallerFd[] {
  return (recorded !== undefined ? parseRecorded(recorded) : undefined) ?? snapshot();
}

/** LISTEN_FDS as systemd means it: only when LISTEN_PID names this process (`ownPid`), as runc. */
export function listenFdCount(listenFds: string | undefined, listenPid: string | undefined, ownPid: number): number {
  const n = Number(listenFds ?? 0);
  if (!Number.isInteger(n) || n <= 0) return 0;
  return Number(listenPid) === ownPid ? n : 0;
}

/**
 * Checks that fds 3 .. 3+count-1 are all the caller's (and, where recorded,
 * still the same files); `what` names the flag that asked for them.
 */
export function checkPreservedFds(count: number, caller: CallerFd[], what: string): void {
  const byFd = new Map(caller.map((c) => [c.fd, c]));
  for (let fd = 3; fd < 3 + count; fd++) {
    const c = byFd.get(fd);
    let same = c !== undefined;
    if (c?.ino !== undefined) {
      try {
        const st = fstatSync(fd, { bigint: true });
        same = st.dev === c.dev && st.ino === c.ino;
      } catch {
        same = false;
      }
    }
    if (!same) {
      const given = caller.map((x) => x.fd).filter((x) => x >= 3);
      throw new RuntimeError({
        step: 'preserve file descriptors', errno: 'EBADF',
        detail: `${what} asks for fds 3..${2 + count}, but fd ${fd} was not passed to tsrun by its caller ` +
          `(it got ${given.length ? given.join(', ') : 'none above 2'}); only the caller's own fds are handed to the container`,
      });
    }
  }
}
