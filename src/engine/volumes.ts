// Volumes as the engine runs them (src/volume holds the store and the pure
// mapping): named and anonymous volumes of the local driver, created on first
// use, with Docker's copy-up; who uses a volume is read from the container
// records (their Mounts), never kept a second time. Events type=volume:
// create, mount, unmount, destroy.
import { randomBytes } from 'node:crypto';
import { mkdir, stat } from 'node:fs/promises';
import { RuntimeError } from '../common/errors.js';
import type { Mount } from '../spec/types.js';
import { copyUp } from '../volume/copyUp.js';
import { ociMounts, type MountKind, type MountPlan } from '../volume/mounts.js';
import { ANONYMOUS_LABEL, VolumeStore, type VolumeRecord } from '../volume/store.js';
import type { EventLog } from './events.js';

/** One mount of a container, as its record keeps it (inspect's Mounts is made from it). */
export interface ContainerMount {
  type: MountKind;
  /** volume: its name. */
  name?: string;
  /** bind: the host path; volume: its data directory; tmpfs: ''. */
  source: string;
  destination: string;
  readOnly: boolean;
  propagation: string;
  mode: string;
  /** An anonymous volume this container created: docker rm -v and --rm remove it. */
  anonymous?: boolean;
}

export interface VolumeUsage {
  /** Container IDs whose records mount the volume. */
  users(name: string): string[];
  /** Whether one of those runs. */
  runningUsers(name: string): string[];
}

/** A container's mounts after create: what its record keeps, the OCI mounts, and the volumes made for it. */
export interface PreparedMounts {
  mounts: ContainerMount[];
  oci: Mount[];
  created: string[];
}

export class Volumes {
  readonly store: VolumeStore;

  constructor(dataRoot: string, private readonly events: EventLog, private readonly usage: VolumeUsage, onWarning: (m: string) => void) {
    this.store = new VolumeStore(dataRoot, onWarning);
  }

  async load(): Promise<void> {
    await this.store.load();
  }

  async create(name: string | undefined, o: { labels?: Record<string, string>; options?: Record<string, string>; driver?: string } = {}): Promise<VolumeRecord> {
    return (await this.createOnce(name, o)).volume;
  }

  /** create, saying whether this call made it (a failed container create removes only what it made). */
  private async createOnce(name: string | undefined, o: { labels?: Record<string, string>; options?: Record<string, string>; driver?: string }): Promise<{ volume: VolumeRecord; created: boolean }> {
    if (o.driver && o.driver !== 'local') throw new RuntimeError({ kind: 'not-found', step: `error looking up volume plugin ${o.driver}: plugin "${o.driver}" not found` });
    const r = await this.store.create(name || randomBytes(32).toString('hex'), o);
    if (r.created) this.events.emit('volume', 'create', r.volume.Name, { driver: 'local' });
    return r;
  }

  inspect(name: string): VolumeRecord {
    return this.store.get(name);
  }

  /** docker volume ls: filters name (substring), label (key or key=value), dangling, driver. */
  list(filters: Record<string, string[]> = {}): VolumeRecord[] {
    for (const k of Object.keys(filters)) if (!['name', 'label', 'dangling', 'driver'].includes(k)) throw new RuntimeError({ kind: 'invalid-argument', step: `invalid filter '${k}'` });
    return this.store.list().filter((v) => {
      if (filters.name?.length && !filters.name.some((n) => v.Name.includes(n))) return false;
      if (filters.driver?.length && !filters.driver.includes(v.Driver)) return false;
      if (filters.label?.length && !labelsMatch(v.Labels, filters.label)) return false;
      for (const d of filters.dangling ?? []) {
        if (!['true', 'false', '1', '0'].includes(d)) throw new RuntimeError({ kind: 'invalid-argument', step: `invalid filter 'dangling=${d}'` });
        const dangling = this.usage.users(v.Name).length === 0;
        if (dangling !== (d === 'true' || d === '1')) return false;
      }
      return true;
    });
  }

  /** docker volume rm: refused while a container (running or stopped) uses it; force only ignores a missing volume (as dockerd). */
  async remove(name: string, o: { force?: boolean } = {}): Promise<void> {
    if (!this.store.has(name)) {
      if (o.force) return;
      this.store.get(name);
    }
    const users = this.usage.users(name);
    if (users.length) throw new RuntimeError({ kind: 'exists', step: `remove ${name}: volume is in use - [${users.join(', ')}]` });
    await this.store.remove(name);
    this.events.emit('volume', 'destroy', name, { driver: 'local' });
  }

  /** docker volume prune (API 1.41): every unused local volume, filtered by label. */
  async prune(filters: Record<string, string[]> = {}): Promise<{ VolumesDeleted: string[]; SpaceReclaimed: number }> {
    // `all` (docker volume prune -a, API 1.42): API 1.41 prunes every unused volume anyway.
    for (const k of Object.keys(filters)) if (!['label', 'label!', 'all'].includes(k)) throw new RuntimeError({ kind: 'invalid-argument', step: `invalid filter '${k}'` });
    const deleted: string[] = [];
    let space = 0;
    for (const v of this.store.list()) {
      if (this.usage.users(v.Name).length) continue;
      if (filters.label?.length && !labelsMatch(v.Labels, filters.label)) continue;
      if (filters['label!']?.length && labelsMatch(v.Labels, filters['label!'])) continue;
      const size = await this.store.size(v.Name);
      await this.remove(v.Name).then(() => {
        deleted.push(v.Name);
        space += Math.max(0, size);
      }, () => {});
    }
    return { VolumesDeleted: deleted, SpaceReclaimed: space };
  }

