// Docker's HostConfig resources and security options into the OCI config, as
// data: a pure function over the spec the image gave (src/image/bundle) and
// the request, each refusal in dockerd's words naming the field. Unit-tested
// field by field (test/unit/hostConfigSpec.test.ts); the engine writes the
// result into the bundle before the shim starts.
import { RuntimeError } from '../common/errors.js';
import { CAPABILITIES } from '../spec/capabilities.js';
import type { Device, Mount, Spec } from '../spec/types.js';
import { parseEngineProfile, profileToOci, type EngineProfile } from './seccompProfile.js';

/** The part of Docker's HostConfig (API 1.41) that becomes the OCI config. */
export interface HostResources {
  Memory?: number;
  MemorySwap?: number;
  MemoryReservation?: number;
  OomKillDisable?: boolean;
  NanoCpus?: number;
  CpuShares?: number;
  CpuQuota?: number;
  CpuPeriod?: number;
  CpusetCpus?: string;
  CpusetMems?: string;
  PidsLimit?: number;
  Privileged?: boolean;
  CapAdd?: string[];
  CapDrop?: string[];
  ReadonlyRootfs?: boolean;
  /** Destination → tmpfs options ("size=64m,mode=1777"). */
  Tmpfs?: Record<string, string>;
  Init?: boolean;
  /** /dev/shm's size in bytes (Docker's default 64 MiB). */
  ShmSize?: number;
  Sysctls?: Record<string, string>;
  Ulimits?: { Name: string; Soft: number; Hard: number }[];
  /** seccomp=unconfined|<profile JSON>, no-new-privileges[=true|false], systempaths=unconfined, apparmor=…, label=… */
  SecurityOpt?: string[];
}

/** What the mapping needs from the host and the daemon. */
export interface HostFacts {
  /** Online CPUs: NanoCpus is refused above it. */
  cpus: number;
  /** The capabilities this daemon may hand on: its own bounding set (CapBnd), within what the kernel knows. */
  capBounding: string[];
  /** The static init `--init` runs as pid 1 (tini), bind-mounted read-only; undefined: none installed. */
  initBinary?: string;
  /** The host's devices, for privileged containers. */
  hostDevices: Device[];
  /** The daemon's default seccomp profile (--seccomp-profile); undefined: none. */
  seccompProfile?: EngineProfile;
  /** Node's process.arch and os.release(), for the profile's conditions. */
  arch: string;
  kernel: string;
}

interface SecurityOptions {
  /** default: the daemon's profile. */
  seccomp: 'default' | 'unconfined' | EngineProfile;
  noNewPrivileges: boolean;
  unmaskSystemPaths: boolean;
}

/** HostConfig.SecurityOpt as dockerd reads it (key=value, or the older key:value). */
export function securityOptions(opts: string[] | undefined): SecurityOptions {
  const out: SecurityOptions = { seccomp: 'default', noNewPrivileges: false, unmaskSystemPaths: false };
  for (const opt of opts ?? []) {
    const m = /^([a-z-]+)(?:[=:](.*))?$/s.exec(opt);
    const [key, value] = m ? [m[1], m[2]] : ['', undefined];
    if (key === 'seccomp' && value !== undefined) {
      out.seccomp = value === 'unconfined' ? 'unconfined' : parseEngineProfile(value, 'HostConfig.SecurityOpt');
    } else if (key === 'no-new-privileges') {
      if (value !== undefined && value !== 'true' && value !== 'false') throw bad(`invalid --security-opt ${JSON.stringify(opt)}: no-new-privileges takes true or false`);
      out.noNewPrivileges = value !== 'false';
    } else if (key === 'systempaths' && value === 'unconfined') {
      out.unmaskSystemPaths = true;
    } else if ((key === 'apparmor' || key === 'label') && value !== undefined) {
      // No AppArmor or SELinux here: dockerd ignores these where the LSM is not enabled.
    } else {
      throw bad(`Invalid --security-opt: ${JSON.stringify(opt)}`);
    }
  }
  return out;
}

const MIN_MEMORY = 6 * 1024 * 1024;
const CPU_PERIOD = 100_000;
const DEFAULT_SHM = 64 * 1024 * 1024;
export const INIT_PATH = '/sbin/docker-init';
/** Docker's options for a --tmpfs mount before the user's. */
const TMPFS_DEFAULTS = ['noexec', 'nosuid', 'nodev'];
const TMPFS_OPTIONS = new Set(['size', 'mode', 'uid', 'gid', 'nr_inodes', 'nr_blocks', 'exec', 'noexec', 'suid', 'nosuid', 'dev', 'nodev', 'ro', 'rw', 'atime', 'noatime', 'relatime', 'strictatime', 'diratime', 'nodiratime', 'sync', 'async', 'dirsync', 'mand', 'nomand', 'private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave', 'tmpcopyup']);

const ULIMITS = new Set(['as', 'core', 'cpu', 'data', 'fsize', 'locks', 'memlock', 'msgqueue', 'nice', 'nofile', 'nproc', 'rss', 'rtprio', 'rttime', 'sigpending', 'stack']);

