// Docker's mount requests as data: HostConfig.Binds, HostConfig.Mounts,
// Config.Volumes, the image's VOLUME entries and VolumesFrom become a list of
// mount plans (planMounts), and the plans become OCI mounts once the volumes'
// paths are known (ociMounts). Pure: no file is looked at here; the engine
// creates volumes, host directories and copies content up. Each refusal is
// Docker's 400 naming the value (moby volume/mounts/linux_parser.go).
import { RuntimeError } from '../common/errors.js';
import type { Mount } from '../spec/types.js';

export type MountKind = 'bind' | 'volume' | 'tmpfs';
const PROPAGATIONS = ['private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave'];

export interface MountPlan {
  kind: MountKind;
  /** bind: the host path. */
  source?: string;
  /** volume: its name; undefined: an anonymous volume (named by the engine). */
  name?: string;
  destination: string;
  readOnly: boolean;
  /** bind: the propagation asked for (Docker's default rprivate). */
  propagation: string;
  /** volume: an empty volume gets the image's content at the destination first. */
  copy: boolean;
  /** bind from -v: a missing host directory is created (Docker's -v, not --mount). */
  createHostDir?: boolean;
  /** volume: the driver options of a volume created on first use (--mount volume-opt=). */
  volumeOptions?: Record<string, string>;
  /** volume: labels of a volume created on first use. */
  volumeLabels?: Record<string, string>;
  /** tmpfs: mount options (size=, mode=). */
  tmpfsOptions?: string[];
  /** Binds' mode text as Docker shows it in inspect (`ro,Z`), else ''. */
  mode: string;
  /** The request field it came from, e.g. HostConfig.Binds[0]. */
  field: string;
}

/** The shape of one HostConfig.Mounts entry (Docker's mount.Mount), unchecked. */
export interface ApiMount {
  Type?: unknown; Source?: unknown; Target?: unknown; ReadOnly?: unknown;
  BindOptions?: { Propagation?: unknown } | null;
  VolumeOptions?: { NoCopy?: unknown; Labels?: unknown; DriverConfig?: { Name?: unknown; Options?: unknown } | null } | null;
  TmpfsOptions?: { SizeBytes?: unknown; Mode?: unknown } | null;
}

export interface MountRequest {
  binds?: string[] | null;
  mounts?: ApiMount[] | null;
  /** Config.Volumes' keys (`-v /path`). */
  volumes?: string[];
  /** The image's VOLUME entries (io.tsrun.image.volumes). */
  imageVolumes?: string[];
  /** The mounts of the containers named in VolumesFrom, already resolved (with their mode). */
  volumesFrom?: MountPlan[];
  /** HostConfig.Tmpfs' destinations (--tmpfs, mapped by the engine's hostConfigSpec): a bind or mount there is a duplicate. */
  tmpfs?: string[];
}

function bad(message: string): RuntimeError {
  return new RuntimeError({ kind: 'invalid-argument', step: message });
}

const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

/** moby volume/local's validateName, in dockerd's words (`create NAME: ...`). */
export function checkVolumeName(name: string): void {
  if (name.length < 2) throw bad(`create ${name}: volume name is too short, names should be at least two alphanumeric characters`);
  if (!NAME.test(name)) throw bad(`create ${name}: ${JSON.stringify(name)} includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`);
}

/** A path with its `.`, `..` and double slashes resolved lexically (as Go's filepath.Clean). */
function clean(p: string): string {
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (!part || part === '.') continue;
    if (part === '..') out.pop();
    else out.push(part);
  }
  return `/${out.join('/')}`;
}

function checkDestination(dest: string, spec: string, field: string): string {
  if (!dest.startsWith('/')) throw bad(`invalid ${field} ${JSON.stringify(spec)}: invalid mount config: mount path must be absolute: ${dest}`);
  const d = clean(dest);
  if (d === '/') throw bad(`invalid ${field} ${JSON.stringify(spec)}: invalid specification: destination can't be '/'`);
  return d;
}

