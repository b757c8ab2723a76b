// Turns a validated config into the launch plan that tsrun-init performs.
// All policy lives here: which namespaces, in which order, which mounts with
// which flags, which devices, which capabilities. The helper only executes.
import { existsSync, statSync } from 'node:fs';
import { isAbsolute, join, posix, resolve } from 'node:path';
import { RuntimeError } from '../common/errors.js';
import type { Hook, IdMapping, Mount, Process, Spec } from '../spec/types.js';
import { DEFAULT_PATH } from '../spec/defaultSpec.js';
import {
  CAPABILITIES, CLONE_NEWTIME, IOPRIO_CLASSES, MS, NAMESPACE_FLAGS, PERSONALITY_DOMAINS, RLIMITS,
  SCHED_FLAGS, SCHED_POLICIES,
} from './constants.js';
import { bindRemountFlags, parseMountOptions } from './mountOptions.js';
import { planOp } from './generated/protocol.js';
import type { PlanStep } from './planCodec.js';

export interface LaunchContext {
  spec: Spec;
  bundle: string;
  stateDir: string;
  preserveFds: number;
  /** A console fd is handed to the helper (process.terminal). */
  console: boolean;
  noPivot: boolean;
  /** Skip the new session keyring (--no-new-keyring). */
  noNewKeyring?: boolean;
  /** The container id, which names its session keyring. */
  id?: string;
  /** Extra env for the container process (LISTEN_FDS/LISTEN_PID). */
  extraEnv?: string[];
  /** Host paths of the container's cgroup, per v1 controller dir or '' for v2, for `cgroup` mounts. */
  cgroupMountSources?: Array<{ name: string; hostPath: string }>;
  /** The compiled seccomp filter (BPF) and seccomp(2) flags, if the config has one. */
  seccomp?: { bpf: Buffer; flags: number; notify?: boolean };
  /** Highest capability number the kernel knows (cap_last_cap). */
  capLastCap?: number;
  /** AppArmor is enabled: process.apparmorProfile is applied at execve. */
  apparmor?: boolean;
}

export interface LaunchPlan {
  steps: PlanStep[];
  /** Set when a new user namespace needs maps written by the runtime. */
  userns: { uidMappings: IdMapping[]; gidMappings: IdMapping[] } | null;
  rootfs: string;
}


// Namespaces joined by path: user first (it grants the rights to join the
// others), mount last (joining it changes what later paths resolve to).
export const JOIN_ORDER = ['user', 'ipc', 'uts', 'network', 'pid', 'cgroup', 'time', 'mount'];

const DEFAULT_DEVICES = [
  { path: '/dev/null', type: 'c', major: 1, minor: 3 },
  { path: '/dev/zero', type: 'c', major: 1, minor: 5 },
  { path: '/dev/full', type: 'c', major: 1, minor: 7 },
  { path: '/dev/random', type: 'c', major: 1, minor: 8 },
  { path: '/dev/urandom', type: 'c', major: 1, minor: 9 },
  { path: '/dev/tty', type: 'c', major: 5, minor: 0 },
] as const;

const S_IFCHR = 0o020000;
const S_IFBLK = 0o060000;
const S_IFIFO = 0o010000;

export function resolveRootfs(spec: Spec, bundle: string): string {
  const path = spec.root?.path;
  if (!path) throw new RuntimeError({ step: 'find the rootfs', pointer: '/root/path', detail: 'root.path is required' });
  const rootfs = isAbsolute(path) ? path : resolve(bundle, path);
  let st;
  try {
    st = statSync(rootfs);
  } catch (e) {
    throw RuntimeError.fromSystem('find the rootfs', e, { path: rootfs, pointer: '/root/path' });
  }
  if (!st.isDirectory()) throw new RuntimeError({ step: 'find the rootfs', path: rootfs, pointer: '/root/path', detail: 'not a directory' });
  return rootfs;
}

export function capabilityMask(names: string[] | undefined, pointer: string, lastCap: number): bigint {
  let mask = 0n;
  (names ?? []).forEach((name, i) => {
    const bit = CAPABILITIES.indexOf(name);
    if (bit < 0) throw new RuntimeError({ step: 'map capabilities', pointer: `${pointer}/${i}`, detail: `unknown capability ${JSON.stringify(name)}` });
    // Like runc: a capability newer than this kernel is skipped, not fatal.
    if (bit <= lastCap) mask |= 1n << BigInt(bit);
  });
  return mask;
}

