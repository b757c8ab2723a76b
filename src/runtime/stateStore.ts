// The state store under --root: <root>/<id>/state.json, written atomically
// (temp file + fsync + rename) under a per-container flock, so two commands on
// one id never see or write a half-written state.
import { lstatSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { writeFileAtomic } from '../common/atomicFile.js';
import { join } from 'node:path';
import type { Spec } from '../spec/types.js';
import { RuntimeError } from '../common/errors.js';

export interface ContainerRecord {
  ociVersion: string;
  id: string;
  /** 'creating' until the init reported ready; later states are derived from the process. */
  phase: 'creating' | 'created';
  pid?: number;
  /** Start time of the init (field 22 of /proc/<pid>/stat), to detect pid reuse. */
  pidStartTime?: string;
  bundle: string;
  rootfs: string;
  created: string;
  owner: string;
  annotations?: Record<string, string>;
  /** Cgroup directories this container created, deepest last (removed in reverse). */
  cgroupCreated: string[];
  /** Cgroup directory per controller (v1) or '' (v2) that the container joined. */
  cgroupPaths: Record<string, string>;
  /** The config as it was at create (hooks for start/delete, namespaces for exec). */
  config: Spec;
  /** Set by `start` once the user process runs (the exec.fifo is gone then). */
  started?: boolean;
}


/** A state root someone else owns could hold records they wrote: refuse it. */
function checkOwned(path: string): void {
  let st;
  try {
    st = lstatSync(path);
  } catch {
    return; // missing: nothing to trust or distrust yet
  }
  if (!st.isDirectory() || st.uid !== process.geteuid!())
    throw new RuntimeError({
      step: 'open the state root', path, errno: 'EPERM',
      detail: st.isDirectory() ? `owned by uid ${st.uid}, not by us (uid ${process.geteuid!()}): refusing to trust its records` : 'not a directory',
    });
}

const CGROUP_DIR = /^\/sys\/fs\/cgroup(\/(?!\.\.?(\/|$))[^/]+)+$/;

/** What in a record read from disk is not as create wrote it (the fields kill and delete act on). */
export function recordProblem(rec: unknown): string | undefined {
  if (typeof rec !== 'object' || rec === null) return 'not an object';
  const r = rec as Partial<ContainerRecord>;
  if (r.pid !== undefined && (!Number.isInteger(r.pid) || r.pid <= 0)) return 'pid is not a positive integer';
  if (r.pidStartTime !== undefined && (typeof r.pidStartTime !== 'string' || !/^\d+$/.test(r.pidStartTime))) return 'pidStartTime is not a number';
  if (!Array.isArray(r.cgroupCreated) || r.cgroupCreated.some((d) => typeof d !== 'string' || !CGROUP_DIR.test(d)))
    return 'cgroupCreated must list directories below /sys/fs/cgroup';
  if (typeof r.cgroupPaths !== 'object' || r.cgroupPaths === null || Object.values(r.cgroupPaths).some((d) => typeof d !== 'string' || !CGROUP_DIR.test(d)))
    return 'cgroupPaths must name directories below /sys/fs/cgroup';
  if (typeof r.config !== 'object' || r.config === null) return 'config missing';
  return undefined;
}

export class StateStore {
  constructor(readonly root: string) {}

  dir(id: string): string {
    return join(this.root, id);
  }

  /** Creates <root>/<id> atomically: exactly one of several concurrent creates wins. */
  reserve(id: string): string {
    try {
      mkdirSync(this.root, { recursive: true, mode: 0o700 });
    } catch (e) {
      throw RuntimeError.fromSystem('create the state root', e, { path: this.root });
    }
    checkOwned(this.root);
    const dir = this.dir(id);
    try {
      // 0700 as runc: nobody else may reach exec.fifo (a local user could hang `start` or forge its report).
      mkdirSync(dir, { mode: 0o700 });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST')
        throw new RuntimeError({ kind: 'exists', step: `create ${id}`, detail: `container with id ${JSON.stringify(id)} already exists` });
      throw RuntimeError.fromSystem('create the state directory', e, { path: dir });
    }
    return dir;
  }

  exists(id: string): boolean {
    try {
      readdirSync(this.dir(id));
      return true;
    } catch {
      return false;
    }
  }

  read(id: string): ContainerRecord {
    const file = join(this.dir(id), 'state.json');
    checkOwned(this.root);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT')
        throw new RuntimeError({ step: `read container ${id}`, errno: 'ENOENT', detail: `container ${JSON.stringify(id)} does not exist` });
      throw RuntimeError.fromSystem(`read container ${id}`, e, { path: file });
    }
    let rec: ContainerRecord;
    try {
      rec = JSON.parse(text) as ContainerRecord;
    } catch (e) {
      throw new RuntimeError({ step: `read container ${id}`, path: file, detail: `corrupt state: ${(e as Error).message}` });
    }
    const problem = recordProblem(rec);
    if (problem) throw new RuntimeError({ step: `read container ${id}`, path: file, detail: `corrupt state: ${problem}` });
    return rec;
  }

  write(record: ContainerRecord): void {
    const file = join(this.dir(record.id), 'state.json');
    try {
      writeFileAtomic(file, JSON.stringify(record), 0o600);
    } catch (e) {
      throw RuntimeError.fromSystem('write the container state', e, { path: file });
    }
  }

  remove(id: string): void {
    rmSync(this.dir(id), { recursive: true, force: true });
  }

  list(): string[] {
    try {
      return readdirSync(this.root, { withFileTypes: true })
        .filter((d) => d.isDirectory())
        .map((d) => d.name)
        .sort();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw RuntimeError.fromSystem('list containers', e, { path: this.root });
    }
  }
}
