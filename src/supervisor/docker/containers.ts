// /containers: create, start, stop, kill, restart, wait, delete, list,
// inspect, logs, attach (hijacked), resize, stats, changes — each a
// translation to one call of src/engine/containers.ts.
import { BadRequest } from '../http/errors.js';
import { sendJson, type Request, type Router } from '../http/router.js';
import { framer, RAW_STREAM } from '../http/stream.js';
import { inspectPorts, psPorts, type ContainerRecord, type Endpoint, type NetworkEndpointConfig, type WaitCondition } from '../../engine/containers.js';
import type { HealthState } from '../../engine/health.js';
import { endpointId } from './networks.js';
import { parseCreateBody } from './containerBody.js';
import type { Api } from './context.js';
import { parseFilters } from './system.js';

const flag = (req: Request, name: string) => ['1', 'true', 'True'].includes(req.query.get(name) ?? '');

/** Docker's httputils.BoolValueOrDefault: absent or empty is the default; 0, no, false, none are false. */
function boolOr(req: Request, name: string, fallback: boolean): boolean {
  const v = (req.query.get(name) ?? '').trim().toLowerCase();
  if (v === '') return fallback;
  return !['0', 'no', 'false', 'none'].includes(v);
}

function intParam(req: Request, name: string): number | undefined {
  const v = req.query.get(name);
  if (v === null || v === '') return undefined;
  if (!/^-?\d+$/.test(v)) throw new BadRequest(`${name}: want an integer, got ${JSON.stringify(v)}`);
  return Number(v);
}

/** A resize's h or w as dockerd reads it (strconv.Atoi), with its message for anything else (400). */
export function atoi(req: Request, name: string): number {
  const v = req.query.get(name) ?? '';
  if (!/^[+-]?\d+$/.test(v) || !Number.isSafeInteger(Number(v))) throw new BadRequest(`strconv.Atoi: parsing ${JSON.stringify(v)}: ${/^[+-]?\d+$/.test(v) ? 'value out of range' : 'invalid syntax'}`);
  return Number(v);
}

/** Docker's units.HumanDuration. */
export function humanDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 1) return 'Less than a second';
  if (s === 1) return '1 second';
  if (s < 60) return `${s} seconds`;
  const m = Math.round(s / 60);
  if (m === 1) return 'About a minute';
  if (m < 60) return `${m} minutes`;
  const h = Math.round(s / 3600);
  if (h === 1) return 'About an hour';
  if (h < 48) return `${h} hours`;
  if (h < 24 * 7 * 2) return `${Math.round(h / 24)} days`;
  if (h < 24 * 30 * 2) return `${Math.round(h / 24 / 7)} weeks`;
  if (h < 24 * 365 * 2) return `${Math.round(h / 24 / 30)} months`;
  return `${Math.round(h / 24 / 365)} years`;
}

function statusText(c: ContainerRecord, health?: HealthState, now = Date.now()): string {
  const st = c.State;
  // Docker's suffix: "(health: starting)", "(healthy)", "(unhealthy)".
  const h = health ? (health.Status === 'starting' ? ' (health: starting)' : ` (${health.Status})`) : '';
  if (st.Status === 'running') return `Up ${humanDuration(now - Date.parse(st.StartedAt))}${st.Paused ? ' (Paused)' : h}`;
  if (st.Status === 'exited') return `Exited (${st.ExitCode}) ${humanDuration(now - Date.parse(st.FinishedAt))} ago`;
  if (st.Status === 'dead') return 'Dead';
  return 'Created';
}

/** Docker's State.Status: a paused container is "paused" (running underneath). */
const apiStatus = (c: ContainerRecord) => (c.State.Status === 'running' && c.State.Paused ? 'paused' : c.State.Status);

const shellJoin = (args: string[]) => args.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');