export function buildLaunchPlan(ctx: LaunchContext): LaunchPlan {
  const { spec } = ctx;
  const proc = spec.process;
  if (!proc) throw new RuntimeError({ step: 'build the launch plan', pointer: '/process', detail: 'process is required to create a container' });
  const rootfs = resolveRootfs(spec, ctx.bundle);
  const namespaces = spec.linux?.namespaces ?? [];
  const newNs = new Set(namespaces.filter((n) => !n.path).map((n) => n.type));
  const userns = newNs.has('user');
  const steps: PlanStep[] = [];

  // ---- stage 1: in the runtime's namespaces ----
  // The fifo itself, not its directory: the init holds this fd until `start`.
  steps.push(planOp.execFifo('', join(ctx.stateDir, 'exec.fifo')));
  for (const type of JOIN_ORDER) {
    const i = namespaces.findIndex((n) => n.type === type && n.path);
    if (i >= 0) steps.push(planOp.setns(`/linux/namespaces/${i}/path`, namespaces[i].path!, NAMESPACE_FLAGS[type]));
  }
  let cloneFlags = 0;
  for (const type of newNs) if (type !== 'time') cloneFlags |= NAMESPACE_FLAGS[type];
  if (newNs.has('time')) {
    // Offsets can only be written before any process enters the namespace:
    // unshare it in stage 1 (which stays outside), write, then clone into it.
    const i = namespaces.findIndex((n) => n.type === 'time');
    steps.push(planOp.unshare(`/linux/namespaces/${i}`, CLONE_NEWTIME));
    const offsets = Object.entries(spec.linux?.timeOffsets ?? {});
    if (offsets.length) {
      const text = offsets.map(([clock, o]) => `${clock} ${o.secs ?? 0} ${o.nanosecs ?? 0}`).join('\n');
      steps.push(planOp.write('/linux/timeOffsets', '/proc/self/timens_offsets', text));
    }
  }
  // Idmapped mounts need a user namespace describing each mapping, made on the host side.
  const idmapIndex = new Map<number, number>();
  (spec.mounts ?? []).forEach((m, i) => {
    if (!parseMountOptions(m.type, m.options).idmap) return;
    const uid = m.uidMappings ?? spec.linux?.uidMappings;
    const gid = m.gidMappings ?? spec.linux?.gidMappings;
    if (!uid?.length || !gid?.length)
      throw new RuntimeError({ step: 'plan idmapped mount', pointer: `/mounts/${i}/uidMappings`, detail: 'an idmap mount needs uidMappings and gidMappings (on the mount or linux)' });
    idmapIndex.set(i, idmapIndex.size);
    steps.push(planOp.idmapUserns(`/mounts/${i}`, idmapIndex.get(i)!, idMapText(uid), idMapText(gid)));
  });
  steps.push(planOp.clone('/linux/namespaces', cloneFlags));

  // ---- the init: pid 1 of the container ----
  steps.push(planOp.waitGo(''));
  if (userns) steps.push(planOp.becomeRoot('/linux/uidMappings'));
  // Before any config mount: what the init reaches through /proc later (fds,
  // sysctls, exec.fifo) goes through this procfs, not the container's.
  steps.push(planOp.procfs(''));
  if (spec.hostname) steps.push(planOp.hostname('/hostname', spec.hostname));
  if (spec.domainname) steps.push(planOp.domainname('/domainname', spec.domainname));

  const propagation = spec.linux?.rootfsPropagation ?? '';
  const finalPropagation: Record<string, number> = {
    shared: MS.SHARED, rshared: MS.SHARED | MS.REC, slave: MS.SLAVE, rslave: MS.SLAVE | MS.REC,
    unbindable: MS.UNBINDABLE, runbindable: MS.UNBINDABLE | MS.REC,
  };
  // New or joined by path: either way the init builds the rootfs in it (validateConfig refuses none).
  const mountNs = namespaces.some((n) => n.type === 'mount');
  if (mountNs) {
    if (propagation === 'shared' || propagation === 'rshared') {
      // Shared from the start, so a volume bound below joins the host mount's peer group and mounts
      // made in the container reach the host (Kubernetes' Bidirectional); the mount holding the
      // rootfs goes private so that what we build below it does not.
      steps.push(planOp.propagation('/linux/rootfsPropagation', finalPropagation[propagation]));
      steps.push(planOp.privateParent('/root/path', rootfs));
    } else {
      // Nothing mounted below may propagate back to the host while we build.
      const setup = propagation === 'private' || propagation === 'rprivate' ? MS.PRIVATE : MS.SLAVE;
      steps.push(planOp.propagation('/linux/rootfsPropagation', setup | MS.REC));
    }
    steps.push(planOp.bindSelf('/root/path', rootfs));
  }
  steps.push(planOp.rootfs('/root/path', rootfs));

  (spec.mounts ?? []).forEach((m, i) => steps.push(...mountSteps(m, i, ctx, userns, newNs.has('network'), idmapIndex.get(i))));

  steps.push(...deviceSteps(spec, userns));

  // createContainer: in the container's namespaces, mounts done, before pivot_root.
  steps.push(...hookSteps('createContainer', spec.hooks?.createContainer));

  if (ctx.noPivot) steps.push(planOp.moveRoot('/root/path'));
  else steps.push(planOp.pivotRoot('/root/path'));
  // The init's cwd is made when missing, as runc's create does (Docker relies on it for -w),
  // before a read-only root is remounted; an exec's must exist.
  steps.push(planOp.makeCwd('/process/cwd', proc.cwd));

  for (const [key, value] of Object.entries(spec.linux?.sysctl ?? {}))
    steps.push(planOp.sysctl(`/linux/sysctl/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`, key, value));
  // Read-only paths before masks, as runc: a mask is then never copied, writable, into a read-only bind.
  (spec.linux?.readonlyPaths ?? []).forEach((p, i) => steps.push(planOp.readonly(`/linux/readonlyPaths/${i}`, p)));
  (spec.linux?.maskedPaths ?? []).forEach((p, i) => steps.push(planOp.mask(`/linux/maskedPaths/${i}`, p)));
  if (spec.root?.readonly) steps.push(planOp.remountRootRo('/root/readonly'));
  // Last of the filesystem steps: an unbindable root would refuse the binds above.
  if (mountNs && finalPropagation[propagation]) steps.push(planOp.propagation('/linux/rootfsPropagation', finalPropagation[propagation]));

  steps.push(...processSteps(proc, spec, ctx, 'init'));

  return {
    steps,
    userns: userns ? { uidMappings: spec.linux?.uidMappings ?? [], gidMappings: spec.linux?.gidMappings ?? [] } : null,
    rootfs,
  };
}