function bad(message: string): RuntimeError {
  return new RuntimeError({ kind: 'invalid-argument', step: message });
}

/** "net_admin", "CAP_NET_ADMIN", "ALL" → the canonical name, refused when unknown (dockerd's message). */
function capName(raw: string, field: string): string {
  const up = raw.toUpperCase();
  if (up === 'ALL') return 'ALL';
  const name = up.startsWith('CAP_') ? up : `CAP_${up}`;
  if (!CAPABILITIES.includes(name)) throw bad(`invalid ${field}: unknown capability: ${JSON.stringify(raw)}`);
  return name;
}

/** The values dockerd fills in before it checks: swap twice the memory limit when only the limit is given. */
export function withDockerDefaults<T extends HostResources>(h: T): T {
  if (h.Memory && h.Memory > 0 && !h.MemorySwap) return { ...h, MemorySwap: h.Memory * 2 };
  return h;
}

/** Dockerd's checks of the resource values, before anything is made. */
export function checkHostResources(h: HostResources, host: HostFacts): void {
  if (h.Memory !== undefined && h.Memory > 0 && h.Memory < MIN_MEMORY) throw bad('Minimum memory limit allowed is 6MB');
  if (h.MemorySwap !== undefined && h.MemorySwap > 0) {
    if (!h.Memory) throw bad('You should always set the Memory limit when using Memoryswap limit, see usage');
    if (h.MemorySwap < h.Memory) throw bad('Minimum memoryswap limit should be larger than memory limit, see usage');
  }
  if (h.MemoryReservation && h.Memory && h.Memory < h.MemoryReservation) throw bad('Minimum memory limit can not be less than memory reservation limit, see usage');
  if (h.MemoryReservation !== undefined && h.MemoryReservation > 0 && h.MemoryReservation < MIN_MEMORY) throw bad('Minimum memory reservation allowed is 6MB');
  if (h.NanoCpus) {
    if (h.CpuQuota || h.CpuPeriod) throw bad('Conflicting options: Nano CPUs and CPU Period cannot both be set');
    if (h.NanoCpus < 0.01 * 1e9 || h.NanoCpus > host.cpus * 1e9) {
      throw bad(`Range of CPUs is from 0.01 to ${host.cpus.toFixed(2)}, as there are only ${host.cpus} CPUs available`);
    }
  }
  if (h.CpuPeriod && (h.CpuPeriod < 1000 || h.CpuPeriod > 1_000_000)) throw bad('CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)');
  if (h.CpuQuota && h.CpuQuota > 0 && h.CpuQuota < 1000) throw bad('CPU cfs quota can not be less than 1ms (i.e. 1000)');
  if (h.CpuShares !== undefined && h.CpuShares < 0) throw bad('invalid CPU shares: must not be negative');
  for (const c of h.CapAdd ?? []) capName(c, 'CapAdd');
  for (const c of h.CapDrop ?? []) capName(c, 'CapDrop');
  for (const [dest, opts] of Object.entries(h.Tmpfs ?? {})) tmpfsMount(dest, opts);
  if (h.Init && !host.initBinary) throw bad('HostConfig.Init: no init binary found (tini-static, tini or docker-init in PATH; tsd --init-path sets one)');
  for (const u of h.Ulimits ?? []) {
    if (!ULIMITS.has(u.Name)) throw bad(`invalid ulimit type: ${u.Name}`);
    if (u.Soft > u.Hard) throw bad(`ulimit soft limit must be less than or equal to hard limit: ${u.Soft} > ${u.Hard}`);
  }
  if (h.ShmSize !== undefined && h.ShmSize < 0) throw bad('SHM size can not be less than 0');
  securityOptions(h.SecurityOpt);
}

/** A --tmpfs entry as an OCI mount: Docker's defaults, then the user's options. */
export function tmpfsMount(destination: string, options: string): Mount {
  if (!destination.startsWith('/')) throw bad(`invalid HostConfig.Tmpfs ${JSON.stringify(destination)}: the mount path must be absolute`);
  if (destination === '/') throw bad('invalid HostConfig.Tmpfs "/": a tmpfs cannot be mounted on the root');
  const user = options.split(',').map((o) => o.trim()).filter(Boolean);
  for (const o of user) {
    const key = o.split('=')[0];
    if (!TMPFS_OPTIONS.has(key)) throw bad(`invalid HostConfig.Tmpfs[${JSON.stringify(destination)}]: unknown tmpfs option ${JSON.stringify(o)}`);
  }
  // A later flag wins in mount(8) order, so the user's exec or suid overrides the default.
  return { destination, type: 'tmpfs', source: 'tmpfs', options: [...TMPFS_DEFAULTS, ...user] };
}

