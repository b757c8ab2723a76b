// The state store under --root: <root>/<id>/state.json, written atomically
// (temp file + fsync + rename) under a per-container flock, so two commands on
// one id never see or write a half-written state.
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeSync, constants } from 'node:fs';
import { join } from 'node:path';
import type { Spec } from '../spec/types.js';
import { RuntimeError } from './errors.js';

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

export const DEFAULT_ROOT = '/run/tsrun';

export class StateStore {
  constructor(readonly root: string) {}

  dir(id: string): string {
    return join(this.root, id);
  }

  /** Creates <root>/<id> atomically: exactly one of several concurrent creates wins. */
  reserve(id: string): string {
    try {
      mkdirSync(this.root, { recursive: true, mode: 0o711 });
    } catch (e) {
      throw RuntimeError.fromSystem('create the state root', e, { path: this.root });
    }
    const dir = this.dir(id);
    try {
      mkdirSync(dir, { mode: 0o711 });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST')
        throw new RuntimeError({ step: `create ${id}`, detail: `container with id ${JSON.stringify(id)} already exists` });
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
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT')
        throw new RuntimeError({ step: `read container ${id}`, errno: 'ENOENT', detail: `container ${JSON.stringify(id)} does not exist` });
      throw RuntimeError.fromSystem(`read container ${id}`, e, { path: file });
    }
    try {
      return JSON.parse(text) as ContainerRecord;
    } catch (e) {
      throw new RuntimeError({ step: `read container ${id}`, path: file, detail: `corrupt state: ${(e as Error).message}` });
    }
  }

  write(record: ContainerRecord): void {
    const dir = this.dir(record.id);
    const tmp = join(dir, `.state.json.${process.pid}`);
    try {
      const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC, 0o600);
      try {
        const data = Buffer.from(JSON.stringify(record));
        let off = 0;
        while (off < data.length) off += writeSync(fd, data, off, data.length - off);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, join(dir, 'state.json'));
    } catch (e) {
      rmSync(tmp, { force: true });
      throw RuntimeError.fromSystem('write the container state', e, { path: join(dir, 'state.json') });
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
