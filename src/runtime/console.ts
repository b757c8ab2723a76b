// The container's console: the init makes the pty and sends its master either
// to the caller's --console-socket, or, when tsrun attaches its own terminal
// (run, exec without --console-socket), back to tsrun over a socket pair.
import { closeSync } from 'node:fs';
import { addon, recvFd } from '../native/addon.js';
import { RuntimeError } from '../common/errors.js';

/** How long the init may take to send the master once the process runs. */
const MASTER_TIMEOUT_MS = 10_000;

export function connectConsoleSocket(path: string): number {
  try {
    return addon().connectUnix(path);
  } catch (e) {
    throw RuntimeError.fromSystem('connect to the console socket', e, { path });
  }
}

/** A socket pair: `theirs` goes to the helper as its console socket, the master comes back on `mine`. */
export function consoleReceiver(): { mine: number; theirs: number } {
  const [mine, theirs] = addon().socketPair();
  return { mine, theirs };
}

/** The pty master sent on `mine`, which is closed. */
export function receiveConsole(mine: number): number {
  try {
    return recvFd(mine, MASTER_TIMEOUT_MS);
  } finally {
    closeSync(mine);
  }
}

/** Sets the pty's window size (the caller's terminal size, on start and on SIGWINCH). */
export function resizeConsole(master: number, rows: number, columns: number): void {
  addon().setWinsize(master, rows, columns);
}
