// /_ping, /version, /info, /events: the daemon as a whole.
import { existsSync } from 'node:fs';
import { cpus, release, totalmem, arch, hostname } from 'node:os';
import type { ServerResponse } from 'node:http';
import { API_VERSION, sendJson, type Router } from '../http/router.js';
import type { EngineEvent } from '../../engine/events.js';
import type { Api } from './context.js';

const GOARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x' };
const UNAME_ARCH: Record<string, string> = { x64: 'x86_64', arm64: 'aarch64', arm: 'armv7l', ia32: 'i686', ppc64: 'ppc64le', s390x: 's390x' };

function ping(_req: unknown, res: ServerResponse): void {
  res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-cache, no-store, must-revalidate', Pragma: 'no-cache', 'Content-Length': 2 });
  res.end(res.req.method === 'HEAD' ? undefined : 'OK');
}

/** Docker's filters parameter: {"key": ["v", ...]} (or the old {"key": {"v": true}}). */
export function parseFilters(text: string | null): Record<string, string[]> {
  if (!text) return {};
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw Object.assign(new Error(`invalid filters parameter: ${text}`), { kind: 'invalid-argument' });
  }
  const out: Record<string, string[]> = {};
  if (!v || typeof v !== 'object') return out;
  for (const [k, vals] of Object.entries(v as Record<string, unknown>)) {
    if (Array.isArray(vals)) out[k] = vals.map(String);
    else if (vals && typeof vals === 'object') out[k] = Object.keys(vals);
  }
  return out;
}

function eventMatches(e: EngineEvent, f: Record<string, string[]>): boolean {
  if (f.type && !f.type.includes(e.Type)) return false;
  // Docker: exec_create/exec_start carry the command after a ':'; the filter names the action before it.
  if (f.event && !f.event.includes(e.Action) && !f.event.includes(e.Action.split(':')[0])) return false;
  if (f.container && !f.container.some((c) => e.Actor.ID.startsWith(c) || e.Actor.Attributes.name === c)) return false;
  if (f.image && !f.image.includes(e.Actor.Attributes.image ?? e.Actor.ID)) return false;
  if (f.label && !f.label.every((l) => {
    const [k, v] = l.split('=', 2);
    return v === undefined ? k in e.Actor.Attributes : e.Actor.Attributes[k] === v;
  })) return false;
  return true;
}

/** `since`/`until` as Docker takes them: unix seconds with an optional fraction. */
function unixNs(text: string | null): number | undefined {
  if (!text) return undefined;
  const n = Number(text);
  if (!Number.isFinite(n)) throw Object.assign(new Error(`invalid time ${JSON.stringify(text)}: want unix seconds`), { kind: 'invalid-argument' });
  return n * 1e9;
}