export interface ProcessContext {
  console: boolean;
  preserveFds: number;
  extraEnv?: string[];
  noNewKeyring?: boolean;
  id?: string;
  seccomp?: { bpf: Buffer; flags: number; notify?: boolean };
  capLastCap?: number;
  apparmor?: boolean;
}

/**
 * The steps that turn the init (or an exec'd process) into the configured
 * process: terminal, rlimits, scheduling, user, capabilities, seccomp, execve.
 * `init` adds the exec.fifo handshake and the startContainer hooks.
 */
export function processSteps(proc: Process, spec: Spec, ctx: ProcessContext, mode: 'init' | 'exec'): PlanStep[] {
  const steps: PlanStep[] = [];
  if (proc.terminal) {
    if (!ctx.console) throw new RuntimeError({ step: 'set up the console', pointer: '/process/terminal', detail: 'process.terminal needs --console-socket' });
    // The init's pty also becomes /dev/console; an exec'd process only gets its own pty.
    steps.push(planOp.console('/process/terminal', proc.consoleSize?.height ?? 0, proc.consoleSize?.width ?? 0, mode === 'init' ? '1' : '0'));
  } else steps.push(planOp.setsid(''));

  (proc.rlimits ?? []).forEach((rl, i) => {
    const res = RLIMITS[rl.type];
    if (res === undefined) throw new RuntimeError({ step: 'map rlimits', pointer: `/process/rlimits/${i}/type`, detail: `unknown rlimit ${JSON.stringify(rl.type)}` });
    if (rl.soft > rl.hard) throw new RuntimeError({ step: 'map rlimits', pointer: `/process/rlimits/${i}`, detail: 'soft limit is above the hard limit' });
    steps.push(planOp.rlimit(`/process/rlimits/${i}`, res, rlimitValue(rl.soft), rlimitValue(rl.hard)));
  });
  const pers = spec.linux?.personality;
  if (pers) steps.push(planOp.personality('/linux/personality/domain', PERSONALITY_DOMAINS[pers.domain]));
  if (proc.ioPriority)
    steps.push(planOp.ioprio('/process/ioPriority', (IOPRIO_CLASSES[proc.ioPriority.class] << 13) | (proc.ioPriority.priority ?? 0)));
  if (proc.scheduler) {
    const s = proc.scheduler;
    const flags = (s.flags ?? []).reduce((acc, f) => acc | SCHED_FLAGS[f], 0);
    steps.push(planOp.sched('/process/scheduler', SCHED_POLICIES[s.policy], s.nice ?? 0, s.priority ?? 0, flags, s.runtime ?? 0, s.deadline ?? 0, s.period ?? 0));
  }
  if (mode === 'init' && !ctx.noNewKeyring) steps.push(planOp.keyring('', `_ses.${ctx.id ?? 'tsrun'}`));
  steps.push(planOp.umask('/process/user/umask', proc.user.umask ?? 0o022));
  steps.push(planOp.chdir('/process/cwd', proc.cwd));
  // Before no_new_privs, which would limit the transition (as runc orders it).
  if (proc.apparmorProfile && ctx.apparmor) steps.push(planOp.apparmor('/process/apparmorProfile', proc.apparmorProfile));
  if (proc.noNewPrivileges) steps.push(planOp.nnp('/process/noNewPrivileges'));
  // Without no_new_privs, loading a filter needs CAP_SYS_ADMIN: load it while
  // the init still has it (as runc does); the filter then also sees the
  // remaining setup calls. With no_new_privs it is loaded last, before execve.
  // A notify filter hands its listener fd to the runtime over the sync socket, so with
  // no_new_privs it is loaded before READY (create) instead of last.
  const seccompStep = ctx.seccomp ? planOp.seccomp('/linux/seccomp', ctx.seccomp.bpf, ctx.seccomp.flags) : undefined;
  const seccompEarly = !proc.noNewPrivileges;
  const seccompBeforeReady = !seccompEarly && ctx.seccomp?.notify === true && mode === 'init';
  if (seccompStep && seccompEarly) steps.push(seccompStep);

  const lastCap = ctx.capLastCap ?? CAPABILITIES.length - 1;
  const caps = proc.capabilities ?? {};
  steps.push(planOp.bounding('/process/capabilities/bounding', capabilityMask(caps.bounding, '/process/capabilities/bounding', lastCap)));
  steps.push(planOp.user('/process/user', proc.user.uid, proc.user.gid, ...(proc.user.additionalGids ?? [])));
  const permitted = capabilityMask(caps.permitted, '/process/capabilities/permitted', lastCap);
  const inheritable = capabilityMask(caps.inheritable, '/process/capabilities/inheritable', lastCap);
  // The kernel only keeps an ambient capability that is also permitted and
  // inheritable. runc's own default config lists ambient ones without
  // inheritable, and runc skips those silently; so do we.
  const ambient = capabilityMask(caps.ambient, '/process/capabilities/ambient', lastCap) & permitted & inheritable;
  steps.push(planOp.caps('/process/capabilities',
    capabilityMask(caps.effective, '/process/capabilities/effective', lastCap), permitted, inheritable, ambient));

  const env = [...(proc.env ?? []), ...(ctx.extraEnv ?? [])];
  const pathEnv = [...env].reverse().find((e) => e.startsWith('PATH='))?.slice(5) ?? DEFAULT_PATH;
  const args = proc.args ?? [];
  steps.push(planOp.resolveExec('/process/args/0', args[0], pathEnv));
  steps.push(planOp.closeFds('', 3 + ctx.preserveFds));
  if (seccompStep && seccompBeforeReady) steps.push(seccompStep);
  if (mode === 'init') {
    steps.push(planOp.ready(''));
    steps.push(planOp.fifoWait(''));
    // startContainer: during `start`, in the container, before the user process.
    steps.push(...hookSteps('startContainer', spec.hooks?.startContainer));
    steps.push(planOp.started(''));
  }
  // exec: no READY; the runtime reads the sync socket until the EOF that execve
  // causes (the socket is close-on-exec), or an ERR record.
  if (seccompStep && !seccompEarly && !seccompBeforeReady) steps.push(seccompStep);
  steps.push(planOp.exec('/process/args', args.length, ...args, ...env));
  return steps;
}

