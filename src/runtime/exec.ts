// `exec`: a new process in a running container, through the same helper:
// stage 1 joins the init's namespaces and the container's cgroup, clones, and
// the child becomes the process. The runtime reads the sync socket until the
// EOF that execve causes, so an exec failure is reported, not just an exit code.
// Unless detached, the process is returned for the caller to wait for.
import { closeSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Process } from '../spec/types.js';
import { buildExecPlan } from '../linux/execPlan.js';
import { apparmorEnabled } from '../linux/apparmor.js';
import { cgroupManager } from '../linux/cgroups/manager.js';
import { startMigrationWarmup } from '../linux/cgroups/migrationWarmup.js';
import { addon } from '../native/addon.js';
import { capLastCap, compileSeccomp } from './planInputs.js';
import { receivePid, receiveUntilExec, sendGo, spawnHelper } from './initChannel.js';
import { handOverSeccompFd } from './seccompHandoff.js';
import { connectConsoleSocket, consoleReceiver, receiveConsole } from './console.js';
import { foregroundProcess, type ForegroundProcess } from './foreground.js';
import { writeFileAtomic } from '../common/atomicFile.js';
import { checkPreservedFds, type CallerFd } from './callerFds.js';
import { RuntimeError } from '../common/errors.js';
import { killChildren } from './reap.js';
import { openContainer } from './open.js';
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
  /** The fds the caller handed the runtime (callerFdsFrom()); preserved fds must be among them. */
  callerFds?: CallerFd[];
  onWarning?: (message: string) => void;
}

/** Returns the started process, or undefined when detached. */
export function execProcess(opts: ExecOptions): ForegroundProcess | undefined {
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
  if (terminal && opts.consoleSocket) consoleFd = connectConsoleSocket(opts.consoleSocket);
  else if (terminal) ({ mine: attachEnd, theirs: consoleFd } = consoleReceiver());

  if (opts.callerFds) checkPreservedFds(opts.preserveFds ?? 0, opts.callerFds, `--preserve-fds ${opts.preserveFds ?? 0}`);
  const steps = buildExecPlan(record.config, record.pid!, proc, {
    console: terminal, preserveFds: opts.preserveFds ?? 0, seccomp: compileSeccomp(record.config, opts.onWarning), capLastCap: capLastCap(),
    apparmor,
  });
  let sock = -1;
  let stagePid = 0;
  let pid = 0;
  try {
    const spawned = spawnHelper(steps, opts.preserveFds ?? 0, consoleFd);
    stagePid = spawned.pid;
    sock = spawned.sock;
    if (Object.keys(record.cgroupPaths).length) cgroupManager('', record.cgroupPaths).join(stagePid);
    sendGo(sock);
    pid = receivePid(sock);
    addon().waitPid(stagePid, false);
    stagePid = 0;
    sendGo(sock);
    receiveUntilExec(sock, `exec in ${opts.id}`, (fd) => handOverSeccompFd(record.config, fd, pid, hookState(record, 'running')));
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

  const master = attachEnd >= 0 ? receiveConsole(attachEnd) : -1;
  if (opts.detach) {
    if (master >= 0) closeSync(master);
    return undefined;
  }
  return foregroundProcess(pid, master);
}
