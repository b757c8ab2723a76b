// The body of POST /containers/create, checked against its JSON Schema
// (src/supervisor/schemas/containerCreate.json, Docker's swagger types for API
// 1.41) by the validator compiled at build time: a wrong type is Docker's 400
// naming the field. Fields this daemon does not read are ignored, as Docker
// ignores unknown ones; null is the zero value, as in Go.
import { healthConfigProblem, type HealthConfig } from '../../engine/health.js';
import { BadRequest } from '../http/errors.js';
import { validateContainerCreate } from '../generated/bodyValidators.js';
import type { ContainerConfig, HostConfig, NetworkEndpointConfig } from '../../engine/containers.js';
import { parseRestartPolicy } from '../../engine/restartPolicy.js';
import { checkBody } from './bodyErrors.js';

type Maybe<T> = T | null | undefined;
/** Docker's strslice: a plain string is one element. */
type StrSlice = Maybe<string | string[]>;

/** What the schema guarantees about the fields read here. */
interface CreateBody {
  Hostname?: Maybe<string>; User?: Maybe<string>;
  AttachStdin?: Maybe<boolean>; AttachStdout?: Maybe<boolean>; AttachStderr?: Maybe<boolean>;
  Tty?: Maybe<boolean>; OpenStdin?: Maybe<boolean>; StdinOnce?: Maybe<boolean>;
  Env?: Maybe<string[]>; Cmd?: StrSlice; Image?: Maybe<string>; WorkingDir?: Maybe<string>; Entrypoint?: StrSlice;
  Labels?: Maybe<Record<string, string>>; StopSignal?: Maybe<string>; StopTimeout?: Maybe<number>; Healthcheck?: unknown;
  ExposedPorts?: Maybe<Record<string, unknown>>;
  Volumes?: Maybe<Record<string, unknown>>;
  HostConfig?: Maybe<{
    AutoRemove?: Maybe<boolean>; NetworkMode?: Maybe<string>; Binds?: Maybe<string[]>; ExtraHosts?: Maybe<string[]>;
    Mounts?: Maybe<Maybe<Record<string, unknown>>[]>; VolumesFrom?: Maybe<string[]>;
    Memory?: Maybe<number>; MemorySwap?: Maybe<number>; MemoryReservation?: Maybe<number>; OomKillDisable?: Maybe<boolean>;
    NanoCpus?: Maybe<number>; CpuShares?: Maybe<number>; CpuQuota?: Maybe<number>; CpuPeriod?: Maybe<number>;
    CpusetCpus?: Maybe<string>; CpusetMems?: Maybe<string>; PidsLimit?: Maybe<number>;
    Privileged?: Maybe<boolean>; CapAdd?: Maybe<string[]>; CapDrop?: Maybe<string[]>; ReadonlyRootfs?: Maybe<boolean>;
    Tmpfs?: Maybe<Record<string, string>>; Init?: Maybe<boolean>; ShmSize?: Maybe<number>;
    Sysctls?: Maybe<Record<string, string>>; SecurityOpt?: Maybe<string[]>; Ulimits?: Maybe<{ Name?: Maybe<string>; Soft?: Maybe<number>; Hard?: Maybe<number> }[]>;
    PortBindings?: Maybe<Record<string, Maybe<{ HostIp?: Maybe<string>; HostPort?: Maybe<string> }[]>>>; PublishAllPorts?: Maybe<boolean>;
    RestartPolicy?: Maybe<{ Name?: Maybe<string> }>;
    LogConfig?: Maybe<{ Type?: Maybe<string>; Config?: Maybe<Record<string, string>> }>;
  }>;
  NetworkingConfig?: Maybe<{ EndpointsConfig?: Maybe<Record<string, Maybe<{ IPAMConfig?: Maybe<{ IPv4Address?: Maybe<string> }>; Aliases?: Maybe<string[]> }>>> }>;
}

const slice = (v: StrSlice): string[] | null => (v === undefined || v === null ? null : typeof v === 'string' ? [v] : v);