// JSON.parse turns RLIM_INFINITY (2^64-1) into 2^64; validation refuses anything larger.
function rlimitValue(v: number): string {
  return v >= 2 ** 64 ? (2n ** 64n - 1n).toString() : BigInt(v).toString();
}

function hookSteps(kind: 'createContainer' | 'startContainer', hooks: Hook[] | undefined): PlanStep[] {
  return (hooks ?? []).map((h, i) => {
    const args = h.args ?? [];
    return planOp.hook(`/hooks/${kind}/${i}`, kind, h.path, h.timeout ?? 0, args.length, h.env ? '1' : '0', ...args, ...(h.env ?? []));
  });
}

export function idMapText(maps: IdMapping[]): string {
  return maps.map((m) => `${m.containerID} ${m.hostID} ${m.size}\n`).join('');
}

// What may be mounted inside /proc besides a procfs on /proc itself (runc's
// list: the files lxcfs and friends replace). Anything else there could
// redirect what the kernel or the init writes into /proc later.
export const PROC_MOUNT_ALLOWED = [
  '/proc/cpuinfo', '/proc/diskstats', '/proc/meminfo', '/proc/stat', '/proc/swaps', '/proc/uptime',
  '/proc/loadavg', '/proc/slabinfo', '/proc/net/dev', '/proc/sys/kernel/ns_last_pid',
];

