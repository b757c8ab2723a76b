// Named volumes, local driver: <data-root>/volumes/<name>/ holds volume.json
// (the record, written atomically and fsynced) and _data (the data). Order on
// create: the directory (an atomic mkdir is the reservation), _data, the
// record last; on remove: the record first, then the directory. So a
// directory without a record is a create or remove that a crash cut short,
// and load() finishes the removal. Records are read back untrusted.
// Who uses a volume is not kept here: the engine derives it from the
// container records (one source of truth).
import { execFile } from 'node:child_process';
import { mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { writeFileAtomicAsync } from '../common/atomicFile.js';
import { RuntimeError } from '../common/errors.js';
import { checkVolumeName, checkVolumeOptions } from './mounts.js';

const run = promisify(execFile);

export interface VolumeRecord {
  Name: string;
  Driver: 'local';
  Mountpoint: string;
  CreatedAt: string;
  Labels: Record<string, string>;
  Options: Record<string, string>;
  Scope: 'local';
}

/** Docker 23's label on anonymous volumes (API 1.41 clients ignore it). */
export const ANONYMOUS_LABEL = 'com.docker.volume.anonymous';

const isStringMap = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every((x) => typeof x === 'string');

function badField(r: Record<string, unknown>, name: string): string | undefined {
  if (r.Name !== name) return 'Name';
  if (r.Driver !== 'local') return 'Driver';
  for (const k of ['Mountpoint', 'CreatedAt']) if (typeof r[k] !== 'string') return k;
  for (const k of ['Labels', 'Options']) if (!isStringMap(r[k])) return k;
  if (r.Scope !== 'local') return 'Scope';
  return undefined;
}

const noSuchVolume = (name: string) => new RuntimeError({ kind: 'not-found', step: `get ${name}: no such volume` });

export class VolumeStore {
  readonly dir: string;
  private readonly records = new Map<string, VolumeRecord>();
  /** Creates under way, so two first uses of one name make one volume. */
  private readonly creating = new Map<string, Promise<{ volume: VolumeRecord; created: boolean }>>();
  /** Volumes of type tmpfs (or another device) mounted now. */
  private readonly mounted = new Set<string>();

  constructor(dataRoot: string, private readonly onWarning: (m: string) => void = () => {}) {
    this.dir = join(dataRoot, 'volumes');
  }

  private volumeDir(name: string): string {
    return join(this.dir, name);
  }

  dataPath(name: string): string {
    return join(this.volumeDir(name), '_data');
  }

  /** At start: every valid record; a directory without one (a crash mid-create or mid-remove) goes. */
  async load(): Promise<void> {
    let names: string[] = [];
    try {
      names = (await readdir(this.dir, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name);
    } catch { /* none yet */ }
    const mounts = await readFile('/proc/self/mountinfo', 'utf8').catch(() => '');
    for (const name of names) {
      const path = join(this.volumeDir(name), 'volume.json');
      let raw: string;
      try {
        raw = await readFile(path, 'utf8');
      } catch {
        this.onWarning(`volume directory ${this.volumeDir(name)} has no record (a create or remove cut short): removing it`);
        await this.unmountData(name).catch(() => {});
        await rm(this.volumeDir(name), { recursive: true, force: true }).catch(() => {});
        continue;
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(raw);
      } catch (e) {
        this.onWarning(`skipping volume record ${path}: ${(e as Error).message}`);
        continue;
      }
      const bad = parsed && typeof parsed === 'object' ? badField(parsed as Record<string, unknown>, name) : '(not an object)';
      if (bad) {
        this.onWarning(`skipping volume record ${path}: field ${bad} is missing or of the wrong type`);
        continue;
      }
      this.records.set(name, parsed as VolumeRecord);
      if (mounts.split('\n').some((l) => l.split(' ')[4] === this.dataPath(name))) this.mounted.add(name);
    }
  }

  list(): VolumeRecord[] {
    return [...this.records.values()].sort((a, b) => a.Name.localeCompare(b.Name));
  }

  get(name: string): VolumeRecord {
    const r = this.records.get(name);
    if (!r) throw noSuchVolume(name);
    return r;
  }

  has(name: string): boolean {
    return this.records.has(name);
  }

  /** Docker's create: idempotent for a name that exists (its options stay). `created`: it is new. */
  async create(name: string, o: { labels?: Record<string, string>; options?: Record<string, string> } = {}): Promise<{ volume: VolumeRecord; created: boolean }> {
    checkVolumeName(name);
    checkVolumeOptions(o.options ?? {});
    const existing = this.records.get(name);
    if (existing) return { volume: existing, created: false };
    const pending = this.creating.get(name);
    // The one who started the create made it; the others find it made.
    if (pending) return pending.then(({ volume }) => ({ volume, created: false }));
    const p = this.make(name, o).finally(() => this.creating.delete(name));
    this.creating.set(name, p);
    return p;
  }

  private async make(name: string, o: { labels?: Record<string, string>; options?: Record<string, string> }): Promise<{ volume: VolumeRecord; created: boolean }> {
    const d = this.volumeDir(name);
    await mkdir(this.dir, { recursive: true, mode: 0o701 });
    try {
      await mkdir(d, { mode: 0o701 });
    } catch (e) {
      throw RuntimeError.fromSystem(`create volume ${name}`, e, { path: d });
    }
    const record: VolumeRecord = {
      Name: name, Driver: 'local', Mountpoint: this.dataPath(name), CreatedAt: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      Labels: o.labels ?? {}, Options: o.options ?? {}, Scope: 'local',
    };
    try {
      await mkdir(this.dataPath(name), { mode: 0o755 });
      await writeFileAtomicAsync(join(d, 'volume.json'), JSON.stringify(record, null, 2), 0o600);
    } catch (e) {
      await rm(d, { recursive: true, force: true }).catch(() => {});
      throw RuntimeError.fromSystem(`create volume ${name}`, e, { path: d });
    }
    this.records.set(name, record);
    return { volume: record, created: true };
  }

  /** A volume with a device (type=tmpfs, …) is mounted at its first use; idempotent. */
  async mountData(name: string): Promise<void> {
    const r = this.get(name);
    if (!r.Options.type || this.mounted.has(name)) return;
    const args = ['-t', r.Options.type, ...(r.Options.o ? ['-o', r.Options.o] : []), r.Options.device, this.dataPath(name)];
    try {
      await run('mount', args);
    } catch (e) {
      throw new RuntimeError({ kind: 'system', step: `error while mounting volume '${this.dataPath(name)}': ${((e as { stderr?: string }).stderr ?? (e as Error).message).trim()}` });
    }
    this.mounted.add(name);
  }

  /** Unmounts a device-backed volume (no container uses it any more). */
  async unmountData(name: string): Promise<void> {
    const path = this.dataPath(name);
    if (!this.mounted.has(name)) {
      const mounts = await readFile('/proc/self/mountinfo', 'utf8').catch(() => '');
      if (!mounts.split('\n').some((l) => l.split(' ')[4] === path)) return;
    }
    await run('umount', [path]).catch(async () => run('umount', ['-l', path]));
    this.mounted.delete(name);
  }

  isMounted(name: string): boolean {
    return this.mounted.has(name);
  }

  /** The record first, then the data: a crash in between leaves a directory load() removes. */
  async remove(name: string): Promise<void> {
    this.get(name);
    await this.unmountData(name);
    const d = this.volumeDir(name);
    try {
      await rm(join(d, 'volume.json'), { force: true });
    } catch (e) {
      throw RuntimeError.fromSystem(`remove volume ${name}`, e, { path: d });
    }
    this.records.delete(name);
    await rm(d, { recursive: true, force: true }).catch((e) => this.onWarning(`removing the data of volume ${name}: ${(e as Error).message}`));
  }

  /** Bytes under the volume's data (du, out of process); -1 when unknown. */
  async size(name: string): Promise<number> {
    try {
      await stat(this.dataPath(name));
      const { stdout } = await run('du', ['-s', '-B1', '-x', this.dataPath(name)]);
      return Number(stdout.split('\t')[0]) || 0;
    } catch {
      return -1;
    }
  }

  /** Whether the volume's data directory is empty (copy-up happens only then). */
  async isEmpty(name: string): Promise<boolean> {
    return (await readdir(this.dataPath(name)).catch(() => [])).length === 0;
  }
}
