// `start`: opening exec.fifo for reading releases the init, which then execs
// the user process. Non-blocking, so a dead init can never hang `start`.
import { closeSync, constants, openSync, readFileSync, readSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { RuntimeError } from '../common/errors.js';
import { openContainer } from './open.js';
import { isProcessAlive } from '../common/proc.js';
import { policies, waitUntilSync } from '../common/wait.js';
import { containerStatus, hookState } from './status.js';
import { withLock } from '../common/lock.js';
import { runHooks } from './hooks.js';
import { addon } from '../native/addon.js';
import { decodeMessage } from '../linux/planCodec.js';
import { errorFromRecord } from './initChannel.js';

export function startContainer(root: string, id: string): void {
  const { store } = openContainer(root, id);
  withLock(store.dir(id), () => {
    const record = store.read(id);
    const fifo = join(store.dir(id), 'exec.fifo');
    // The native front binary read exec.fifo and found an error report: it left it here for us.
    const handed = takeHandedReport(join(store.dir(id), 'start.report'));
    const status = handed ? 'created' : containerStatus(store, record);
    if (status !== 'created')
      throw new RuntimeError({ kind: 'invalid-state', step: `start ${id}`, detail: `cannot start a container that is ${status}` });
    const report = handed ? decodeStartReport(handed, id) : readStartReport(fifo, record.pid, record.pidStartTime, id);
    if (report.length && report[0] === 'ERR') {
      rmSync(fifo, { force: true });
      throw errorFromRecord(report);
    }
    rmSync(fifo, { force: true });
    record.started = true;
    store.write(record);
    try {
      runHooks('poststart', record.config.hooks?.poststart, hookState(record, 'running'), true);
    } catch (e) {
      // A failed poststart hook fails `start` (runtime-spec v1.3); the container does not stay half-started.
      try {
        addon().killSame(record.pid ?? 0, record.pidStartTime ?? '', 9);
      } catch { /* already gone */ }
      throw e;
    }
  });
}

/**
 * Opens exec.fifo (non-blocking, so a dead init cannot hang us) and reads it
 * until EOF, which the init's execve causes. "0" alone: the process started;
 * an ERR record: what failed (a startContainer hook, seccomp, execve).
 */
function readStartReport(fifo: string, pid: number | undefined, startTime: string | undefined, id: string): string[] {
  let fd: number;
  try {
    fd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    throw RuntimeError.fromSystem(`start ${id}`, e, { path: fifo });
  }
  const chunks: Buffer[] = [];
  const buf = Buffer.alloc(65536);
  let sawWriter = false;
  // Reads what is there; true at EOF, false when the writer has more to come (EAGAIN).
  const readToEof = (): boolean => {
    for (;;) {
      let n: number;
      try {
        n = readSync(fd, buf, 0, buf.length, null);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw RuntimeError.fromSystem(`start ${id}`, e, { path: fifo });
        sawWriter = true;
        if (!isProcessAlive(pid, startTime) && !sawData(chunks))
          throw new RuntimeError({ step: `start ${id}`, detail: 'the container init exited before it could start' });
        return false;
      }
      if (n > 0) {
        sawWriter = true;
        chunks.push(Buffer.from(buf.subarray(0, n)));
        continue;
      }
      // EOF: either the init closed its end (exec or exit), or it has not opened it at all.
      if (!sawWriter && !sawData(chunks))
        throw new RuntimeError({ step: `start ${id}`, path: fifo, detail: 'the container init is not waiting on exec.fifo' });
      return true;
    }
  };
  try {
    waitUntilSync(readToEof, policies.execFifo);
  } finally {
    closeSync(fd);
  }
  return decodeStartReport(Buffer.concat(chunks), id);
}

/** "0" alone: started; "0" + an ERR record or an ERR record: what failed; nothing: the init died. */
function decodeStartReport(all: Buffer, id: string): string[] {
  if (all.length === 0) throw new RuntimeError({ step: `start ${id}`, detail: 'the container init exited before it could start' });
  const rest = all[0] === 0x30 ? all.subarray(1) : all;
  return rest.length ? decodeMessage(rest) : ['OK'];
}

function takeHandedReport(file: string): Buffer | undefined {
  try {
    const data = readFileSync(file);
    rmSync(file, { force: true });
    return data;
  } catch {
    return undefined;
  }
}

function sawData(chunks: Buffer[]): boolean {
  return chunks.some((c) => c.length > 0);
}