  async size(name: string): Promise<number> {
    return this.store.size(name);
  }

  /**
   * At create, after the bundle's rootfs is mounted: each planned volume
   * created on first use (an anonymous one named by a random ID) and, when
   * empty, given the image's content; each -v host directory made. The
   * caller undoes `created` when the create fails later.
   */
  async prepare(plans: MountPlan[], rootfs: string): Promise<PreparedMounts> {
    const created: string[] = [];
    const mounts: ContainerMount[] = [];
    const names = new Map<MountPlan, string>();
    try {
      for (const p of plans) {
        if (p.kind === 'bind') {
          await this.hostDir(p);
          mounts.push({ type: 'bind', source: p.source!, destination: p.destination, readOnly: p.readOnly, propagation: p.propagation, mode: p.mode });
          continue;
        }
        if (p.kind === 'tmpfs') {
          mounts.push({ type: 'tmpfs', source: '', destination: p.destination, readOnly: p.readOnly, propagation: '', mode: '' });
          continue;
        }
        const anonymous = p.name === undefined;
        const { volume: v, created: made } = await this.createOnce(p.name, { labels: anonymous ? { [ANONYMOUS_LABEL]: '' } : p.volumeLabels, options: p.volumeOptions });
        if (made) created.push(v.Name);
        names.set(p, v.Name);
        if (p.copy) {
          await this.store.mountData(v.Name);
          if (await this.store.isEmpty(v.Name)) await copyUp(rootfs, p.destination, v.Mountpoint);
        }
        mounts.push({ type: 'volume', name: v.Name, source: v.Mountpoint, destination: p.destination, readOnly: p.readOnly, propagation: '', mode: p.mode, ...(anonymous ? { anonymous: true } : {}) });
      }
    } catch (e) {
      await this.discard(created);
      throw e;
    }
    return { mounts, oci: ociMounts(plans, (p) => this.store.dataPath(names.get(p)!)), created };
  }

  /** Removes the volumes a failed create made (nobody else has seen them). */
  async discard(names: string[]): Promise<void> {
    for (const n of names) await this.store.remove(n).catch(() => {});
  }

  /** Docker's -v /host:/ctr: a missing host directory is made; --mount type=bind requires it. */
  private async hostDir(p: MountPlan): Promise<void> {
    const st = await stat(p.source!).catch(() => undefined);
    if (st) return;
    if (!p.createHostDir) throw new RuntimeError({ kind: 'invalid-argument', step: `invalid mount config for type "bind": bind source path does not exist: ${p.source}` });
    try {
      await mkdir(p.source!, { recursive: true, mode: 0o755 });
    } catch (e) {
      throw RuntimeError.fromSystem(`error while creating mount source path '${p.source}'`, e, { path: p.source });
    }
  }

  /** Before a start: device-backed volumes mounted; a mount event per volume. */
  async mounted(id: string, mounts: ContainerMount[] | undefined): Promise<void> {
    for (const m of mounts ?? []) {
      if (m.type !== 'volume' || !m.name || !this.store.has(m.name)) continue;
      await this.store.mountData(m.name);
      this.events.emit('volume', 'mount', m.name, { container: id, destination: m.destination, driver: 'local', propagation: m.propagation, 'read/write': String(!m.readOnly) });
    }
  }

  /** After an exit: an unmount event per volume; device-backed ones no running container uses are unmounted. */
  async unmounted(id: string, mounts: ContainerMount[] | undefined): Promise<void> {
    for (const m of mounts ?? []) {
      if (m.type !== 'volume' || !m.name || !this.store.has(m.name)) continue;
      this.events.emit('volume', 'unmount', m.name, { container: id, driver: 'local' });
      if (!this.usage.runningUsers(m.name).filter((u) => u !== id).length) await this.store.unmountData(m.name).catch(() => {});
    }
  }

  /** After a removal: device-backed volumes (mounted at create for copy-up) no running container uses are unmounted. */
  async released(mounts: ContainerMount[] | undefined): Promise<void> {
    for (const m of mounts ?? []) {
      if (m.type !== 'volume' || !m.name || !this.store.isMounted(m.name)) continue;
      if (!this.usage.runningUsers(m.name).length) await this.store.unmountData(m.name).catch(() => {});
    }
  }

  /** docker rm -v and --rm: the container's anonymous volumes go (a named one stays); others still using one keep it. */
  async removeAnonymous(id: string, mounts: ContainerMount[] | undefined, onWarning: (m: string) => void): Promise<void> {
    for (const m of mounts ?? []) {
      if (!m.anonymous || !m.name || !this.store.has(m.name)) continue;
      if (this.usage.users(m.name).some((u) => u !== id)) continue;
      await this.store.remove(m.name).then(() => this.events.emit('volume', 'destroy', m.name!, { driver: 'local' }), (e) => onWarning(`removing volume ${m.name}: ${(e as Error).message}`));
    }
  }
}

function labelsMatch(labels: Record<string, string>, wanted: string[]): boolean {
  return wanted.every((w) => {
    const i = w.indexOf('=');
    return i < 0 ? w in labels : labels[w.slice(0, i)] === w.slice(i + 1);
  });
}
