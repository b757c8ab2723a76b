// main.ts's first import: which fds tsrun's caller handed it, taken before the
// CLI opens any (see runtime/callerFds.ts). The record is removed from the
// environment so that nothing tsrun starts inherits it.
import { callerFdsFrom, listenFdCount, type CallerFd } from '../runtime/callerFds.js';

const RECORD_ENV = 'TSRUN_INHERITED_FDS';

const recorded = process.env[RECORD_ENV];
delete process.env[RECORD_ENV];
const atStart = callerFdsFrom(recorded);

/** The caller's fds and LISTEN_FDS (systemd socket activation), as create and run take them. */
export function inheritedFdOptions(): { callerFds: CallerFd[]; listenFds: number } {
  return { callerFds: atStart, listenFds: listenFdCount(process.env.LISTEN_FDS, process.env.LISTEN_PID, process.pid) };
}