/** One Binds entry: `/host:/ctr[:opts]` (a bind) or `NAME:/ctr[:opts]` (a volume). */
export function parseBind(spec: string, field: string): MountPlan {
  const parts = spec.split(':');
  if (parts.length < 2 || parts.length > 3 || !parts[0] || !parts[1]) throw bad(`invalid ${field} ${JSON.stringify(spec)}: invalid volume specification: '${spec}'`);
  const [src, dst, opts = ''] = parts;
  const destination = checkDestination(dst, spec, field);
  const flags = opts.split(',').filter(Boolean);
  let readOnly = false, propagation = '', copy = true, modes = 0;
  for (const f of flags) {
    if (f === 'ro' || f === 'rw') { readOnly = f === 'ro'; modes++; }
    else if (f === 'z' || f === 'Z') { /* SELinux relabel: no SELinux here, as dockerd without it */ }
    else if (f === 'nocopy') copy = false;
    else if (PROPAGATIONS.includes(f)) propagation = f;
    else throw bad(`invalid ${field} ${JSON.stringify(spec)}: invalid mode: ${opts}`);
  }
  if (modes > 1) throw bad(`invalid ${field} ${JSON.stringify(spec)}: invalid mode: ${opts}`);
  if (src.startsWith('/')) {
    if (!copy) throw bad(`invalid ${field} ${JSON.stringify(spec)}: invalid mode: ${opts}`);
    return { kind: 'bind', source: clean(src), destination, readOnly, propagation: propagation || 'rprivate', copy: false, createHostDir: true, mode: opts, field };
  }
  if (propagation) throw bad(`invalid ${field} ${JSON.stringify(spec)}: invalid mode: ${opts}`);
  checkVolumeName(src);
  return { kind: 'volume', name: src, destination, readOnly, propagation: '', copy, mode: opts || 'z', field };
}

const isStringMap = (v: unknown): v is Record<string, string> => typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every((x) => typeof x === 'string');

/** One HostConfig.Mounts entry (`--mount`). */
export function parseApiMount(m: ApiMount, field: string): MountPlan {
  const type = m.Type;
  const spec = JSON.stringify(m);
  const invalid = (why: string) => bad(`invalid mount config for type ${JSON.stringify(String(type))}: ${why}`);
  if (type !== 'bind' && type !== 'volume' && type !== 'tmpfs') throw bad(`invalid ${field}: mount type unknown: ${JSON.stringify(type ?? '')}`);
  if (typeof m.Target !== 'string' || !m.Target) throw invalid('field Target must not be empty');
  if (!m.Target.startsWith('/')) throw invalid(`invalid mount path: '${m.Target}' mount path must be absolute`);
  const destination = checkDestination(m.Target, spec, field);
  if (m.ReadOnly !== undefined && m.ReadOnly !== null && typeof m.ReadOnly !== 'boolean') throw bad(`invalid ${field}.ReadOnly: want a boolean`);
  const readOnly = m.ReadOnly === true;
  const source = m.Source === undefined || m.Source === null ? '' : m.Source;
  if (typeof source !== 'string') throw bad(`invalid ${field}.Source: want a string`);
  if (type !== 'bind' && m.BindOptions) throw invalid('field BindOptions must not be specified');
  if (type !== 'volume' && m.VolumeOptions) throw invalid('field VolumeOptions must not be specified');
  if (type !== 'tmpfs' && m.TmpfsOptions) throw invalid('field TmpfsOptions must not be specified');
  if (type === 'bind') {
    if (!source) throw invalid('field Source must not be empty');
    if (!source.startsWith('/')) throw invalid(`invalid mount path: '${source}' mount path must be absolute`);
    const p = m.BindOptions?.Propagation ?? '';
    if (typeof p !== 'string' || (p && !PROPAGATIONS.includes(p))) throw invalid(`invalid propagation mode: ${String(p)}`);
    return { kind: 'bind', source: clean(source), destination, readOnly, propagation: p || 'rprivate', copy: false, mode: '', field };
  }
  if (type === 'volume') {
    if (source) checkVolumeName(source);
    const vo = m.VolumeOptions ?? {};
    const driver = vo.DriverConfig?.Name;
    if (driver !== undefined && driver !== null && driver !== '' && driver !== 'local') throw invalid(`volume driver ${JSON.stringify(driver)} is not supported (only local)`);
    const opts = vo.DriverConfig?.Options;
    if (opts !== undefined && opts !== null && !isStringMap(opts)) throw bad(`invalid ${field}.VolumeOptions.DriverConfig.Options: want a map of strings`);
    if (vo.Labels !== undefined && vo.Labels !== null && !isStringMap(vo.Labels)) throw bad(`invalid ${field}.VolumeOptions.Labels: want a map of strings`);
    if (opts) checkVolumeOptions(opts);
    return {
      kind: 'volume', ...(source ? { name: source } : {}), destination, readOnly, propagation: '', copy: vo.NoCopy !== true, mode: 'z', field,
      ...(opts && Object.keys(opts).length ? { volumeOptions: opts } : {}),
      ...(isStringMap(vo.Labels) && Object.keys(vo.Labels).length ? { volumeLabels: vo.Labels } : {}),
    };
  }
  if (source) throw invalid('field Source must not be specified');
  const t = m.TmpfsOptions ?? {};
  const options: string[] = [];
  if (t.SizeBytes !== undefined && t.SizeBytes !== null) {
    if (typeof t.SizeBytes !== 'number' || !Number.isInteger(t.SizeBytes) || t.SizeBytes < 0) throw invalid(`invalid tmpfs size: ${String(t.SizeBytes)}`);
    if (t.SizeBytes > 0) options.push(`size=${t.SizeBytes}`);
  }
  if (t.Mode !== undefined && t.Mode !== null) {
    if (typeof t.Mode !== 'number' || !Number.isInteger(t.Mode) || t.Mode < 0) throw invalid(`invalid tmpfs mode: ${String(t.Mode)}`);
    if (t.Mode > 0) options.push(`mode=${(t.Mode & 0o7777).toString(8)}`);
  }
  return { kind: 'tmpfs', destination, readOnly, propagation: '', copy: false, tmpfsOptions: options, mode: '', field };
}

