// `exec`: a new process in a running container, through the same helper:
// stage 1 joins the init's namespaces and the container's cgroup, clones, and
// the child becomes the process. The runtime reads the sync socket until the
// EOF that execve causes, so an exec failure is reported, not just an exit code.
import { closeSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Process } from '../spec/types.js';
import { buildExecPlan } from '../linux/execPlan.js';
import { apparmorEnabled } from '../linux/apparmor.js';
import { cgroupManager } from '../linux/cgroups/manager.js';
import { startMigrationWarmup } from '../linux/cgroups/migrationWarmup.js';
import { decodeMessage, encodeMessage, encodePlan } from '../linux/planCodec.js';
import { addon, helperPath, recvFd } from '../native/addon.js';
import { capLastCap, compileSeccomp, errorFromRecord, handOverSeccompFd, receive } from './create.js';
import { writeFileAtomic } from '../common/atomicFile.js';
import { checkPreservedFds, type CallerFd } from './callerFds.js';
import { RuntimeError } from '../common/errors.js';
import { killChildren } from './reap.js';
import { openContainer } from './open.js';
import { waitInForeground } from './run.js';
import { containerStatus, hookState } from './status.js';

export interface ExecOptions {
  root: string;
  id: string;
  process: Process;
  consoleSocket?: string;
  detach?: boolean;
  pidFile?: string;
  preserveFds?: number;
  /** --ignore-paused: refused with its reason in a paused container (see below). */
  ignorePaused?: boolean;
  /** The fds the caller handed the runtime (callerFds()); preserved fds must be among them. */
  callerFds?: CallerFd[];
  onWarning?: (message: string) => void;
}

export async function execProcess(opts: ExecOptions): Promise<number> {
  startMigrationWarmup();
  const { store, record } = openContainer(opts.root, opts.id);
  const status = containerStatus(store, record);
  // A process joining a frozen cgroup freezes before its execve, so exec would
  // block until someone resumes the container: say so instead.
  if (status === 'paused' && opts.ignorePaused)
    throw new RuntimeError({ kind: 'invalid-state', step: `exec in ${opts.id}`, detail: '--ignore-paused: a process started in a paused container is frozen before it runs; resume the container first' });
  if (status !== 'running') throw new RuntimeError({ kind: 'invalid-state', step: `exec in ${opts.id}`, detail: `cannot exec in a ${status} container` });
  const proc = opts.process;
  const apparmor = apparmorEnabled();
  if (proc.apparmorProfile && !apparmor) opts.onWarning?.('process.apparmorProfile is ignored: AppArmor is not enabled on this host');
  if (proc.selinuxLabel) opts.onWarning?.('process.selinuxLabel is ignored: SELinux is not enabled on this host');
  const terminal = proc.terminal === true;
  if (terminal && opts.detach && !opts.consoleSocket)
    throw new RuntimeError({ step: `exec in ${opts.id}`, detail: 'a detached exec with a terminal needs --console-socket' });
  if (!terminal && opts.consoleSocket)
    throw new RuntimeError({ step: `exec in ${opts.id}`, detail: '--console-socket was given but the process has no terminal (--tty)' });

  let consoleFd = -1;
  let attachEnd = -1;
  if (terminal && opts.consoleSocket) {
    try {
      consoleFd = addon().connectUnix(opts.consoleSocket);
    } catch (e) {
      throw RuntimeError.fromSystem('connect to the console socket', e, { path: opts.consoleSocket });
    }
  } else if (terminal) {
    [attachEnd, consoleFd] = addon().socketPair();
  }

  if (opts.callerFds) checkPreservedFds(opts.preserveFds ?? 0, opts.callerFds, `--preserve-fds ${opts.preserveFds ?? 0}`);
  const steps = buildExecPlan(record.config, record.pid!, proc, {
    console: terminal, preserveFds: opts.preserveFds ?? 0, seccomp: compileSeccomp(record.config, opts.onWarning), capLastCap: capLastCap(),
    apparmor,
  });
  let sock = -1;
  let stagePid = 0;
  let pid = 0;
  try {
    const spawned = addon().spawnInit(helperPath, encodePlan(steps), opts.preserveFds ?? 0, consoleFd);
    stagePid = spawned.pid;
    sock = spawned.sock;
    if (Object.keys(record.cgroupPaths).length) cgroupManager('', record.cgroupPaths).join(stagePid);
    addon().send(sock, encodeMessage(['GO']));
    pid = Number(receive(sock, 'clone')[1]);
    addon().waitPid(stagePid, false);
    stagePid = 0;
    addon().send(sock, encodeMessage(['GO']));
    // EOF (the socket closes on execve) means the process runs; ERR means it failed.
    for (;;) {
      let msg: (Buffer & { fd?: number }) | null;
      try {
        msg = addon().recv(sock, 120_000);
      } catch (e) {
        throw RuntimeError.fromSystem(`exec in ${opts.id}`, e);
      }
      if (!msg) break;
      const fields = decodeMessage(msg);
      if (fields[0] === 'SECCOMPFD' && msg.fd !== undefined) {
        handOverSeccompFd(record.config, msg.fd, pid, hookState(record, 'running'));
        continue;
      }
      throw fields[0] === 'ERR' ? errorFromRecord(fields) : new RuntimeError({ step: `exec in ${opts.id}`, detail: `unexpected message ${fields[0]}` });
    }
  } catch (e) {
    killChildren([stagePid, pid]);
    throw e;
  } finally {
    if (sock >= 0) closeSync(sock);
    if (consoleFd >= 0) closeSync(consoleFd);
  }
  if (opts.pidFile) {
    try {
      writeFileAtomic(resolve(opts.pidFile), String(pid));
    } catch (e) {
      throw RuntimeError.fromSystem('write the pid file', e, { path: opts.pidFile });
    }
  }

  let master = -1;
  if (attachEnd >= 0) {
    master = recvFd(attachEnd, 10_000);
    closeSync(attachEnd);
  }
  if (opts.detach) {
    if (master >= 0) closeSync(master);
    return 0;
  }
  return waitInForeground(pid, master);
}
