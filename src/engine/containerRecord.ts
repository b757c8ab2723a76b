// A container as the daemon keeps it: one directory per container under
// <data-root>/containers/<id>/ holding container.json (this record, written
// atomically and fsynced with its directory) and the bundle. The record is
// read back untrusted: a file that does not have the shape is refused by name.
import { healthConfigProblem, type HealthConfig } from './health.js';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomicAsync } from '../common/atomicFile.js';
import { RuntimeError } from '../common/errors.js';
import type { HostResources } from './hostConfigSpec.js';
import type { RestartPolicy } from './restartPolicy.js';
import type { ContainerMount } from './volumes.js';

export type ContainerStatus = 'created' | 'running' | 'exited' | 'dead';

/** What a client asked for (Docker's Config), as accepted. */
export interface ContainerConfig {
  Hostname: string;
  User: string;
  AttachStdin: boolean;
  AttachStdout: boolean;
  AttachStderr: boolean;
  Tty: boolean;
  OpenStdin: boolean;
  StdinOnce: boolean;
  Env: string[];
  Cmd: string[] | null;
  Image: string;
  WorkingDir: string;
  Entrypoint: string[] | null;
  Labels: Record<string, string>;
  StopSignal?: string;
  StopTimeout?: number;
  /** "80/tcp" → {}: the request's and the image's EXPOSE, and every published port (as Docker merges them). */
  ExposedPorts?: Record<string, Record<string, never>>;
  /** -v /path: anonymous volumes (Docker's Config.Volumes). */
  Volumes?: Record<string, Record<string, never>>;
  /** --health-cmd and friends merged over the image's HEALTHCHECK at create (health.ts). */
  Healthcheck?: HealthConfig;
}

/** The part of Docker's HostConfig this daemon honours (resources and security options: hostConfigSpec.ts). */
export interface HostConfig extends HostResources {
  AutoRemove: boolean;
  /** none, host; `default`/`bridge` are run as none until networks exist. */
  NetworkMode: string;
  Binds: string[] | null;
  /** --mount (Docker's mount.Mount, checked by src/volume/mounts.ts). */
  Mounts?: Record<string, unknown>[];
  /** --volumes-from ID[:ro|rw]. */
  VolumesFrom?: string[];
  /** -p: "80/tcp" → host addresses and ports (src/network/ports.ts reads them). */
  PortBindings?: Record<string, { HostIp?: string; HostPort?: string }[] | null>;
  /** -P: every exposed port on an ephemeral host port. */
  PublishAllPorts?: boolean;
  /** --add-host `name:ip` entries for /etc/hosts (bridge networks, where tsd writes it). */
  ExtraHosts?: string[];
  /** Absent in records written before restart policies: `no`. */
  RestartPolicy?: RestartPolicy;
  /** Docker's json-file options as the shim takes them; absent: the shim's defaults (10 MiB × 3). */
  LogConfig?: LogConfig;
}

export interface LogConfig {
  Type: 'json-file';
  Config: { 'max-size'?: string; 'max-file'?: string };
  /** max-size in bytes (0: no rotation) and max-file, parsed once at create. */
  maxSize?: number;
  maxFile?: number;
}

export interface ContainerState {
  Status: ContainerStatus;
  Pid: number;
  ExitCode: number;
  OOMKilled: boolean;
  StartedAt: string;
  FinishedAt: string;
  /** Why the state is what it is when it is not a plain exit (dead: the exit status is unknown). */
  Error: string;
  /** Running, with its processes frozen (docker pause); absent in older records. */
  Paused?: boolean;
}

export interface ContainerRecord {
  Id: string;
  /** With the leading `/`. */
  Name: string;
  Created: string;
  /** The image's full name and ID (config digest). */
  Image: string;
  ImageId: string;
  /** The command as run: Entrypoint + Cmd after the image's defaults. */
  Path: string;
  Args: string[];
  Config: ContainerConfig;
  HostConfig: HostConfig;
  State: ContainerState;
  RestartCount: number;
  /** docker stop/kill since the last start: no policy restarts it (Docker's HasBeenManuallyStopped). */
  HasBeenManuallyStopped?: boolean;
  /** Its binds, volumes and tmpfs mounts (inspect's Mounts; who uses a volume is read from here). */
  Mounts?: ContainerMount[];
  /** --ip and --network-alias for the network of its NetworkMode (records before Networks). */
  NetworkEndpoint?: NetworkEndpointConfig;
  /**
   * The bridge networks (the default one, user networks) it is on whenever it
   * runs, in the order its interfaces get them (eth0 first), with --ip and
   * --network-alias for each: its NetworkMode's at create, then docker network
   * connect's (Docker's NetworkSettings.Networks). Absent in older records: the
   * NetworkMode's network with NetworkEndpoint.
   */
  Networks?: Record<string, NetworkEndpointConfig>;
}

