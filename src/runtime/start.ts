// `start`: opening exec.fifo for reading releases the init, which then execs
// the user process. Non-blocking and polled while the init is alive, so a
// dead init can never hang `start` and a slow one never fails it.
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
import { FIFO_REPORT, SYNC } from '../linux/generated/protocol.js';
import { errorFromRecord } from './initChannel.js';

/** Starts the container; returns the warnings of failed poststart hooks (they never fail start). */
export function startContainer(root: string, id: string): string[] {
  const { store } = openContainer(root, id);
  return withLock(store.dir(id), () => {
    const record = store.read(id);
    const fifo = join(store.dir(id), 'exec.fifo');
    // The native front binary read exec.fifo and found an error report: it left it here for us.
    const handed = takeHandedReport(join(store.dir(id), 'start.report'));
    const status = handed ? 'created' : containerStatus(store, record);
    if (status !== 'created')
      throw new RuntimeError({ kind: 'invalid-state', step: `start ${id}`, detail: `cannot start a container that is ${status}` });
    const report = handed ? decodeStartReport(handed, id) : readStartReport(fifo, record.pid, record.pidStartTime, id);
    if (report.length && report[0] === SYNC.ERR) {
      rmSync(fifo, { force: true });
      throw errorFromRecord(report);
    }
    rmSync(fifo, { force: true });
    record.started = true;
    store.write(record);
    // runtime-spec (config.md, posix-platform-hooks): a failing poststart hook is only a
    // warning; the remaining hooks run and the container keeps running.
    return runHooks('poststart', record.config.hooks?.poststart, hookState(record, 'running'), false);
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
      // EOF: either the init closed its end (exec or exit), or it has not opened it yet: create
      // returns on READY, just before the init opens the fifo, and a busy machine can run us first.
      if (!sawWriter && !sawData(chunks)) {
        if (isProcessAlive(pid, startTime)) return false;
        throw new RuntimeError({ step: `start ${id}`, path: fifo, detail: 'the container init exited before it opened exec.fifo' });
      }
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

/** "0" alone: started (no fields); "0" + an ERR record or an ERR record: what failed; nothing: the init died. */
function decodeStartReport(all: Buffer, id: string): string[] {
  if (all.length === 0) throw new RuntimeError({ step: `start ${id}`, detail: 'the container init exited before it could start' });
  const rest = all[0] === 0x30 ? all.subarray(1) : all;
  return rest.length ? decodeMessage(rest) : [];
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
