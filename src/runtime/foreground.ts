// A process tsrun started and its caller waits for (the init of `run`, the
// process of `exec`): what a caller needs to forward signals to it, attach a
// terminal and learn its exit. The caller decides about its own signals and
// terminal (src/cli/attach.ts); the library touches neither.
import { addon } from '../native/addon.js';

export interface ForegroundProcess {
  pid: number;
  /** The pty master when the process has a terminal and no --console-socket was given, else -1; the caller owns it. */
  consoleFd: number;
  /** Resolves with the exit code, 128+signal when killed; the event loop runs meanwhile. */
  wait(): Promise<number>;
}

export function foregroundProcess(pid: number, consoleFd: number): ForegroundProcess {
  return {
    pid,
    consoleFd,
    wait: async () => {
      const status = await addon().waitPidAsync(pid);
      return status.signal !== undefined ? 128 + status.signal : status.exitCode ?? 0;
    },
  };
}
