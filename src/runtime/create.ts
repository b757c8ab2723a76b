// `create`: validate, reserve the id, build the plan, spawn the native helper,
// place the init in its cgroup and user namespace maps, and wait until it is
// blocked on exec.fifo. Any failure removes everything this call made.
import { chownSync, closeSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { writeFileAtomic } from '../common/atomicFile.js';
import { ConfigError } from '../spec/validateConfig.js';
import type { IdMapping } from '../spec/types.js';
import { runHooks } from './hooks.js';
import { hookState } from './status.js';
import { buildLaunchPlan, idMapText } from '../linux/launchPlan.js';
import { apparmorEnabled } from '../linux/apparmor.js';
import { cgroupManager, resolveCgroupPath, type CgroupManager } from '../linux/cgroups/manager.js';
import { startMigrationWarmup } from '../linux/cgroups/migrationWarmup.js';
import { removeCgroupDirs } from '../linux/cgroups/removeCgroups.js';
import { readPids } from '../linux/cgroups/fsutil.js';
import { addon } from '../native/addon.js';
import { validateContainerId } from './containerId.js';
import { writeFastState } from './fastState.js';
import { checkPreservedFds, type CallerFd } from './callerFds.js';
import { RuntimeError } from '../common/errors.js';
import { emptyCgroup, killChildren } from './reap.js';
import { readProcStat } from '../common/proc.js';
import { hostUserName } from '../common/passwd.js';
import { policies } from '../common/wait.js';
import { StateStore, type ContainerRecord } from './stateStore.js';
import { loadBundleConfig } from './bundle.js';
import { capLastCap, compileSeccomp } from './planInputs.js';
import { receivePid, receiveReady, sendGo, sendGoWithStates, spawnHelper } from './initChannel.js';
import { handOverSeccompFd } from './seccompHandoff.js';
import { connectConsoleSocket } from './console.js';

export interface CreateOptions {
  root: string;
  id: string;
  bundle: string;
  pidFile?: string;
  consoleSocket?: string;
  /** An already connected console fd (used by `run` to attach its own terminal). */
  consoleFd?: number;
  noPivot?: boolean;
  noNewKeyring?: boolean;
  preserveFds?: number;
  /** systemd socket activation: fds 3..3+listenFds-1 are passed before the --preserve-fds ones (see listenFdCount). */
  listenFds?: number;
  /** The fds the caller handed the runtime (callerFdsFrom()); preserved fds must be among them. */
  callerFds?: CallerFd[];
  /** --systemd-cgroup: cgroupsPath may be "slice:prefix:name" (placed where systemd would, via cgroupfs). */
  systemdCgroup?: boolean;
  /** Receives what tsrun accepts but cannot honour here (linux.mountLabel without SELinux). */
  onWarning?: (message: string) => void;
}

export function createContainer(opts: CreateOptions): ContainerRecord {
  startMigrationWarmup();
  const id = validateContainerId(opts.id);
  const bundle = resolve(opts.bundle);
  const spec = loadBundleConfig(bundle);
  if (spec.linux?.mountLabel) opts.onWarning?.('linux.mountLabel is ignored: SELinux is not enabled on this host');
  if (spec.process?.selinuxLabel) opts.onWarning?.('process.selinuxLabel is ignored: SELinux is not enabled on this host');
  const apparmor = apparmorEnabled();
  if (spec.process?.apparmorProfile && !apparmor) opts.onWarning?.('process.apparmorProfile is ignored: AppArmor is not enabled on this host');
  const store = new StateStore(opts.root);
  const stateDir = store.reserve(id);

  let cgroups: CgroupManager | undefined;
  let cgroupCreated: string[] = [];
  let initPid = 0;
  let stagePid = 0;
  let sock = -1;
  let consoleFd = opts.consoleFd ?? -1;
  const ownConsole = opts.consoleFd === undefined;
  try {
    const terminal = spec.process?.terminal === true;
    if (opts.consoleSocket && !terminal)
      throw new RuntimeError({ step: `create ${id}`, pointer: '/process/terminal', detail: '--console-socket was given but process.terminal is false' });
    if (terminal && consoleFd < 0 && !opts.consoleSocket)
      throw new RuntimeError({ step: `create ${id}`, pointer: '/process/terminal', detail: 'process.terminal is true: --console-socket is required' });

    let cgroupPath: string;
    try {
      cgroupPath = resolveCgroupPath(spec.linux?.cgroupsPath, id, opts.systemdCgroup);
    } catch (e) {
      throw new RuntimeError({ step: 'resolve the cgroup path', pointer: '/linux/cgroupsPath', detail: (e as Error).message });
    }
    cgroups = cgroupManager(cgroupPath);
    refuseOccupiedCgroup(cgroups);

    let preserveFds = opts.preserveFds ?? 0;
    const extraEnv: string[] = [];
    const listenFds = opts.listenFds ?? 0;
    if (listenFds > 0) {
      // systemd socket activation passes through, like runc does.
      preserveFds += listenFds;
      extraEnv.push(`LISTEN_FDS=${listenFds}`, 'LISTEN_PID=1');
    }
    if (opts.callerFds) checkPreservedFds(preserveFds, opts.callerFds, listenFds ? `LISTEN_FDS=${listenFds} with --preserve-fds ${opts.preserveFds ?? 0}` : `--preserve-fds ${preserveFds}`);

    const seccomp = compileSeccomp(spec, opts.onWarning);

    const plan = buildLaunchPlan({
      seccomp,
      spec, bundle, stateDir, preserveFds, console: terminal, noPivot: opts.noPivot ?? false, extraEnv,
      noNewKeyring: opts.noNewKeyring ?? false, id,
      cgroupMountSources: cgroups.mountSources(), capLastCap: capLastCap(), apparmor,
    });

    const record: ContainerRecord = {
      ociVersion: spec.ociVersion,
      id,
      phase: 'creating',
      bundle,
      rootfs: plan.rootfs,
      created: new Date().toISOString(),
      owner: hostUserName(process.getuid!()),
      annotations: spec.annotations,
      // Written before any mkdir: a create killed half-way leaves no cgroup that delete --force does not know.
      cgroupCreated: cgroups.missingDirs(),
      cgroupPaths: cgroups.paths,
      config: spec,
    };
    cgroupCreated = record.cgroupCreated;
    store.write(record);
    cgroups.create();
    cgroups.apply(spec.linux?.resources, spec.linux?.devices);
    for (const w of cgroups.warnings ?? []) opts.onWarning?.(w);

    // 0600 and owned by the container process's user (its host ids), who opens it for
    // writing after the user switch; nobody else can reach it (the directories are 0700).
    const fifo = join(stateDir, 'exec.fifo');
    addon().mkfifo(fifo, 0o600);
    const user = spec.process?.user;
    chownSync(fifo, hostId(user?.uid ?? 0, plan.userns?.uidMappings), hostId(user?.gid ?? 0, plan.userns?.gidMappings));
    if (opts.consoleSocket) consoleFd = connectConsoleSocket(opts.consoleSocket);

    const spawned = spawnHelper(plan.steps, preserveFds, terminal ? consoleFd : -1);
    stagePid = spawned.pid;
    sock = spawned.sock;
    // Stage 1 joins the cgroup before it clones: the init and all it starts are inside from the first instruction.
    cgroups.join(stagePid);
    sendGo(sock);

    initPid = receivePid(sock);
    addon().waitPid(stagePid, false);
    stagePid = 0;

    if (plan.userns) {
      try {
        writeFileSync(`/proc/${initPid}/uid_map`, idMapText(plan.userns.uidMappings));
      } catch (e) {
        throw RuntimeError.fromSystem('write the uid mappings', e, { path: `/proc/${initPid}/uid_map`, pointer: '/linux/uidMappings' });
      }
      try {
        writeFileSync(`/proc/${initPid}/gid_map`, idMapText(plan.userns.gidMappings));
      } catch (e) {
        throw RuntimeError.fromSystem('write the gid mappings', e, { path: `/proc/${initPid}/gid_map`, pointer: '/linux/gidMappings' });
      }
    }
    if (spec.process?.oomScoreAdj !== undefined) {
      try {
        writeFileSync(`/proc/${initPid}/oom_score_adj`, String(spec.process.oomScoreAdj));
      } catch (e) {
        throw RuntimeError.fromSystem('set oom_score_adj', e, {
          path: `/proc/${initPid}/oom_score_adj`, pointer: '/process/oomScoreAdj',
          detail: (e as NodeJS.ErrnoException).code === 'EACCES' ? 'lowering oom_score_adj needs CAP_SYS_RESOURCE' : undefined,
        });
      }
    }
    record.pid = initPid;
    record.pidStartTime = readProcStat(initPid)?.startTime;
    store.write(record);

    // prestart (deprecated) and createRuntime: the namespaces exist, in the runtime's namespace.
    const creating = hookState(record, 'creating');
    runHooks('prestart', spec.hooks?.prestart, creating, true);
    runHooks('createRuntime', spec.hooks?.createRuntime, creating, true);

    // The hooks in the container read these on stdin.
    if (spec.hooks?.createContainer?.length || spec.hooks?.startContainer?.length)
      sendGoWithStates(sock, [JSON.stringify(creating), JSON.stringify(hookState(record, 'created'))]);
    else sendGo(sock);
    receiveReady(sock, (fd) => handOverSeccompFd(spec, fd, initPid, creating));
    record.phase = 'created';
    store.write(record);
    writeFastState(store, record);
    if (opts.pidFile) {
      try {
        writeFileAtomic(resolve(opts.pidFile), `${initPid}`);
      } catch (e) {
        throw RuntimeError.fromSystem('write the pid file', e, { path: opts.pidFile });
      }
    }
    return record;
  } catch (e) {
    cleanupFailedCreate(store, id, { stagePid, initPid, cgroups, cgroupCreated });
    if (e instanceof ConfigError || e instanceof RuntimeError) throw e;
    throw RuntimeError.fromSystem(`create ${id}`, e);
  } finally {
    if (sock >= 0) closeSync(sock);
    if (consoleFd >= 0 && ownConsole) closeSync(consoleFd);
  }
}

/** The host id a container id maps to through a user namespace's mappings (itself without one). */
function hostId(id: number, mappings: IdMapping[] | undefined): number {
  if (!mappings) return id;
  const m = mappings.find((x) => id >= x.containerID && id < x.containerID + x.size);
  return m ? m.hostID + (id - m.containerID) : 65534;
}

/**
 * A cgroup that already holds processes is not ours to adopt: a failed create
 * or a delete would kill everything in it (with cgroupsPath "/", most of the
 * host). runc refuses it too. Checked in every hierarchy the container joins.
 */
function refuseOccupiedCgroup(cgroups: CgroupManager): void {
  for (const dir of new Set(Object.values(cgroups.paths))) {
    // A cgroup that does not exist yet reads as empty.
    const pids = readPids(join(dir, 'cgroup.procs'));
    if (pids.length)
      throw new RuntimeError({
        step: 'check the container\'s cgroup', path: dir, pointer: '/linux/cgroupsPath', errno: 'EBUSY',
        detail: `the cgroup already holds ${pids.length} process(es) (${pids.slice(0, 5).join(', ')}${pids.length > 5 ? ', ...' : ''}); a container needs a cgroup of its own`,
      });
  }
}

function cleanupFailedCreate(
  store: StateStore,
  id: string,
  left: { stagePid: number; initPid: number; cgroups?: CgroupManager; cgroupCreated: string[] },
): void {
  killChildren([left.stagePid, left.initPid]);
  // Only a cgroup this create made: an existing one was refused unless empty.
  if (left.cgroups && left.cgroupCreated.length) {
    emptyCgroup(left.cgroups, policies.failedCreateEmpty);
    try {
      removeCgroupDirs(left.cgroupCreated);
    } catch { /* reported by delete --force later; the state is gone though */ }
  }
  store.remove(id);
}