/** The local driver's options (docker volume create -o): type, device, o. */
export function checkVolumeOptions(opts: Record<string, string>): void {
  for (const k of Object.keys(opts)) if (!['type', 'device', 'o', 'size'].includes(k)) throw bad(`invalid option key: ${JSON.stringify(k)}`);
  if (opts.size !== undefined) throw bad('quota size requested but no quota support');
  if ((opts.type || opts.device) && !(opts.type && opts.device)) throw bad('missing required option: "type" and "device" go together');
}

/**
 * Every mount the request asks for, in Docker's order of precedence: Binds and
 * Mounts first (two of them on one destination are refused), then the mounts
 * of VolumesFrom, then Config.Volumes and the image's VOLUME entries as
 * anonymous volumes where nothing else is mounted.
 */
export function planMounts(req: MountRequest): MountPlan[] {
  const out: MountPlan[] = [];
  const taken = new Set<string>((req.tmpfs ?? []).map(clean));
  const add = (p: MountPlan, strict: boolean) => {
    if (taken.has(p.destination)) {
      if (strict) throw bad(`Duplicate mount point: ${p.destination}`);
      return;
    }
    taken.add(p.destination);
    out.push(p);
  };
  (req.binds ?? []).forEach((b, i) => add(parseBind(b, `HostConfig.Binds[${i}]`), true));
  (req.mounts ?? []).forEach((m, i) => {
    if (typeof m !== 'object' || m === null) throw bad(`invalid HostConfig.Mounts[${i}]: want an object`);
    add(parseApiMount(m, `HostConfig.Mounts[${i}]`), true);
  });
  for (const p of req.volumesFrom ?? []) add(p, false);
  const anonymous = (path: string, field: string) => {
    const destination = checkDestination(path, path, field);
    add({ kind: 'volume', destination, readOnly: false, propagation: '', copy: true, mode: '', field }, false);
  };
  for (const v of req.volumes ?? []) anonymous(v, `Config.Volumes[${JSON.stringify(v)}]`);
  for (const v of req.imageVolumes ?? []) anonymous(v, `the image's VOLUME ${JSON.stringify(v)}`);
  return out;
}

/** A VolumesFrom entry: `ID[:ro|rw]` → the container and the mode override (undefined: as the source's). */
export function parseVolumesFrom(spec: string, index: number): { container: string; readOnly?: boolean } {
  const [container, mode, ...rest] = spec.split(':');
  if (!container || rest.length || (mode !== undefined && !['ro', 'rw', 'z', 'Z'].includes(mode))) throw bad(`invalid HostConfig.VolumesFrom[${index}] ${JSON.stringify(spec)}: want ID[:ro|rw]`);
  return { container, ...(mode === 'ro' || mode === 'rw' ? { readOnly: mode === 'ro' } : {}) };
}

/** The OCI mounts of the plans; `volumePath(plan)` is a volume's data directory (known once it exists). */
export function ociMounts(plans: MountPlan[], volumePath: (p: MountPlan) => string): Mount[] {
  // Parents before children, so /a is mounted before /a/b.
  const sorted = [...plans].sort((a, b) => a.destination.split('/').length - b.destination.split('/').length);
  return sorted.map((p): Mount => {
    const rw = p.readOnly ? 'ro' : 'rw';
    if (p.kind === 'tmpfs') return { destination: p.destination, type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'noexec', ...(p.tmpfsOptions ?? []), rw] };
    if (p.kind === 'bind') return { destination: p.destination, type: 'bind', source: p.source!, options: ['rbind', p.propagation || 'rprivate', rw] };
    return { destination: p.destination, type: 'bind', source: volumePath(p), options: ['rbind', 'rprivate', rw] };
  });
}