export function registerSystem(router: Router, api: Api): void {
  // Read once: the hierarchy does not change under a running daemon.
  const cgroupVersion = existsSync('/sys/fs/cgroup/cgroup.controllers') ? '2' : '1';
  router.get('/_ping', ping);
  router.head('/_ping', ping);

  router.get('/version', (_req, res) => {
    const s = api.settings;
    const v = {
      Platform: { Name: 'tsrun' },
      Components: [{ Name: 'Engine', Version: s.version, Details: { ApiVersion: API_VERSION, Arch: GOARCH[arch()] ?? arch(), BuildTime: '', Experimental: 'false', GitCommit: s.commit, GoVersion: `node ${process.version}`, KernelVersion: release(), MinAPIVersion: '1.24', Os: 'linux' } }],
      Version: s.version,
      ApiVersion: API_VERSION,
      MinAPIVersion: '1.24',
      GitCommit: s.commit,
      GoVersion: `node ${process.version}`,
      Os: 'linux',
      Arch: GOARCH[arch()] ?? arch(),
      KernelVersion: release(),
      BuildTime: '',
    };
    sendJson(res, 200, v);
  });

  router.get('/info', async (_req, res) => {
    const s = api.settings;
    const all = api.containers.list();
    const count = (st: string) => all.filter((c) => c.State.Status === st).length;
    const images = await api.engine.listImages();
    sendJson(res, 200, {
      ID: '',
      Containers: all.length,
      ContainersRunning: count('running') - all.filter((c) => c.State.Paused).length,
      ContainersPaused: all.filter((c) => c.State.Status === 'running' && c.State.Paused).length,
      ContainersStopped: all.length - count('running'),
      Images: new Set(images.map((i) => i.id)).size,
      Driver: 'overlay',
      DriverStatus: [],
      Plugins: { Volume: [], Network: ['host', 'null'], Authorization: null, Log: ['json-file'] },
      MemoryLimit: true,
      SwapLimit: true,
      CpuCfsPeriod: true,
      CpuCfsQuota: true,
      CPUShares: true,
      CPUSet: true,
      PidsLimit: true,
      IPv4Forwarding: false,
      BridgeNfIptables: false,
      BridgeNfIp6tables: false,
      Debug: false,
      NFd: 0,
      OomKillDisable: false,
      NGoroutines: 0,
      SystemTime: new Date().toISOString(),
      LoggingDriver: 'json-file',
      CgroupDriver: 'cgroupfs',
      CgroupVersion: cgroupVersion,
      NEventsListener: 0,
      KernelVersion: release(),
      OperatingSystem: 'linux',
      OSVersion: '',
      OSType: 'linux',
      Architecture: UNAME_ARCH[arch()] ?? arch(),
      IndexServerAddress: 'https://index.docker.io/v1/',
      RegistryConfig: {
        AllowNondistributableArtifactsCIDRs: [],
        AllowNondistributableArtifactsHostnames: [],
        InsecureRegistryCIDRs: ['127.0.0.0/8'],
        IndexConfigs: {},
        Mirrors: s.registryMirrors,
      },
      NCPU: cpus().length,
      MemTotal: totalmem(),
      GenericResources: null,
      DockerRootDir: s.dataRoot,
      HttpProxy: '',
      HttpsProxy: '',
      NoProxy: '',
      Name: hostname(),
      Labels: [],
      ExperimentalBuild: false,
      ServerVersion: s.version,
      Runtimes: { tsrun: { path: s.runtime } },
      DefaultRuntime: 'tsrun',
      Swarm: { NodeID: '', NodeAddr: '', LocalNodeState: 'inactive', ControlAvailable: false, Error: '', RemoteManagers: null },
      LiveRestoreEnabled: true,
      Isolation: '',
      InitBinary: api.settings.initBinary,
      ContainerdCommit: { ID: '', Expected: '' },
      RuncCommit: { ID: '', Expected: '' },
      InitCommit: { ID: '', Expected: '' },
      // dockerd's form; `docker info` prints it under Security Options.
      SecurityOptions: api.settings.seccompProfile.startsWith('/') ? ['name=seccomp,profile=default'] : [],
      Warnings: [],
    });
  });

  router.get('/events', async (req, res) => {
    const since = unixNs(req.query.get('since'));
    const until = unixNs(req.query.get('until'));
    const filters = parseFilters(req.query.get('filters'));
    res.writeHead(200, { 'Content-Type': 'application/json' });
    // At once, as dockerd flushes them: the client's Events() returns only once it has the headers
    // (docker stats without names waits for that before it lists the containers).
    res.flushHeaders();
    const write = (e: EngineEvent) => {
      if (until !== undefined && e.timeNano > until) return;
      if (!eventMatches(e, filters)) return;
      res.write(JSON.stringify({ ...e, status: e.Action, id: e.Actor.ID, from: e.Actor.Attributes.image }) + '\n');
    };
    for (const e of api.containers.events.since(since ?? Date.now() * 1e6)) write(e);
    if (until !== undefined && until <= Date.now() * 1e6) return void res.end();
    const unsubscribe = api.containers.events.subscribe(write);
    const timer = until !== undefined ? setTimeout(() => res.end(), until / 1e6 - Date.now()) : undefined;
    res.on('close', () => {
      unsubscribe();
      clearTimeout(timer);
    });
  });
}