export function parseCreateBody(raw: unknown): { config: ContainerConfig; hostConfig: HostConfig; warnings: string[]; endpoint?: NetworkEndpointConfig } {
  if (raw === undefined) throw new BadRequest('config cannot be empty in order to create a container');
  const body = checkBody<CreateBody>(validateContainerCreate, raw, 'ContainerConfigWrapper');
  const image = body.Image ?? '';
  if (!image) throw new BadRequest('Image: missing (which image to create the container from)');
  const config: ContainerConfig = {
    Hostname: body.Hostname ?? '',
    User: body.User ?? '',
    AttachStdin: body.AttachStdin ?? false,
    AttachStdout: body.AttachStdout ?? false,
    AttachStderr: body.AttachStderr ?? false,
    Tty: body.Tty ?? false,
    OpenStdin: body.OpenStdin ?? false,
    StdinOnce: body.StdinOnce ?? false,
    Env: body.Env ?? [],
    Cmd: slice(body.Cmd),
    Image: image,
    WorkingDir: body.WorkingDir ?? '',
    Entrypoint: slice(body.Entrypoint),
    Labels: body.Labels ?? {},
    ...(body.StopSignal ? { StopSignal: body.StopSignal } : {}),
    ...(body.StopTimeout !== undefined && body.StopTimeout !== null ? { StopTimeout: body.StopTimeout } : {}),
    ...(body.ExposedPorts && Object.keys(body.ExposedPorts).length ? { ExposedPorts: Object.fromEntries(Object.keys(body.ExposedPorts).map((k) => [k, {}])) } : {}),
    ...(body.Volumes && Object.keys(body.Volumes).length ? { Volumes: Object.fromEntries(Object.keys(body.Volumes).map((k) => [k, {}])) } : {}),
  };
  for (const e of config.Env) if (!e || e.startsWith('=')) throw new BadRequest(`Env: invalid entry ${JSON.stringify(e)}: want KEY=VALUE`);
  if (body.Healthcheck !== undefined && body.Healthcheck !== null) {
    const problem = healthConfigProblem(body.Healthcheck);
    if (problem) throw new BadRequest(`Healthcheck: ${problem}`);
    config.Healthcheck = body.Healthcheck as HealthConfig;
  }
  const h = body.HostConfig ?? {};
  const hostConfig: HostConfig = {
    AutoRemove: h.AutoRemove ?? false,
    NetworkMode: h.NetworkMode || 'default',
    Binds: h.Binds ?? null,
    ...extraHostsOf(h.ExtraHosts),
    ...resourcesOf(h),
    ...portsOf(h),
    ...mountsOf(h),
  };
  // The schema checked the types; what the values may be is the policy's own (Docker's messages).
  const restart = parseRestartPolicy(h.RestartPolicy);
  if (typeof restart === 'string') throw new BadRequest(restart);
  if (restart.Name !== 'no' && hostConfig.AutoRemove) throw new BadRequest('HostConfig.RestartPolicy: conflicting options: AutoRemove and restart policy');
  hostConfig.RestartPolicy = restart;
  const log = parseLogConfig(h.LogConfig);
  if (log) hostConfig.LogConfig = log;
  const warnings: string[] = [];
  const endpoint = endpointOf(body, hostConfig.NetworkMode);
  return { config, hostConfig, warnings, ...(endpoint ? { endpoint } : {}) };
}

type Body = NonNullable<CreateBody['HostConfig']>;

/** --mount and --volumes-from as given (src/volume/mounts.ts checks the values at create, naming the field). */
function mountsOf(h: Body): Partial<HostConfig> {
  const out: Partial<HostConfig> = {};
  if (h.Mounts?.length) {
    h.Mounts.forEach((m, i) => {
      if (!m) throw new BadRequest(`HostConfig.Mounts[${i}]: missing`);
    });
    out.Mounts = h.Mounts as Record<string, unknown>[];
  }
  if (h.VolumesFrom?.length) out.VolumesFrom = h.VolumesFrom;
  return out;
}

/** --ip and --network-alias: the EndpointsConfig entry of the network the container runs on. */
function endpointOf(body: CreateBody, mode: string): NetworkEndpointConfig | undefined {
  const all = body.NetworkingConfig?.EndpointsConfig ?? {};
  const names = Object.keys(all);
  if (names.length > 1) throw new BadRequest('Container cannot be connected to network endpoints: only one network at create (docker network connect adds more)');
  const e = names.length ? all[names[0]] : undefined;
  if (!e) return undefined;
  const ip = e.IPAMConfig?.IPv4Address ?? '';
  const aliases = (e.Aliases ?? []).filter(Boolean);
  if (!ip && !aliases.length) return undefined;
  if (names[0] !== mode && !(names[0] === 'bridge' && mode === 'default')) throw new BadRequest(`NetworkingConfig.EndpointsConfig: ${JSON.stringify(names[0])} is not the container's network (${mode})`);
  return { ...(ip ? { IPv4Address: ip } : {}), ...(aliases.length ? { Aliases: aliases } : {}) };
}

/** --add-host name:ip, checked as dockerd checks them (an IPv4 address; host-gateway is not known here). */
function extraHostsOf(list: Maybe<string[]>): Partial<HostConfig> {
  if (!list?.length) return {};
  for (const e of list) {
    const i = e.indexOf(':');
    const ip = i < 0 ? '' : e.slice(i + 1);
    if (i <= 0 || !/^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/.test(ip)) throw new BadRequest(`invalid IP address in add-host: "${ip || e}"`);
  }
  return { ExtraHosts: list };
}