/** HostConfig's resources as dockerd shows them: every field, zero values included. */
function inspectResources(h: ContainerRecord['HostConfig']) {
  return {
    Memory: h.Memory ?? 0, MemorySwap: h.MemorySwap ?? 0, MemoryReservation: h.MemoryReservation ?? 0, OomKillDisable: h.OomKillDisable ?? false,
    NanoCpus: h.NanoCpus ?? 0, CpuShares: h.CpuShares ?? 0, CpuQuota: h.CpuQuota ?? 0, CpuPeriod: h.CpuPeriod ?? 0,
    CpusetCpus: h.CpusetCpus ?? '', CpusetMems: h.CpusetMems ?? '', PidsLimit: h.PidsLimit ?? null,
    Privileged: h.Privileged ?? false, CapAdd: h.CapAdd ?? null, CapDrop: h.CapDrop ?? null, ReadonlyRootfs: h.ReadonlyRootfs ?? false,
    Tmpfs: h.Tmpfs, Init: h.Init ?? null, ShmSize: h.ShmSize ?? 64 * 1024 * 1024, Sysctls: h.Sysctls, Ulimits: h.Ulimits ?? null, SecurityOpt: h.SecurityOpt ?? null,
  };
}

/** IPAMConfig (--ip) and Aliases as dockerd shows them: on a user network, the aliases and the short ID. */
/** A container's place on each of its networks (engine containerNetworks), as inspect and ps show it. */
export type ContainerNetworks = Array<{ name: string; networkId: string; config: NetworkEndpointConfig; endpoint?: Endpoint }>;

/** Docker's EndpointSettings of one network; the endpoint's fields are empty while the container does not run. */
function endpointSettings(c: ContainerRecord, n: ContainerNetworks[number]) {
  const ep = n.endpoint;
  return {
    IPAMConfig: n.config.IPv4Address ? { IPv4Address: n.config.IPv4Address } : null,
    Links: null,
    // User networks: the short ID is an alias too (dockerd adds it; docker-compose reads it).
    Aliases: n.name !== 'bridge' ? [...(n.config.Aliases ?? []), c.Id.slice(0, 12)] : null,
    NetworkID: n.networkId,
    EndpointID: ep ? endpointId(n.networkId, c.Id) : '',
    Gateway: ep?.gateway ?? '', IPAddress: ep?.ipAddress ?? '', IPPrefixLen: ep?.prefixLen ?? 0, IPv6Gateway: '', GlobalIPv6Address: '', GlobalIPv6PrefixLen: 0, MacAddress: ep?.macAddress ?? '',
    DriverOpts: null,
  };
}

/** `restarting`: a restart policy's start waits out its backoff (Docker: "Restarting (1) 2 seconds ago"). */
export function summary(c: ContainerRecord, restarting = false, networks: ContainerNetworks = [], health?: HealthState) {
  const endpoint = networks.find((n) => n.endpoint)?.endpoint;
  return {
    Id: c.Id,
    Names: [c.Name],
    Image: c.Config.Image,
    ImageID: c.ImageId,
    Command: shellJoin([c.Path, ...c.Args]),
    Created: Math.floor(Date.parse(c.Created) / 1000),
    Ports: psPorts(Object.keys(c.Config.ExposedPorts ?? {}), endpoint?.ports ?? []),
    Labels: c.Config.Labels,
    State: restarting ? 'restarting' : apiStatus(c),
    Status: restarting ? `Restarting (${c.State.ExitCode}) ${humanDuration(Date.now() - Date.parse(c.State.FinishedAt))} ago` : statusText(c, health),
    HostConfig: { NetworkMode: c.HostConfig.NetworkMode },
    NetworkSettings: { Networks: networkSettings(c, networks).Networks },
    Mounts: dockerMounts(c),
  };
}

/** The record's mounts as Docker shows them (inspect, ps). */
function dockerMounts(c: ContainerRecord) {
  return (c.Mounts ?? []).map((m) => m.type === 'volume'
    ? { Type: 'volume', Name: m.name, Source: m.source, Destination: m.destination, Driver: 'local', Mode: m.mode, RW: !m.readOnly, Propagation: m.propagation }
    : { Type: m.type, Source: m.source, Destination: m.destination, Mode: m.mode, RW: !m.readOnly, Propagation: m.propagation });
}