export interface NetworkEndpointConfig {
  IPv4Address?: string;
  Aliases?: string[];
}

export const ZERO_TIME = '0001-01-01T00:00:00Z';

const isStringArray = (v: unknown) => Array.isArray(v) && v.every((s) => typeof s === 'string');
const isEndpointConfig = (v: unknown) => {
  const e = v as Record<string, unknown>;
  return typeof e === 'object' && e !== null && (e.IPv4Address === undefined || typeof e.IPv4Address === 'string') && (e.Aliases === undefined || isStringArray(e.Aliases));
};

const NUMBER_FIELDS = ['Memory', 'MemorySwap', 'MemoryReservation', 'NanoCpus', 'CpuShares', 'CpuQuota', 'CpuPeriod', 'PidsLimit', 'ShmSize'];
const BOOLEAN_FIELDS = ['OomKillDisable', 'Privileged', 'ReadonlyRootfs', 'Init', 'PublishAllPorts'];
const isStringMap = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every((x) => typeof x === 'string');

/** The first resource field of a HostConfig (all optional) of the wrong type. */
function badResourceField(h: Record<string, unknown>): string | undefined {
  for (const k of NUMBER_FIELDS) if (h[k] !== undefined && typeof h[k] !== 'number') return k;
  for (const k of BOOLEAN_FIELDS) if (h[k] !== undefined && typeof h[k] !== 'boolean') return k;
  for (const k of ['CpusetCpus', 'CpusetMems']) if (h[k] !== undefined && typeof h[k] !== 'string') return k;
  for (const k of ['CapAdd', 'CapDrop', 'SecurityOpt']) if (h[k] !== undefined && !isStringArray(h[k])) return k;
  for (const k of ['Tmpfs', 'Sysctls']) if (h[k] !== undefined && !isStringMap(h[k])) return k;
  if (h.Ulimits !== undefined && !(Array.isArray(h.Ulimits) && h.Ulimits.every((u) => typeof u?.Name === 'string' && typeof u?.Soft === 'number' && typeof u?.Hard === 'number'))) return 'Ulimits';
  return undefined;
}

