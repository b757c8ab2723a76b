// `start`: opening exec.fifo for reading releases the init, which then execs
// the user process. Non-blocking, so a dead init can never hang `start`.
import { closeSync, constants, openSync, readSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { RuntimeError } from './errors.js';
import { openContainer } from './open.js';
import { isProcessAlive, sleepMs } from './processInfo.js';
import { containerStatus } from './status.js';
import { withLock } from './lock.js';

export function startContainer(root: string, id: string): void {
  const { store } = openContainer(root, id);
  withLock(store.dir(id), () => {
    const record = store.read(id);
    const status = containerStatus(store, record);
    if (status !== 'created')
      throw new RuntimeError({ step: `start ${id}`, detail: `cannot start a container that is ${status}` });
    const fifo = join(store.dir(id), 'exec.fifo');
    let fd: number;
    try {
      fd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    } catch (e) {
      throw RuntimeError.fromSystem(`start ${id}`, e, { path: fifo });
    }
    try {
      const buf = Buffer.alloc(1);
      for (;;) {
        let n: number;
        try {
          n = readSync(fd, buf, 0, 1, null);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw RuntimeError.fromSystem(`start ${id}`, e, { path: fifo });
          if (!isProcessAlive(record.pid, record.pidStartTime))
            throw new RuntimeError({ step: `start ${id}`, detail: 'the container init exited before it could start' });
          sleepMs(1);
          continue;
        }
        if (n === 1) break;
        throw new RuntimeError({ step: `start ${id}`, path: fifo, detail: 'the container init is not waiting on exec.fifo' });
      }
    } finally {
      closeSync(fd);
    }
    rmSync(fifo, { force: true });
    record.started = true;
    store.write(record);
  });
}