/** Refuses a mount destination inside /proc outside the allowed list; returns whether the plan may mount on procfs. */
export function checkProcDestination(m: Mount, i: number): boolean {
  const dest = posix.normalize(posix.join('/', m.destination));
  if (dest === '/proc') {
    if (m.type === 'proc') return true;
    throw new RuntimeError({ step: 'plan mount', pointer: `/mounts/${i}/type`, path: m.destination, detail: 'only a mount of type proc may be mounted on /proc' });
  }
  if (!dest.startsWith('/proc/')) return false;
  if (PROC_MOUNT_ALLOWED.includes(dest)) return true;
  throw new RuntimeError({
    step: 'plan mount', pointer: `/mounts/${i}/destination`, path: m.destination,
    detail: `mounts inside /proc are refused, except on ${PROC_MOUNT_ALLOWED.join(', ')}`,
  });
}

function mountSteps(m: Mount, i: number, ctx: LaunchContext, userns: boolean, newNet: boolean, idmap?: number): PlanStep[] {
  const ptr = `/mounts/${i}`;
  const opts = parseMountOptions(m.type, m.options);
  const procOk = checkProcDestination(m, i);
  let type = m.type ?? '';
  let source = m.source ?? '';
  let flags = opts.flags;

  if (type === 'cgroup' || type === 'cgroup2') return cgroupMountSteps(m, i, ctx, flags);
  // sysfs cannot be mounted in a user namespace that does not own the network
  // namespace; bind the host's read-only instead, as runc does.
  if (type === 'sysfs' && userns && !newNet) {
    type = '';
    source = '/sys';
    flags = MS.BIND | MS.REC | (flags & MS.RDONLY);
  }
  const isBind = (flags & MS.BIND) !== 0;
  if (isBind) {
    type = '';
    if (source && !isAbsolute(source)) source = resolve(ctx.bundle, source);
    if (!source) throw new RuntimeError({ step: 'plan bind mount', pointer: `${ptr}/source`, detail: 'a bind mount needs a source' });
    if (!existsSync(source)) throw new RuntimeError({ step: 'plan bind mount', path: source, pointer: `${ptr}/source`, errno: 'ENOENT', kind: 'invalid-argument', detail: 'source does not exist' });
  }
  const asFile = isBind && !statSync(source).isDirectory();
  const firstFlags = isBind ? flags & (MS.BIND | MS.REC) : flags;
  const remount = isBind ? bindRemountFlags(flags) : 0;
  // /proc and /sys must be exactly where the config says: refuse symlinks on the way.
  const noSymlinks = type === 'proc' || type === 'sysfs' || m.destination === '/proc' || m.destination === '/sys';
  if (idmap !== undefined && !isBind)
    throw new RuntimeError({ step: 'plan idmapped mount', pointer: `${ptr}/options`, detail: 'idmap/ridmap are only supported on bind mounts' });
  if (opts.tmpcopyup && type !== 'tmpfs')
    throw new RuntimeError({ step: 'plan mount', pointer: `${ptr}/options`, detail: 'tmpcopyup is only valid for tmpfs mounts' });
  return [planOp.mount(ptr, source, m.destination, type, firstFlags, opts.data.join(','), opts.propagation, remount, asFile ? '1' : '0', noSymlinks ? '1' : '0', opts.tmpcopyup ? '1' : '0', idmap ?? -1, procOk ? '1' : '0')];
}