/** -p and -P as given (src/network/ports.ts checks the values at create, naming the field). */
function portsOf(h: Body): Partial<HostConfig> {
  const out: Partial<HostConfig> = {};
  if (h.PortBindings && Object.keys(h.PortBindings).length) {
    out.PortBindings = Object.fromEntries(Object.entries(h.PortBindings).map(([k, list]) => [k, list
      ? list.map((b) => ({ ...(b?.HostIp ? { HostIp: b.HostIp } : {}), ...(b?.HostPort ? { HostPort: b.HostPort } : {}) }))
      : null]));
  }
  if (h.PublishAllPorts === true) out.PublishAllPorts = true;
  return out;
}

/** The resources and security options (hostConfigSpec.ts applies them), null and zero values left out. */
function resourcesOf(h: Body): Partial<HostConfig> {
  const out: Partial<HostConfig> = {};
  const numbers = ['Memory', 'MemorySwap', 'MemoryReservation', 'NanoCpus', 'CpuShares', 'CpuQuota', 'CpuPeriod', 'PidsLimit', 'ShmSize'] as const;
  for (const k of numbers) if (typeof h[k] === 'number' && h[k] !== 0) out[k] = h[k] as number;
  for (const k of ['OomKillDisable', 'Privileged', 'ReadonlyRootfs', 'Init'] as const) if (h[k] === true) out[k] = true;
  for (const k of ['CpusetCpus', 'CpusetMems'] as const) if (h[k]) out[k] = h[k] as string;
  for (const k of ['CapAdd', 'CapDrop', 'SecurityOpt'] as const) if (h[k]?.length) out[k] = h[k] as string[];
  for (const k of ['Tmpfs', 'Sysctls'] as const) if (h[k] && Object.keys(h[k]!).length) out[k] = h[k] as Record<string, string>;
  if (h.Ulimits?.length) {
    out.Ulimits = h.Ulimits.map((u, i) => {
      if (!u?.Name) throw new BadRequest(`HostConfig.Ulimits[${i}].Name: missing`);
      return { Name: u.Name, Soft: u.Soft ?? 0, Hard: u.Hard ?? 0 };
    });
  }
  return out;
}

/** Docker's size syntax for max-size: a number with an optional k/m/g unit (1024-based, as dockerd). */
function parseSize(v: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*([kmg]?)b?$/i.exec(v.trim());
  if (!m) return undefined;
  const unit = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2].toLowerCase() as '' | 'k' | 'm' | 'g'];
  return Math.floor(Number(m[1]) * unit);
}

const DOCKER_LOG_DRIVERS = ['json-file', 'local', 'none', 'syslog', 'journald', 'gelf', 'fluentd', 'awslogs', 'splunk', 'etwlogs', 'gcplogs', 'logentries'];

/** HostConfig.LogConfig: json-file (Docker's default, what the shim writes) with max-size / max-file, or nothing. */
function parseLogConfig(lc: { Type?: Maybe<string>; Config?: Maybe<Record<string, string>> } | null | undefined): HostConfig['LogConfig'] {
  if (!lc) return undefined;
  const type = lc.Type || 'json-file';
  // dockerd's answer for a name that is no driver (a path, a typo); its own drivers are named as unsupported here.
  if (!DOCKER_LOG_DRIVERS.includes(type)) throw new BadRequest(`error looking up logging plugin ${type}: plugin ${JSON.stringify(type)} not found`);
  if (type !== 'json-file') throw new BadRequest(`HostConfig.LogConfig.Type: logging driver ${JSON.stringify(type)} is not supported (only json-file)`);
  const config = lc.Config ?? {};
  for (const k of Object.keys(config)) if (k !== 'max-size' && k !== 'max-file') throw new BadRequest(`unknown log opt '${k}' for json-file log driver`);
  const out: NonNullable<HostConfig['LogConfig']> = { Type: 'json-file', Config: {} };
  if (config['max-size'] !== undefined) {
    const n = parseSize(config['max-size']);
    if (n === undefined) throw new BadRequest(`HostConfig.LogConfig.Config.max-size: invalid size ${JSON.stringify(config['max-size'])}`);
    out.Config['max-size'] = config['max-size'];
    out.maxSize = n;
  }
  if (config['max-file'] !== undefined) {
    const n = Number(config['max-file']);
    if (!Number.isInteger(n) || n < 1) throw new BadRequest(`HostConfig.LogConfig.Config.max-file: must be a positive integer, got ${JSON.stringify(config['max-file'])}`);
    if (out.maxSize === undefined) throw new BadRequest('HostConfig.LogConfig.Config.max-file: needs max-size');
    out.Config['max-file'] = config['max-file'];
    out.maxFile = n;
  }
  return out;
}