/** The first field of `r` that does not have the record's shape, or undefined. */
function badField(r: Record<string, unknown>): string | undefined {
  const str = ['Id', 'Name', 'Created', 'Image', 'ImageId', 'Path'];
  for (const k of str) if (typeof r[k] !== 'string') return k;
  if (!isStringArray(r.Args)) return 'Args';
  if (typeof r.RestartCount !== 'number') return 'RestartCount';
  const c = r.Config as Record<string, unknown> | undefined;
  if (!c || typeof c !== 'object') return 'Config';
  if (!isStringArray(c.Env)) return 'Config.Env';
  if (typeof c.Tty !== 'boolean' || typeof c.OpenStdin !== 'boolean') return 'Config.Tty';
  const h = r.HostConfig as Record<string, unknown> | undefined;
  if (!h || typeof h !== 'object' || typeof h.AutoRemove !== 'boolean' || typeof h.NetworkMode !== 'string') return 'HostConfig';
  const lc = h.LogConfig as Record<string, unknown> | undefined;
  if (lc !== undefined && (typeof lc !== 'object' || lc === null || lc.Type !== 'json-file' || typeof lc.Config !== 'object'
    || !['maxSize', 'maxFile'].every((k) => lc[k] === undefined || (Number.isInteger(lc[k]) && (lc[k] as number) >= 0)))) return 'HostConfig.LogConfig';
  if (h.ExtraHosts !== undefined && !isStringArray(h.ExtraHosts)) return 'HostConfig.ExtraHosts';
  if (h.PortBindings !== undefined && !(typeof h.PortBindings === 'object' && h.PortBindings !== null && Object.values(h.PortBindings).every((l) => l === null
    || (Array.isArray(l) && l.every((b) => typeof b === 'object' && b !== null && ['HostIp', 'HostPort'].every((k) => b[k] === undefined || typeof b[k] === 'string')))))) return 'HostConfig.PortBindings';
  if (c.ExposedPorts !== undefined && (typeof c.ExposedPorts !== 'object' || c.ExposedPorts === null)) return 'Config.ExposedPorts';
  if (c.Healthcheck !== undefined && healthConfigProblem(c.Healthcheck) !== undefined) return 'Config.Healthcheck';
  if (r.Mounts !== undefined && !(Array.isArray(r.Mounts) && r.Mounts.every((m) => typeof m === 'object' && m !== null && ['bind', 'volume', 'tmpfs'].includes(m.type)
    && ['source', 'destination', 'propagation', 'mode'].every((k) => typeof m[k] === 'string') && typeof m.readOnly === 'boolean' && (m.name === undefined || typeof m.name === 'string')))) return 'Mounts';
  const wrong = badResourceField(h);
  if (wrong) return `HostConfig.${wrong}`;
  const s = r.State as Record<string, unknown> | undefined;
  if (!s || typeof s !== 'object') return 'State';
  if (!['created', 'running', 'exited', 'dead'].includes(s.Status as string)) return 'State.Status';
  for (const k of ['Pid', 'ExitCode']) if (typeof s[k] !== 'number') return `State.${k}`;
  for (const k of ['StartedAt', 'FinishedAt', 'Error']) if (typeof s[k] !== 'string') return `State.${k}`;
  if (typeof s.OOMKilled !== 'boolean') return 'State.OOMKilled';
  if (r.NetworkEndpoint !== undefined && !isEndpointConfig(r.NetworkEndpoint)) return 'NetworkEndpoint';
  const nets = r.Networks as Record<string, unknown> | undefined;
  if (nets !== undefined && (typeof nets !== 'object' || nets === null || Array.isArray(nets))) return 'Networks';
  for (const [name, e] of Object.entries(nets ?? {})) if (!isEndpointConfig(e)) return `Networks.${name}`;
  return undefined;
}

export class ContainerRecords {
  readonly dir: string;
  constructor(dataRoot: string) {
    this.dir = join(dataRoot, 'containers');
  }

  /** The container's own directory (its record and bundle). */
  containerDir(id: string): string {
    return join(this.dir, id);
  }

  /** Makes the container's directory; its record follows with `write`. */
  async makeDir(id: string): Promise<string> {
    const d = this.containerDir(id);
    await mkdir(d, { recursive: true, mode: 0o700 });
    return d;
  }

  /** Whole or not at all, and durable: temp + fsync + rename, then the directory fsynced. */
  async write(r: ContainerRecord): Promise<void> {
    const d = this.containerDir(r.Id);
    try {
      await writeFileAtomicAsync(join(d, 'container.json'), JSON.stringify(r, null, 2), 0o600);
    } catch (e) {
      throw RuntimeError.fromSystem('write the container record', e, { path: join(d, 'container.json') });
    }
  }

  /** Every record on disk (read once, at start, before the daemon listens); ones that fail validation are reported to `onBad` and skipped. */
  readAll(onBad: (path: string, why: string) => void): ContainerRecord[] {
    let ids: string[];
    try {
      ids = readdirSync(this.dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
    } catch {
      return [];
    }
    const out: ContainerRecord[] = [];
    for (const id of ids) {
      const path = join(this.dir, id, 'container.json');
      let parsed: unknown;
      try {
        parsed = JSON.parse(readFileSync(path, 'utf8'));
      } catch (e) {
        onBad(path, (e as Error).message);
        continue;
      }
      const bad = parsed && typeof parsed === 'object' ? badField(parsed as Record<string, unknown>) : '(not an object)';
      if (bad) onBad(path, `field ${bad} is missing or of the wrong type`);
      else if ((parsed as ContainerRecord).Id !== id) onBad(path, 'Id does not match its directory');
      else out.push(parsed as ContainerRecord);
    }
    return out;
  }
}