function capabilitySet(spec: Spec, h: HostResources, host: HostFacts): string[] {
  // "Every capability" is every one the daemon has: a capability outside its own bounding
  // set cannot be given (capset fails), e.g. under a container manager that dropped some.
  const all = CAPABILITIES.filter((c) => host.capBounding.includes(c));
  if (h.Privileged) return all;
  const add = (h.CapAdd ?? []).map((c) => capName(c, 'CapAdd'));
  const drop = (h.CapDrop ?? []).map((c) => capName(c, 'CapDrop'));
  let caps = add.includes('ALL') ? all : [...(spec.process?.capabilities?.bounding ?? [])];
  if (drop.includes('ALL')) caps = [];
  caps = caps.filter((c) => !drop.includes(c));
  for (const c of add) if (c !== 'ALL' && !caps.includes(c)) caps.push(c);
  return caps;
}

/**
 * The spec with the request's resources, capabilities, mounts and process
 * settings applied. `spec` is not modified.
 */
export function applyHostResources(spec: Spec, h: HostResources, host: HostFacts): Spec {
  checkHostResources(h, host);
  const out: Spec = structuredClone(spec);
  const linux = (out.linux ??= {});
  const resources = (linux.resources ??= {});
  const process = out.process!;

  const memory: NonNullable<typeof resources.memory> = {};
  if (h.Memory) memory.limit = h.Memory;
  if (h.MemorySwap) memory.swap = h.MemorySwap; // -1: unlimited, as in OCI
  if (h.MemoryReservation) memory.reservation = h.MemoryReservation;
  if (h.OomKillDisable) memory.disableOOMKiller = true;
  if (Object.keys(memory).length) resources.memory = memory;

  const cpu: NonNullable<typeof resources.cpu> = {};
  if (h.CpuShares) cpu.shares = h.CpuShares;
  if (h.NanoCpus) {
    cpu.period = CPU_PERIOD;
    cpu.quota = Math.round((h.NanoCpus * CPU_PERIOD) / 1e9);
  }
  if (h.CpuQuota) cpu.quota = h.CpuQuota;
  if (h.CpuPeriod) cpu.period = h.CpuPeriod;
  if (h.CpusetCpus) cpu.cpus = h.CpusetCpus;
  if (h.CpusetMems) cpu.mems = h.CpusetMems;
  if (Object.keys(cpu).length) resources.cpu = cpu;

  // Docker: 0 and -1 are unlimited.
  if (h.PidsLimit !== undefined && h.PidsLimit > 0) resources.pids = { limit: h.PidsLimit };

  const caps = capabilitySet(spec, h, host);
  process.capabilities = { bounding: caps, effective: caps, permitted: caps };
  const security = securityOptions(h.SecurityOpt);
  if (security.noNewPrivileges) process.noNewPrivileges = true;
  if (security.unmaskSystemPaths) {
    linux.maskedPaths = [];
    linux.readonlyPaths = [];
  }
  // As dockerd: a privileged container has no seccomp filter; otherwise the daemon's
  // profile (or the request's), its rules chosen for this container's capabilities.
  const profile = h.Privileged || security.seccomp === 'unconfined' ? undefined : security.seccomp === 'default' ? host.seccompProfile : security.seccomp;
  if (profile) linux.seccomp = profileToOci(profile, { caps, arch: host.arch, kernel: host.kernel });
  else delete linux.seccomp;

  if (h.Privileged) {
    // As dockerd: every host device, the device cgroup open, /sys writable, nothing masked.
    linux.devices = host.hostDevices;
    resources.devices = [{ allow: true, access: 'rwm' }];
    linux.maskedPaths = [];
    linux.readonlyPaths = [];
    for (const m of out.mounts ?? []) {
      if (m.type === 'sysfs') m.options = (m.options ?? []).filter((o) => o !== 'ro');
    }
  }

  if (h.ReadonlyRootfs) out.root = { ...(out.root ?? { path: 'rootfs' }), readonly: true };

  const mounts = out.mounts ?? [];
  const shm = mounts.find((m) => m.destination === '/dev/shm');
  const shmSize = h.ShmSize || DEFAULT_SHM;
  if (shm) shm.options = [...(shm.options ?? []).filter((o) => !o.startsWith('size=')), `size=${shmSize}`];
  for (const [dest, opts] of Object.entries(h.Tmpfs ?? {}).sort(([a], [b]) => a.localeCompare(b))) {
    const at = mounts.findIndex((m) => m.destination === dest);
    const m = tmpfsMount(dest, opts);
    // A --tmpfs on a default mount's place (/run) replaces it.
    if (at >= 0) mounts[at] = m;
    else mounts.push(m);
  }
  if (h.Init && host.initBinary) {
    mounts.push({ destination: INIT_PATH, type: 'bind', source: host.initBinary, options: ['rbind', 'ro'] });
    process.args = [INIT_PATH, '--', ...(process.args ?? [])];
  }
  out.mounts = mounts;

  if (h.Sysctls && Object.keys(h.Sysctls).length) linux.sysctl = { ...(linux.sysctl ?? {}), ...h.Sysctls };
  if (h.Ulimits?.length) {
    const byType = new Map((process.rlimits ?? []).map((r) => [r.type, r]));
    for (const u of h.Ulimits) byType.set(`RLIMIT_${u.Name.toUpperCase()}`, { type: `RLIMIT_${u.Name.toUpperCase()}`, soft: u.Soft, hard: u.Hard });
    process.rlimits = [...byType.values()];
  }
  return out;
}