function listFilter(f: Record<string, string[]>): (c: ContainerRecord) => boolean {
  return (c) => {
    if (f.id && !f.id.some((p) => c.Id.startsWith(p))) return false;
    if (f.name && !f.name.some((n) => c.Name.slice(1).includes(n.replace(/^\//, '')))) return false;
    if (f.status && !f.status.includes(apiStatus(c))) return false;
    if (f.exited && !(c.State.Status === 'exited' && f.exited.includes(String(c.State.ExitCode)))) return false;
    if (f.ancestor && !f.ancestor.some((a) => a === c.Config.Image || a === c.ImageId || c.Image.endsWith(`/${a}`) || c.Image.endsWith(`/${a}:latest`))) return false;
    if (f.label && !f.label.every((l) => {
      const [k, v] = l.split('=', 2);
      return v === undefined ? k in c.Config.Labels : c.Config.Labels[k] === v;
    })) return false;
    return true;
  };
}

/**
 * Docker's NetworkSettings: each network under Networks; the first one's
 * address, gateway and MAC also at the top (the legacy fields, the default
 * bridge's in Docker), and the published ports of the endpoint that has them;
 * the endpoint fields are empty while the container does not run.
 */
function networkSettings(c: ContainerRecord, networks: ContainerNetworks) {
  const ep = networks.find((n) => n.endpoint)?.endpoint;
  const first = networks.find((n) => n.endpoint);
  const addr = { Gateway: ep?.gateway ?? '', IPAddress: ep?.ipAddress ?? '', IPPrefixLen: ep?.prefixLen ?? 0, IPv6Gateway: '', GlobalIPv6Address: '', GlobalIPv6PrefixLen: 0, MacAddress: ep?.macAddress ?? '' };
  return {
    Bridge: '', SandboxID: '', HairpinMode: false, LinkLocalIPv6Address: '', LinkLocalIPv6PrefixLen: 0,
    Ports: inspectPorts(Object.keys(c.Config.ExposedPorts ?? {}), ep?.ports ?? []),
    SandboxKey: ep?.netns ?? '', SecondaryIPAddresses: null, SecondaryIPv6Addresses: null,
    EndpointID: first ? endpointId(first.networkId, c.Id) : '', ...addr,
    Networks: Object.fromEntries(networks.map((n) => [n.name, endpointSettings(c, n)])),
  };
}

/** `restarting`: a restart policy's start is waiting out its backoff (Docker's Status restarting). */
function inspect(c: ContainerRecord, restarting = false, net?: { networks: ContainerNetworks; etc?: { hosts: string; hostname: string; resolvConf: string } }, health?: HealthState) {
  const st = c.State;
  return {
    Id: c.Id,
    Created: c.Created,
    Path: c.Path,
    Args: c.Args,
    State: {
      Status: restarting ? 'restarting' : apiStatus(c), Running: st.Status === 'running', Paused: !!st.Paused, Restarting: restarting, OOMKilled: st.OOMKilled,
      Dead: st.Status === 'dead', Pid: st.Pid, ExitCode: st.ExitCode, Error: st.Error, StartedAt: st.StartedAt, FinishedAt: st.FinishedAt,
      ...(health ? { Health: health } : {}),
    },
    Image: c.ImageId,
    ResolvConfPath: net?.etc?.resolvConf ?? '',
    HostnamePath: net?.etc?.hostname ?? '',
    HostsPath: net?.etc?.hosts ?? '',
    LogPath: '',
    Name: c.Name,
    RestartCount: c.RestartCount,
    Driver: 'overlay',
    Platform: 'linux',
    MountLabel: '',
    ProcessLabel: '',
    AppArmorProfile: '',
    ExecIDs: null,
    HostConfig: {
      Binds: c.HostConfig.Binds, Mounts: c.HostConfig.Mounts ?? [], VolumesFrom: c.HostConfig.VolumesFrom ?? null, NetworkMode: c.HostConfig.NetworkMode, AutoRemove: c.HostConfig.AutoRemove,
      RestartPolicy: c.HostConfig.RestartPolicy ?? { Name: 'no', MaximumRetryCount: 0 }, LogConfig: { Type: 'json-file', Config: c.HostConfig.LogConfig?.Config ?? {} },
      PortBindings: c.HostConfig.PortBindings ?? {}, PublishAllPorts: c.HostConfig.PublishAllPorts ?? false,
      ...inspectResources(c.HostConfig),
    },
    Mounts: dockerMounts(c),
    Config: { ...c.Config, Image: c.Config.Image },
    NetworkSettings: networkSettings(c, net?.networks ?? []),
  };
}


export function registerContainers(router: Router, api: Api): void {
  const c = api.containers;

  router.post('/containers/create', async (req, res) => {
    const name = req.query.get('name') ?? undefined;
    const { config, hostConfig, warnings, endpoint } = parseCreateBody(await req.json());
    const r = await c.create({ name: name || undefined, config, hostConfig, ...(endpoint ? { endpoint } : {}) });
    sendJson(res, 201, { Id: r.Id, Warnings: warnings });
  });

  router.get('/containers/json', async (req, res) => {
    const all = flag(req, 'all');
    const filters = parseFilters(req.query.get('filters'));
    const limit = intParam(req, 'limit');
    let list = c.list().filter((x) => all || x.State.Status === 'running' || filters.status || filters.exited).filter(listFilter(filters));
    if (limit !== undefined && limit > 0) list = list.slice(0, limit);
    const rows: Array<ReturnType<typeof summary> & { SizeRw?: number; SizeRootFs?: number }> = list.map((x) => summary(x, c.isRestarting(x.Id), c.containerNetworks(x.Id), c.healthOf(x.Id)));
    // size=true (docker ps -s): each writable layer measured (a walk of its upper dir).
    if (flag(req, 'size')) {
      for (const row of rows) {
        const size = await c.size(row.Id);
        if (size) Object.assign(row, { SizeRw: size.rw, SizeRootFs: size.rootFs });
      }
    }
    sendJson(res, 200, rows);
  });

  router.get('/containers/{id}/json', async (req, res) => {
    sendJson(res, 200, inspect(c.get(req.params.id), c.isRestarting(req.params.id), { networks: c.containerNetworks(req.params.id), etc: c.etcPaths(req.params.id) }, c.healthOf(req.params.id)));
  });

  router.post('/containers/{id}/start', async (req, res) => {
    const started = await c.start(req.params.id);
    res.writeHead(started ? 204 : 304).end();
  });

  router.post('/containers/{id}/stop', async (req, res) => {
    const stopped = await c.stop(req.params.id, intParam(req, 't') ?? intParam(req, 'timeout'));
    res.writeHead(stopped ? 204 : 304).end();
  });

  router.post('/containers/{id}/restart', async (req, res) => {
    await c.restart(req.params.id, intParam(req, 't') ?? intParam(req, 'timeout'));
    res.writeHead(204).end();
  });

  router.post('/containers/{id}/kill', async (req, res) => {
    await c.kill(req.params.id, req.query.get('signal') ?? undefined);
    res.writeHead(204).end();
  });

  router.post('/containers/{id}/wait', async (req, res) => {
    const condition = (req.query.get('condition') || 'not-running') as WaitCondition;
    if (!['not-running', 'next-exit', 'removed'].includes(condition)) throw new BadRequest(`condition: want not-running, next-exit or removed, got ${JSON.stringify(condition)}`);
    c.get(req.params.id); // a missing container is a 404, before the headers go out
    const code = c.wait(req.params.id, condition);
    // The headers go out at once: a client (docker run) starts the container only once its wait is in place.
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.flushHeaders();
    const status = await code;
    res.end(JSON.stringify({ Error: null, StatusCode: status }) + '\n');
  });

  router.delete('/containers/{id}', async (req, res) => {
    await c.remove(req.params.id, { force: flag(req, 'force'), volumes: flag(req, 'v') });
    res.writeHead(204).end();
  });

  router.post('/containers/{id}/resize', async (req, res) => {
    const h = atoi(req, 'h'), w = atoi(req, 'w');
    await c.resize(req.params.id, w, h);
    res.writeHead(200).end();
  });

  router.post('/containers/{id}/pause', async (req, res) => {
    await c.pause(req.params.id);
    res.writeHead(204).end();
  });

  router.post('/containers/{id}/unpause', async (req, res) => {
    await c.unpause(req.params.id);
    res.writeHead(204).end();
  });

  router.get('/containers/{id}/top', async (req, res) => {
    const psArgs = req.query.get('ps_args') ?? '';
    // Docker's default is -ef; other ps arguments are not supported.
    if (psArgs !== '' && psArgs !== '-ef') throw new BadRequest(`ps_args: only the default (-ef) is supported, got ${JSON.stringify(psArgs)}`);
    sendJson(res, 200, await c.top(req.params.id));
  });

  router.get('/containers/{id}/stats', async (req, res) => {
    const stream = boolOr(req, 'stream', true);
    const oneShot = boolOr(req, 'one-shot', false);
    if (stream && oneShot) throw new BadRequest('cannot have stream=true and one-shot=true');
    c.get(req.params.id); // a missing container is a 404, before the headers go out
    let gone = false;
    res.on('close', () => (gone = true));
    // A stream's headers go out at once; a single answer's with it, so a failure is still a plain status.
    const head = () => res.headersSent || res.writeHead(200, { 'Content-Type': 'application/json' });
    if (stream) {
      head();
      res.flushHeaders();
    }
    await c.stats(req.params.id, { stream, oneShot }, (doc) => {
      head();
      res.write(JSON.stringify(doc) + '\n');
    }, () => gone);
    res.end();
  });

  router.get('/containers/{id}/changes', async (req, res) => {
    sendJson(res, 200, await c.changes(req.params.id));
  });

  router.post('/containers/{id}/rename', async (req, res) => {
    await c.rename(req.params.id, req.query.get('name') ?? '');
    res.writeHead(204).end();
  });

  router.get('/containers/{id}/logs', async (req, res) => {
    const r = c.get(req.params.id);
    const stdout = flag(req, 'stdout'), stderr = flag(req, 'stderr');
    if (!stdout && !stderr) throw new BadRequest('you must choose at least one stream (stdout or stderr)');
    const tailText = req.query.get('tail');
    const tail = !tailText || tailText === 'all' ? undefined : Number(tailText);
    if (tail !== undefined && (!Number.isInteger(tail) || tail < 0)) throw new BadRequest(`tail: want a number or all, got ${JSON.stringify(tailText)}`);
    const timeParam = (n: string) => {
      const v = req.query.get(n);
      if (!v || v === '0') return undefined;
      const t = Number(v);
      if (!Number.isFinite(t)) throw new BadRequest(`${n}: want unix seconds, got ${JSON.stringify(v)}`);
      return t;
    };
    const timestamps = flag(req, 'timestamps');
    const out = framer(r.Config.Tty);
    let gone = false;
    res.on('close', () => (gone = true));
    res.writeHead(200, { 'Content-Type': RAW_STREAM });
    res.flushHeaders();
    // A reader slower than the file (a busy CLI, a pipe) is waited for at a full buffer:
    // otherwise a large log sat in tsd's memory, a write object per line.
    const drained = () => new Promise<void>((resolve) => {
      const done = () => {
        res.off('drain', done);
        res.off('close', done);
        resolve();
      };
      res.on('drain', done);
      res.on('close', done);
    });
    await c.logs(req.params.id, { stdout, stderr, tail, since: timeParam('since'), until: timeParam('until'), follow: flag(req, 'follow') }, (e) => {
      const data = timestamps ? Buffer.concat([Buffer.from(`${e.time} `), e.data]) : e.data;
      if (!res.write(out(e.stream === 'stdout' ? 1 : 2, data)) && !gone) return drained();
    }, () => gone);
    res.end();
  });

  router.hijack('/containers/{id}/attach', async (req, conn) => {
    const r = c.get(req.params.id);
    const out = framer(r.Config.Tty);
    const socket = conn.socket;
    const attachment = await c.attach(req.params.id, {
      stdin: flag(req, 'stdin'), stdout: flag(req, 'stdout'), stderr: flag(req, 'stderr'), stream: flag(req, 'stream'), logs: flag(req, 'logs'),
    }, { write: (stream, data) => socket.write(out(stream, data)) }).catch((e) => {
      conn.fail(e);
      return undefined;
    });
    if (!attachment) return;
    conn.upgrade(RAW_STREAM);
    if (conn.head.length) void attachment.input(conn.head);
    socket.on('data', (d: Buffer) => void attachment.input(d).catch(() => socket.destroy()));
    // The client half-closes when its stdin ends (docker run -i < file).
    socket.on('end', () => void attachment.closeInput());
    socket.on('close', () => attachment.detach());
    await attachment.done;
    socket.end();
  });
}
