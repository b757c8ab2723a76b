// What hostConfigSpec.ts needs to know about this machine, read without
// blocking the event loop: the CPU count, the daemon's bounding capabilities, the
// init binary for --init (found once at daemon start), and for --privileged
// the host's device nodes.
import { access, constants, readdir, readFile, stat } from 'node:fs/promises';
import { availableParallelism, release } from 'node:os';
import { delimiter, join } from 'node:path';
import { CAPABILITIES } from '../spec/capabilities.js';
import type { Device } from '../spec/types.js';
import { RuntimeError } from '../common/errors.js';
import type { HostFacts } from './hostConfigSpec.js';
import { parseEngineProfile, type EngineProfile } from './seccompProfile.js';

/** Static builds first: the container's rootfs may have no libc for a dynamic one. */
const INIT_NAMES = ['tini-static', 'docker-init', 'tini'];

/** The init `--init` runs: `explicit` (tsd --init-path) or the first of INIT_NAMES in PATH. */
export async function findInitBinary(explicit: string | undefined, path = process.env.PATH ?? ''): Promise<string | undefined> {
  const candidates = explicit ? [explicit] : INIT_NAMES.flatMap((n) => path.split(delimiter).filter(Boolean).map((d) => join(d, n)));
  for (const c of candidates) {
    try {
      await access(c, constants.X_OK);
      return c;
    } catch { /* next */ }
  }
  return undefined;
}

// /dev entries a runtime makes itself (runc's default devices, the console, ptmx)
// or that are not device nodes of the host's (pts, shm, mqueue are mounts).
const SKIP = new Set(['/dev/pts', '/dev/shm', '/dev/mqueue', '/dev/console', '/dev/ptmx', '/dev/null', '/dev/zero', '/dev/full', '/dev/random', '/dev/urandom', '/dev/tty', '/dev/fd', '/dev/core']);

/** Linux's dev_t split (major: bits 8-19 and 32-43; minor: bits 0-7 and 20-31). */
function majorMinor(rdev: number): { major: number; minor: number } {
  const hi = Math.floor(rdev / 2 ** 32);
  const lo = rdev % 2 ** 32;
  return { major: ((lo >>> 8) & 0xfff) | ((hi & 0xfffff000) >>> 0), minor: (lo & 0xff) | ((lo >>> 12) & 0xfff00) };
}

/** Every character and block device under /dev (what Docker gives a privileged container). */
export async function hostDevices(root = '/dev'): Promise<Device[]> {
  const out: Device[] = [];
  const walk = async (dir: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const path = join(dir, e.name);
      if (SKIP.has(path)) continue;
      if (e.isDirectory()) await walk(path);
      else if (e.isCharacterDevice() || e.isBlockDevice()) {
        const st = await stat(path).catch(() => undefined);
        if (!st) continue;
        out.push({ path, type: e.isCharacterDevice() ? 'c' : 'b', ...majorMinor(st.rdev), fileMode: st.mode & 0o7777, uid: st.uid, gid: st.gid });
      }
    }
  };
  await walk(root);
  return out.sort((a, b) => a.path.localeCompare(b.path));
}

/** The names of the capabilities in a /proc/<pid>/status CapBnd mask. */
export function capabilitiesOfMask(hex: string): string[] {
  const mask = BigInt(`0x${hex}`);
  return CAPABILITIES.filter((_, n) => (mask >> BigInt(n)) & 1n);
}

export async function readHostFacts(daemon: { initBinary?: string; seccompProfile?: EngineProfile }, withDevices: boolean): Promise<HostFacts> {
  const status = await readFile('/proc/self/status', 'utf8');
  const bnd = /^CapBnd:\s*([0-9a-f]+)$/m.exec(status)?.[1] ?? '0';
  return {
    cpus: availableParallelism(), capBounding: capabilitiesOfMask(bnd), initBinary: daemon.initBinary, seccompProfile: daemon.seccompProfile,
    arch: process.arch, kernel: release(), hostDevices: withDevices ? await hostDevices() : [],
  };
}

/**
 * The daemon's default seccomp profile: `--seccomp-profile PATH`, `unconfined` for
 * none, else containers-common's profile where it is installed (podman's default,
 * Docker's format). undefined: none.
 */
export async function loadSeccompProfile(flag: string | undefined): Promise<{ profile?: EngineProfile; source: string }> {
  if (flag === 'unconfined') return { source: 'unconfined' };
  const path = flag ?? DEFAULT_PROFILE;
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if (!flag && (e as NodeJS.ErrnoException).code === 'ENOENT') return { source: `none (${DEFAULT_PROFILE} is not installed)` };
    throw RuntimeError.fromSystem('read the seccomp profile', e, { path });
  }
  return { profile: parseEngineProfile(text, path), source: path };
}

const DEFAULT_PROFILE = '/usr/share/containers/seccomp.json';