function cgroupMountSteps(m: Mount, i: number, ctx: LaunchContext, flags: number): PlanStep[] {
  const ptr = `/mounts/${i}`;
  const ro = (flags & MS.RDONLY) !== 0 || !(m.options ?? []).includes('rw');
  const base = MS.NOSUID | MS.NODEV | MS.NOEXEC;
  const sources = ctx.cgroupMountSources ?? [];
  // Never a file, symlinks followed inside the root, no copy-up, no idmap, not on procfs.
  const mount = (source: string, destination: string, fstype: string, mountFlags: number, data: string, remount: number) =>
    planOp.mount(ptr, source, destination, fstype, mountFlags, data, 0, remount, '0', '0', '0', -1, '0');
  const bindRemount = bindRemountFlags(base | (ro ? MS.RDONLY : 0));
  if (sources.length === 1 && sources[0].name === '') {
    // cgroup v2: the container's own cgroup directory.
    return [mount(sources[0].hostPath, m.destination, '', MS.BIND | MS.REC, '', bindRemount)];
  }
  // cgroup v1: a tmpfs with one bind of the container's cgroup per controller.
  const out: PlanStep[] = [mount('tmpfs', m.destination, 'tmpfs', base, 'mode=755', 0)];
  for (const s of sources) out.push(mount(s.hostPath, join(m.destination, s.name), '', MS.BIND | MS.REC, '', bindRemount));
  if (ro) out.push(mount('', m.destination, '', MS.BIND | MS.REMOUNT | MS.RDONLY | base, '', 0));
  return out;
}

function deviceSteps(spec: Spec, userns: boolean): PlanStep[] {
  const out: PlanStep[] = [];
  const configured = spec.linux?.devices ?? [];
  const configuredPaths = new Set(configured.map((d) => d.path));
  for (const d of DEFAULT_DEVICES) {
    if (configuredPaths.has(d.path)) continue;
    if (userns) out.push(planOp.bindDev('', d.path, d.path));
    else out.push(planOp.mknod('', d.path, S_IFCHR | 0o666, d.major, d.minor, 0, 0));
  }
  configured.forEach((d, i) => {
    const ptr = `/linux/devices/${i}`;
    const kind = d.type === 'b' ? S_IFBLK : d.type === 'p' ? S_IFIFO : S_IFCHR;
    const mode = d.fileMode ?? 0o666;
    if (userns && d.type !== 'p') out.push(planOp.bindDev(ptr, d.path, d.path));
    else out.push(planOp.mknod(ptr, d.path, kind | (mode & 0o7777), d.major ?? 0, d.minor ?? 0, d.uid ?? 0, d.gid ?? 0));
  });
  out.push(planOp.symlink('', '/proc/self/fd', '/dev/fd'));
  out.push(planOp.symlink('', '/proc/self/fd/0', '/dev/stdin'));
  out.push(planOp.symlink('', '/proc/self/fd/1', '/dev/stdout'));
  out.push(planOp.symlink('', '/proc/self/fd/2', '/dev/stderr'));
  out.push(planOp.symlink('', 'pts/ptmx', '/dev/ptmx'));
  return out;
}
