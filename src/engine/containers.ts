// Containers as a daemon runs them: Docker's model (create → running →
// exited → removed) over one tsrun-shim per container (docs/shim.md). Records
// live under <data-root>/containers/<id>/ (containerRecord.ts); the bundle is
// built by src/image from the image config and the request (a writable
// overlay snapshot, removed with the container); the shim's directory is
// <exec-root>/<id>. An index in memory answers lists and lookups; every
// change is written to the record before it is reported.
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import { constants as osConstants } from 'node:os';
import { join } from 'node:path';
import { RuntimeError } from '../common/errors.js';
import { SHIM } from '../common/generated/shimProtocol.js';
import { ContainerRecords, ZERO_TIME, type ContainerConfig, type ContainerRecord, type ContainerStatus, type HostConfig, type NetworkEndpointConfig } from './containerRecord.js';
import { familiarName, formatReference, parseReference } from '../image/reference.js';
import type { Engine } from './engine.js';
import { EventLog } from './events.js';
import { applyHostResources, checkHostResources, withDockerDefaults } from './hostConfigSpec.js';
import { readHostFacts } from './hostFacts.js';
import type { EngineProfile } from './seccompProfile.js';
import { readLogs, type LogEntry, type LogQuery, type LogSink } from './logs.js';
import { generateName, VALID_NAME } from './names.js';
import { nextBackoff, NO_RESTART, restartsAtDaemonStart, shouldRestart } from './restartPolicy.js';
import { readExitRecord, ShimConnection, shimRequest, startShim, type ExitRecord } from './shimClient.js';
import { OciRuntime } from './ociRuntime.js';
import { topOf, type Top } from './top.js';
import { writeStats, type DockerStats, type StatsQuery } from './stats.js';
import type { Change } from './changes.js';
import { DEFAULT_NETWORK, ipRoutes, Networking, type Endpoint } from '../network/networking.js';
import { chooseNetworkSubnet, describeNetwork, NetworkStore, type NetworkCreateRequest, type NetworkRecord } from '../network/networkStore.js';
import { NetworkDns } from '../network/networkDns.js';
import { upstreamsFromResolvConf } from '../network/dns/upstreams.js';
import { contains, parseCidr, parseIp, parseRoutes } from '../network/subnet.js';
import { reservePorts, type PortReservation } from '../network/portReservation.js';
import { exposedKeys, portRequests, type PortRequest } from '../network/ports.js';
import { onDefaultBridge, rewriteBundleForNetwork } from './networkHooks.js';
import { Execs } from './execs.js';
import { effectiveHealthcheck, HealthMonitor, MAX_OUTPUT as MAX_HEALTH_OUTPUT, type HealthConfig, type HealthState } from './health.js';
import { predefinedNetworkId } from '../network/networkStore.js';
import { Volumes } from './volumes.js';
import { bundleWithVolumes, configVolumes, planContainerMounts } from './volumeHooks.js';

export type { Change, ContainerConfig, ContainerRecord, ContainerStatus, DockerStats, Endpoint, HostConfig, LogEntry, LogQuery, NetworkEndpointConfig, StatsQuery, Top };

export interface ContainersOptions {
  dataRoot: string;
  /** Shim directories: <execRoot>/<id>. */
  execRoot: string;
  runtime: string;
  runtimeRoot: string;
  shimBinary: string;
  /** What `--init` runs as pid 1 (hostFacts.findInitBinary); undefined: --init is refused. */
  initBinary?: string;
  /** Seconds a runtime call may take in the shim (tsd --runtime-timeout); default 60. */
  runtimeTimeout?: number;
  /** The default seccomp profile (hostFacts.loadSeccompProfile); undefined: none. */
  seccompProfile?: EngineProfile;
  onWarning: (message: string) => void;
  /** Docker's --bip for the default bridge network (else a subnet no route overlaps). */
  bip?: string;
  /** Docker's --bridge: the default network's bridge (default tsd0); `none`: no default network, default and bridge run as none. */
  bridge?: string;
  /** Where the CNI plugins are (default /usr/lib/cni, /opt/cni/bin). */
  cniPath?: string[];
  /** Docker's --dns: where user networks' name servers forward other names (default: the host's resolv.conf). */
  dns?: string[];
}

/** What a create request asks for, after the API layer checked its types. */
export interface CreateRequest {
  name?: string;
  config: ContainerConfig;
  hostConfig: HostConfig;
  /** --ip, --network-alias on the network of hostConfig.NetworkMode. */
  endpoint?: NetworkEndpointConfig;
}

export type WaitCondition = 'not-running' | 'next-exit' | 'removed';

/** A client's end of an attach: output goes to `write`, the result feeds stdin. */
export interface AttachSink {
  write(stream: 1 | 2, data: Buffer): void;
}

export interface Attachment {
  input(data: Buffer): Promise<void>;
  closeInput(): Promise<void>;
  /** Ends the attachment from the client's side (a disconnect). */
  detach(): void;
  /** Resolves when the output is over (the process exited, or the shim went away). */
  done: Promise<void>;
}

const DEFAULT_STOP_TIMEOUT_S = 10;

/** Docker's messages, the kind deciding the HTTP status. */
const noSuchContainer = (name: string) => new RuntimeError({ kind: 'not-found', step: `No such container: ${name}` });

interface Live {
  record: ContainerRecord;
  /** Resolved at each exit (next-exit waiters take the current one). */
  nextExit: Deferred<number>;
  removed: Deferred<number>;
  /** The WAIT connection while the container runs. */
  monitor?: ShimConnection;
  /** A removal is under way. */
  removing: boolean;
  /** Settles when a start has recorded itself: an exit that races it waits, so the
   * record never says running after the exit and `start` always precedes `die`. */
  starting?: Promise<void>;
  /** A restart policy's start, waiting out its backoff. */
  restartTimer?: NodeJS.Timeout;
  /** The last backoff (ms), doubled at each policy restart; 0 or absent: none yet. */
  backoffMs?: number;
  /** A restart policy's start under way: start, stop, kill and remove wait for it. */
  relaunching?: Promise<void>;
}

interface Deferred<T> {
  promise: Promise<T>;
  resolve(v: T): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

function signalNumber(sig: string | number | undefined, fallback: number): number {
  if (sig === undefined || sig === '') return fallback;
  if (typeof sig === 'number' || /^\d+$/.test(sig)) return Number(sig);
  const name = sig.toUpperCase().startsWith('SIG') ? sig.toUpperCase() : `SIG${sig.toUpperCase()}`;
  const n = (osConstants.signals as Record<string, number>)[name];
  if (n === undefined) throw new RuntimeError({ kind: 'invalid-argument', step: `Invalid signal: ${sig}` });
  return n;
}

/** Config.ExposedPorts as Docker keeps it: the request's, the image's EXPOSE and every published port. */
function exposedPortsOf(c: ContainerConfig, image: string[], h: HostConfig): Pick<ContainerConfig, 'ExposedPorts'> {
  const keys = exposedKeys({ ...Object.fromEntries(image.map((k) => [k, {}])), ...(c.ExposedPorts ?? {}) }, h.PortBindings);
  return keys.length ? { ExposedPorts: Object.fromEntries(keys.map((k) => [k, {}])) } : {};
}

/** The name Docker's "No such image" gives: familiar, with its tag (busybox2 → busybox2:latest). */
function imageNameAsDocker(image: string): string {
  try {
    return familiarName(formatReference(parseReference(image)));
  } catch {
    return image;
  }
}

export class Containers {
  readonly events = new EventLog();
  private readonly records: ContainerRecords;
  private readonly byId = new Map<string, Live>();
  /** Name (with `/`) → id, reserved before the container exists. */
  private readonly names = new Map<string, string>();
  private readonly networking: Networking;
  /** User-defined networks (docker network create). */
  readonly networks: NetworkStore;
  /** User networks' name servers. */
  private readonly dns: NetworkDns;
  /** Container ID → the host ports held for its published ports while it runs. */
  private readonly heldPorts = new Map<string, PortReservation>();
  /** Named and anonymous volumes (volumes.ts); who uses one is read from the records here. */
  readonly volumes: Volumes;
  /** docker exec sessions (execs.ts), health probes among them. */
  readonly execs: Execs;
  /** HEALTHCHECK probes of running containers (health.ts). */
  private readonly health: HealthMonitor;

  constructor(private readonly engine: Engine, private readonly o: ContainersOptions) {
    this.records = new ContainerRecords(o.dataRoot);
    this.networks = new NetworkStore(o.dataRoot, o.onWarning);
    this.dns = new NetworkDns({
      onWarning: o.onWarning,
      upstreams: async () => o.dns?.length ? o.dns.map((host) => ({ host, port: 53 })) : upstreamsFromResolvConf(await readFile('/etc/resolv.conf', 'utf8').catch(() => '')),
    });
    this.networking = new Networking({
      dataRoot: o.dataRoot, execRoot: o.execRoot, bip: o.bip, bridge: o.bridge, cniPath: o.cniPath, onWarning: o.onWarning,
      userNetwork: (name) => {
        const n = this.networks.find(name);
        return n && n.Name === name ? describeNetwork(n) : undefined;
      },
    });
    const users = (name: string, running: boolean) => [...this.byId.values()].filter((l) => (!running || l.record.State.Status === 'running') && (l.record.Mounts ?? []).some((m) => m.type === 'volume' && m.name === name)).map((l) => l.record.Id);
    this.volumes = new Volumes(o.dataRoot, this.events, { users: (n) => users(n, false), runningUsers: (n) => users(n, true) }, o.onWarning);
    this.execs = new Execs(this);
    this.health = new HealthMonitor({
      runnable: (id) => {
        const r = this.byId.get(id)?.record;
        return r?.State.Status === 'running' && !r.State.Paused;
      },
      probe: (id, argv, timeoutMs) => this.probe(id, argv, timeoutMs),
      onStatus: (id, status) => {
        const r = this.byId.get(id)?.record;
        if (r) this.events.emit('container', `health_status: ${status}`, id, this.attributes(r));
      },
    });
  }

  /** One health probe: the check exec'd in the container, its output kept (up to 4096 bytes), killed at the timeout (Docker's exit -1). */
  private async probe(id: string, argv: string[], timeoutMs: number): Promise<{ exitCode: number; output: string }> {
    const e = this.execs.create(id, { AttachStdin: false, AttachStdout: true, AttachStderr: true, Tty: false, Env: [], Cmd: argv, WorkingDir: '', User: '', Privileged: false });
    const chunks: Buffer[] = [];
    let size = 0;
    let timer: NodeJS.Timeout | undefined;
    try {
      const a = await this.execs.start(e.ID, false, {
        write: (_s, data) => {
          if (size < MAX_HEALTH_OUTPUT) chunks.push(data);
          size += data.length;
        },
      });
      const timedOut = await Promise.race([a.done.then(() => false), new Promise<boolean>((r) => (timer = setTimeout(() => r(true), timeoutMs)))]);
      if (timedOut) {
        if (e.Pid > 0) try { process.kill(e.Pid, 'SIGKILL'); } catch { /* gone meanwhile */ }
        a.detach();
        return { exitCode: -1, output: `Health check exceeded timeout (${timeoutMs / 1000}s)` };
      }
      return { exitCode: e.ExitCode ?? -1, output: Buffer.concat(chunks).toString('utf8') };
    } finally {
      clearTimeout(timer);
      this.execs.forget(e.ID);
    }
  }

  /** The container's health while it has a check (inspect's State.Health). */
  healthOf(ref: string): HealthState | undefined {
    const r = this.find(ref).record;
    return r.Config.Healthcheck ? this.health.state(r.Id) : undefined;
  }

  /** Whether a container of this network mode gets its own namespace on a bridge (the default one or a user network's). */
  private onBridge(mode: string | undefined): boolean {
    return this.bridgeNetworkOf(mode) !== undefined;
  }

  private shimDir(id: string): string {
    return join(this.o.execRoot, id);
  }

  /** Docker's lookup: full ID, name, then a unique ID prefix. */
  private find(ref: string): Live {
    const exact = this.byId.get(ref);
    if (exact) return exact;
    const byName = this.names.get(ref.startsWith('/') ? ref : `/${ref}`);
    if (byName && this.byId.has(byName)) return this.byId.get(byName)!;
    if (/^[a-f0-9]+$/.test(ref)) {
      const hits = [...this.byId.keys()].filter((id) => id.startsWith(ref));
      if (hits.length === 1) return this.byId.get(hits[0])!;
      // Docker's message, word for word (moby container/view.go); its status is a 400.
      if (hits.length > 1) throw new RuntimeError({ kind: 'invalid-argument', step: `Multiple IDs found with provided prefix: ${ref}` });
    }
    throw noSuchContainer(ref);
  }

  get(ref: string): ContainerRecord {
    return this.find(ref).record;
  }

  list(): ContainerRecord[] {
    return [...this.byId.values()].map((l) => l.record).sort((a, b) => b.Created.localeCompare(a.Created));
  }

  private attributes(r: ContainerRecord, extra: Record<string, string> = {}): Record<string, string> {
    return { ...r.Config.Labels, image: r.Config.Image, name: r.Name.slice(1), ...extra };
  }

  private async save(live: Live): Promise<void> {
    await this.records.write(live.record);
  }

  // Recovery

  /**
   * At start, before the daemon listens: every record read back; a container
   * the records call running or created is asked through its shim, and one
   * whose shim is gone gets the exit its shim recorded, or is marked dead
   * (never an exit code nobody saw).
   */
  async recover(): Promise<void> {
    // Events first, so the dies found below are logged after what was logged before.
    await this.events.persist(join(this.o.dataRoot, 'events.log'), (e) => this.o.onWarning(`writing the event log: ${e.message}`));
    // Endpoints before exits: an exit found below tears its network down with the ADD's result.
    await this.networks.load();
    await this.networking.load();
    await this.volumes.load();
    for (const record of this.records.readAll((path, why) => this.o.onWarning(`skipping container record ${path}: ${why}`))) {
      const live: Live = { record, nextExit: deferred(), removed: deferred(), removing: false };
      this.byId.set(record.Id, live);
      this.names.set(record.Name, record.Id);
      if (record.State.Status !== 'running' && record.State.Status !== 'created') continue;
      const dir = this.shimDir(record.Id);
      let status: string | undefined;
      let pid = 0;
      try {
        const [p, s] = await shimRequest(dir, [SHIM.STATE]);
        pid = Number(p);
        status = s;
      } catch { /* the shim is gone */ }
      if (status === 'running') {
        record.State.Status = 'running';
        record.State.Pid = pid;
        this.monitor(live);
        await this.reholdPorts(record.Id);
      } else if (status === 'created') {
        record.State.Status = 'created';
      } else {
        const exit = await readExitRecord(dir);
        if (exit) await this.exited(live, exit);
        else await this.shimLost(live);
      }
    }
    // Docker at daemon start: always comes back, unless-stopped unless the user stopped it.
    // (A die found above already had its policy applied by `exited`.)
    for (const live of this.byId.values()) {
      const r = live.record;
      if (r.State.Status !== 'exited' || live.restartTimer) continue;
      const policy = r.HostConfig.RestartPolicy ?? NO_RESTART;
      const manuallyStopped = r.HasBeenManuallyStopped === true;
      if (restartsAtDaemonStart(policy, manuallyStopped, r.State.StartedAt !== ZERO_TIME)) {
        // Started as by the user (always even after a docker stop); written by the start.
        r.HasBeenManuallyStopped = false;
        this.scheduleRestart(live, 0, false);
      } else if (policy.Name === 'on-failure' && shouldRestart(policy, { exitCode: r.State.ExitCode, restartCount: r.RestartCount, manuallyStopped })) {
        // A restart that was waiting out its backoff when the daemon stopped.
        this.scheduleRestart(live, 0, true);
      }
    }
    await this.reconcileNetworks();
    for (const live of this.byId.values()) {
      if (live.record.State.Status !== 'running') continue;
      await this.registerNames(live.record);
      // Health restarts from `starting` after a daemon restart, as dockerd's.
      this.health.started(live.record.Id, effectiveHealthcheck(live.record.Config.Healthcheck, undefined));
    }
  }

  // Create

  async create(req: CreateRequest): Promise<ContainerRecord> {
    let name = req.name;
    if (name) {
      if (!VALID_NAME.test(name)) throw new RuntimeError({ kind: 'invalid-argument', step: `Invalid container name (${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed` });
      name = name.startsWith('/') ? name : `/${name}`;
    } else name = `/${generateName((n) => this.names.has(`/${n}`))}`;
    const holder = this.names.get(name);
    if (holder) throw new RuntimeError({ kind: 'exists', step: `Conflict. The container name "${name}" is already in use by container "${holder}". You have to remove (or rename) that container to be able to reuse that name.` });
    const mode = this.networkModeOf(req.hostConfig.NetworkMode || 'default');
    this.checkEndpointConfig(mode, req.endpoint);
    // Mounts are checked now (400s naming the value); volumes are made once the rootfs is there.
    const mountPlans = planContainerMounts(req, [], (ref) => this.find(ref).record);
    // Published ports are checked now (400s naming the field) and reserved at each start.
    portRequests(req.config.ExposedPorts, req.hostConfig.PortBindings, req.hostConfig.PublishAllPorts === true);
    // Resources and security options are checked before anything is made (dockerd's 400s).
    const hostConfig = withDockerDefaults(req.hostConfig);
    const facts = await readHostFacts(this.o, hostConfig.Privileged === true);
    checkHostResources(hostConfig, facts);
    let image;
    try {
      image = await this.engine.findImage(req.config.Image);
    } catch {
      throw new RuntimeError({ kind: 'not-found', step: `No such image: ${imageNameAsDocker(req.config.Image)}` });
    }
    const imageHealthcheck = (await this.engine.imageDetails(image.name).catch(() => undefined))?.config.config?.Healthcheck;
    const id = randomBytes(32).toString('hex');
    // The name is held from here, so two creates cannot both take it.
    this.names.set(name, id);
    const dir = this.shimDir(id);
    let bundleMade = false;
    let netnsPinned = false;
    let volumesMade: string[] = [];
    try {
      const cdir = await this.records.makeDir(id);
      const bundle = join(cdir, 'bundle');
      const c = req.config;
      // Docker: an Entrypoint of [""] means none (the Cmd alone runs).
      const entrypoint = c.Entrypoint ? c.Entrypoint.filter((a, i) => !(i === 0 && a === '' && c.Entrypoint!.length === 1)) : undefined;
      await this.engine.createContainer(image.name, {
        id,
        args: c.Cmd ?? undefined,
        entrypoint,
        env: c.Env,
        user: c.User || undefined,
        cwd: c.WorkingDir || undefined,
        terminal: c.Tty,
        hostNetwork: mode === 'host',
        hostname: c.Hostname || id.slice(0, 12),
        cgroupParent: '/tsd',
        mounts: [],
        adjust: (spec) => applyHostResources(spec, hostConfig, facts),
      }, bundle);
      bundleMade = true;
      const volumeMounts = await bundleWithVolumes(bundle, mountPlans, req, (ref) => this.find(ref).record, this.volumes);
      volumesMade = volumeMounts.created;
      if (mode.startsWith('container:')) await this.joinNetworkOf(mode.slice('container:'.length), bundle);
      if (this.onBridge(mode)) {
        await this.prepareNetwork(id, bundle, c.Hostname || id.slice(0, 12), this.networks.find(mode)?.Gateway, hostConfig.ExtraHosts);
        netnsPinned = true;
      }
      const spec = await this.engine.containerSpec(bundle);
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const pid = await startShim({ binary: this.o.shimBinary, id, bundle, runtime: this.o.runtime, runtimeRoot: this.o.runtimeRoot, dir, tty: c.Tty, stdin: c.OpenStdin, logMaxSize: req.hostConfig.LogConfig?.maxSize, logMaxFile: req.hostConfig.LogConfig?.maxFile, runtimeTimeout: this.o.runtimeTimeout });
      const record: ContainerRecord = {
        Id: id,
        Name: name,
        Created: new Date().toISOString(),
        Image: image.name,
        ImageId: image.config,
        Path: spec.args[0] ?? '',
        Args: spec.args.slice(1),
        Config: { ...c, Hostname: c.Hostname || id.slice(0, 12), Labels: c.Labels ?? {}, ...exposedPortsOf(c, spec.exposedPorts, hostConfig), ...configVolumes(c, volumeMounts.imageVolumes), ...healthcheckOf(c, imageHealthcheck) },
        HostConfig: { ...hostConfig, NetworkMode: mode },
        State: { Status: 'created', Pid: pid, ExitCode: 0, OOMKilled: false, StartedAt: ZERO_TIME, FinishedAt: ZERO_TIME, Error: '' },
        RestartCount: 0,
        ...(volumeMounts.mounts.length ? { Mounts: volumeMounts.mounts } : {}),
        ...(this.bridgeNetworkOf(mode) !== undefined ? { Networks: { [this.bridgeNetworkOf(mode)!]: req.endpoint ?? {} } } : {}),
      };
      const live: Live = { record, nextExit: deferred(), removed: deferred(), removing: false };
      await this.records.write(record);
      this.byId.set(id, live);
      this.events.emit('container', 'create', id, this.attributes(record));
      return record;
    } catch (e) {
      this.names.delete(name);
      // Nothing of a failed create stays: the shim (if it got as far), the bundle, the record.
      // A cleanup step that fails is reported, never in place of the create's own error.
      const warn = (what: string) => (c: unknown) => this.o.onWarning(`cleaning up the failed create of ${id}: ${what}: ${(c as Error).message}`);
      await shimRequest(dir, [SHIM.DELETE]).catch(() => {});
      if (bundleMade) await this.engine.removeContainer(id, { force: true }).catch(warn('removing its bundle'));
      if (netnsPinned) await this.networking.unpin(id).catch(warn('removing its network namespace'));
      await this.volumes.discard(volumesMade).catch(warn('removing the volumes it made'));
      await rm(dir, { recursive: true, force: true }).catch(warn('removing its shim directory'));
      await rm(this.records.containerDir(id), { recursive: true, force: true }).catch(warn('removing its record'));
      // Past the image lookup nothing is the client's "no such" (docker run pulls on a 404 from create).
      if ((e as RuntimeError).kind === 'not-found') throw new RuntimeError({ kind: 'system', step: (e as Error).message });
      throw e;
    }
  }

  // Start, exit

  /** false when it was running already (Docker answers 304). */
  async start(ref: string): Promise<boolean> {
    const live = this.find(ref);
    const r = live.record;
    await this.relaunched(live);
    if (live.removing) throw new RuntimeError({ kind: 'invalid-state', step: `container ${r.Id} is being removed` });
    if (r.State.Status === 'running') return false;
    // A start by the user: policies apply again, counted from 0 (as Docker's reset restart manager).
    this.cancelRestart(live);
    r.HasBeenManuallyStopped = false;
    r.RestartCount = 0;
    live.backoffMs = 0;
    return this.launch(live);
  }

  /** Runs the container (again): the user's start and a restart policy's. */
  private async launch(live: Live): Promise<boolean> {
    const r = live.record;
    if (live.removing) throw new RuntimeError({ kind: 'invalid-state', step: `container ${r.Id} is being removed` });
    if (r.State.Status === 'running') return false;
    const dir = this.shimDir(r.Id);
    if (r.State.Status === 'exited' || r.State.Status === 'dead') {
      // A finished container runs again in a new shim (the old one ends with DELETE; its log stays).
      await shimRequest(dir, [SHIM.DELETE]).catch(() => {});
      // The previous run's files go. A killed shim's shim.sock and shim.pid are the new shim's to
      // replace: it removes a stale socket before its directory watch starts.
      await Promise.all(['exit', 'init.pid', 'runtime.log'].map((f) => rm(join(dir, f), { force: true })));
      await mkdir(dir, { recursive: true, mode: 0o700 });
      if (this.onBridge(r.HostConfig.NetworkMode)) await this.repinNetwork(r.Id);
      if (r.HostConfig.NetworkMode.startsWith('container:')) this.joinedTarget(r.HostConfig.NetworkMode.slice('container:'.length));
      r.State.Pid = await startShim({ binary: this.o.shimBinary, id: r.Id, bundle: join(this.records.containerDir(r.Id), 'bundle'), runtime: this.o.runtime, runtimeRoot: this.o.runtimeRoot, dir, tty: r.Config.Tty, stdin: r.Config.OpenStdin, logMaxSize: r.HostConfig.LogConfig?.maxSize, logMaxFile: r.HostConfig.LogConfig?.maxFile, runtimeTimeout: this.o.runtimeTimeout });
    }
    const started = deferred<void>();
    live.starting = started.promise;
    try {
      // Device-backed volumes (type=tmpfs, …) mounted before anything else is held.
      await this.volumes.mounted(r.Id, r.Mounts);
      // The WAIT goes first, so an exit right after START is not missed.
      this.monitor(live);
      const networks = this.networksOf(r);
      if (this.onBridge(r.HostConfig.NetworkMode) && networks.length) {
        // The host ports first: one that is taken refuses the start before any CNI ADD.
        const ports = await this.holdPorts(r.Id, portRequests(r.Config.ExposedPorts, r.HostConfig.PortBindings, r.HostConfig.PublishAllPorts === true));
        try {
          // The ports go with the first network (eth0), as Docker publishes them on one endpoint.
          for (const [i, [network, config]] of networks.entries()) {
            await this.networking.attach(r.Id, r.Config.Hostname ?? '', join(this.records.containerDir(r.Id), 'hosts'), i === 0 ? ports : [], network, config.IPv4Address, r.HostConfig.ExtraHosts);
            this.networkEvent('connect', network, r.Id);
          }
          await this.writeResolvConf(r);
        } catch (e) {
          await this.networking.detach(r.Id).catch((d) => this.o.onWarning(`undoing the network of the failed start of ${r.Id}: ${(d as Error).message}`));
          await this.releasePorts(r.Id);
          throw e;
        }
        await this.registerNames(r);
      }
      await shimRequest(dir, [SHIM.START]).catch(async (e) => {
        // Nothing of the network stays after a failed start (the exit, if any, unpins).
        await this.networking.detach(r.Id).catch((d) => this.o.onWarning(`undoing the network of the failed start of ${r.Id}: ${(d as Error).message}`));
        await this.releasePorts(r.Id);
        throw e;
      });
      r.State = { ...r.State, Status: 'running', StartedAt: new Date().toISOString(), FinishedAt: ZERO_TIME, ExitCode: 0, OOMKilled: false, Error: '' };
      await this.save(live);
      this.events.emit('container', 'start', r.Id, this.attributes(r));
      this.health.started(r.Id, effectiveHealthcheck(r.Config.Healthcheck, undefined));
    } finally {
      live.starting = undefined;
      started.resolve();
    }
    return true;
  }

  /** Holds a WAIT on the shim; its answer (or the exit file, when the shim went away) ends the run. */
  private monitor(live: Live): void {
    if (live.monitor) return;
    const dir = this.shimDir(live.record.Id);
    let conn: ShimConnection;
    try {
      conn = ShimConnection.open(dir);
    } catch (e) {
      this.o.onWarning(`cannot watch container ${live.record.Id}: ${(e as Error).message}`);
      return;
    }
    live.monitor = conn;
    conn.wait().then(
      (exit) => exit,
      async () => readExitRecord(dir),
    ).then(async (exit) => {
      conn.close();
      live.monitor = undefined;
      if (exit) await this.exited(live, exit);
      else if (live.record.State.Status === 'running' && !live.removing) await this.shimLost(live);
    }).catch((e) => this.o.onWarning(`container ${live.record.Id}: recording its exit: ${(e as Error).message}`));
  }

  /**
   * The shim died without an exit record (killed): the container's processes would run on
   * unwatched, their output and exit lost. While the runtime still has them they are killed
   * (delete --force, which also removes its state and cgroups) and the exit recorded as the
   * SIGKILL it is (137), State.Error saying why; the die, waiters and the restart policy follow
   * as for any exit. When they had already ended, the exit status is unknown: dead.
   */
  private async shimLost(live: Live): Promise<void> {
    const r = live.record;
    const runtime = this.runtime();
    let state = await runtime.state(r.Id);
    // A state call that failed (not "stopped") says nothing of the processes: asked once more.
    if (!state.status) state = await new Promise((ok) => setTimeout(ok, 200)).then(() => runtime.state(r.Id));
    const status = state.status;
    await runtime.forceDelete(r.Id);
    const why = 'the container\'s shim went away (killed?) without an exit record';
    if (status === 'running' || status === 'paused' || status === 'created') {
      r.State = { ...r.State, Error: `${why}: the container was killed (SIGKILL) so that nothing runs unwatched` };
      await this.exited(live, { code: 137, oom: false, time: new Date().toISOString() });
      return;
    }
    r.State = { ...r.State, Status: 'dead', Pid: 0, Error: `${why} and its processes had ended (${state.answer}): the exit status is unknown` };
    await this.save(live);
    live.nextExit.resolve(-1);
    live.nextExit = deferred();
  }

  private async exited(live: Live, exit: ExitRecord): Promise<void> {
    if (live.starting) await live.starting;
    const r = live.record;
    r.State = { ...r.State, Status: 'exited', Pid: 0, ExitCode: exit.code, OOMKilled: exit.oom, FinishedAt: exit.time, Paused: false };
    // An exit is never lost to a record that cannot be written (a full disk): the die, the
    // waiters and the policy go on; the shim's exit file has it for a recovery meanwhile.
    await this.save(live).catch((e) => this.o.onWarning(`recording the exit of ${r.Id}: ${(e as Error).message}`));
    this.health.stopped(r.Id);
    // Before anyone hears of the exit, so a stop or wait returns with the network torn down.
    await this.releaseNetwork(r.Id);
    await this.volumes.unmounted(r.Id, r.Mounts).catch((e) => this.o.onWarning(`container ${r.Id}: unmounting its volumes: ${(e as Error).message}`));
    if (exit.oom) this.events.emit('container', 'oom', r.Id, this.attributes(r));
    this.events.emit('container', 'die', r.Id, this.attributes(r, { exitCode: String(exit.code) }));
    const d = live.nextExit;
    live.nextExit = deferred();
    d.resolve(exit.code);
    this.applyRestartPolicy(live, exit.code);
    if (r.HostConfig.AutoRemove && !live.removing) await this.remove(r.Id, { force: true, volumes: true }).catch((e) => this.o.onWarning(`auto-removing ${r.Id}: ${(e as Error).message}`));
  }

  // Restart policies

  /** After an exit: a start after the backoff when the policy says so. */
  private applyRestartPolicy(live: Live, exitCode: number): void {
    const r = live.record;
    if (live.removing) return;
    if (!shouldRestart(r.HostConfig.RestartPolicy ?? NO_RESTART, { exitCode, restartCount: r.RestartCount, manuallyStopped: r.HasBeenManuallyStopped === true })) return;
    const ranMs = Date.parse(r.State.FinishedAt) - Date.parse(r.State.StartedAt);
    live.backoffMs = nextBackoff(live.backoffMs ?? 0, Number.isFinite(ranMs) ? ranMs : 0);
    this.scheduleRestart(live, live.backoffMs, true);
  }

  private scheduleRestart(live: Live, delayMs: number, counted: boolean): void {
    this.cancelRestart(live);
    live.restartTimer = setTimeout(() => {
      live.restartTimer = undefined;
      const r = live.record;
      if (live.removing || r.HasBeenManuallyStopped || this.byId.get(r.Id) !== live || r.State.Status === 'running') return;
      if (counted) r.RestartCount++;
      live.relaunching = this.launch(live).then(() => {}, async (e) => {
        this.o.onWarning(`restarting container ${r.Id} (restart policy ${r.HostConfig.RestartPolicy?.Name}): ${(e as Error).message}`);
        r.State = { ...r.State, Error: (e as Error).message };
        await this.save(live).catch(() => {});
      }).finally(() => {
        live.relaunching = undefined;
      });
    }, delayMs);
  }

  private cancelRestart(live: Live): void {
    clearTimeout(live.restartTimer);
    live.restartTimer = undefined;
  }

  /** docker stop and kill: no policy restarts the container until it is started again; written before the signal, so the exit sees it. */
  private async stoppedByUser(live: Live): Promise<void> {
    this.cancelRestart(live);
    if (live.record.HasBeenManuallyStopped) return;
    live.record.HasBeenManuallyStopped = true;
    // A record that cannot be written (a full disk) does not keep the user from stopping the
    // container: the flag is written with the next record that can be.
    await this.save(live).catch((e) => this.o.onWarning(`recording that ${live.record.Id} was stopped: ${(e as Error).message}`));
  }

  /** Whether a restart policy's start is pending or under way (inspect's Restarting); once the
   * new run is recorded as running it is running, even while that record is being saved. */
  isRestarting(ref: string): boolean {
    const live = this.find(ref);
    if (live.record.State.Status === 'running') return false;
    return live.restartTimer !== undefined || live.relaunching !== undefined;
  }

  /** Waits for a restart policy's start under way, so a client's verb sees where it ended. */
  private async relaunched(live: Live): Promise<void> {
    while (live.relaunching) await live.relaunching;
  }

  // Signals

  async kill(ref: string, signal?: string): Promise<void> {
    const live = this.find(ref);
    await this.relaunched(live);
    if (live.record.State.Status !== 'running') throw new RuntimeError({ kind: 'invalid-state', step: `Cannot kill container: ${ref}: Container ${live.record.Id} is not running` });
    const sig = signalNumber(signal, osConstants.signals.SIGKILL);
    await this.stoppedByUser(live);
    await shimRequest(this.shimDir(live.record.Id), [SHIM.KILL, String(sig), '0']);
    this.events.emit('container', 'kill', live.record.Id, this.attributes(live.record, { signal: String(sig) }));
    await this.thawForSignal(live);
  }

  /** The stop signal, then SIGKILL after `timeoutS`; false when it was not running (304). */
  async stop(ref: string, timeoutS?: number): Promise<boolean> {
    const live = this.find(ref);
    const r = live.record;
    await this.stoppedByUser(live);
    await this.relaunched(live);
    if (r.State.Status !== 'running') return false;
    const exited = live.nextExit.promise;
    const sig = signalNumber(r.Config.StopSignal, osConstants.signals.SIGTERM);
    const wait = timeoutS ?? r.Config.StopTimeout ?? DEFAULT_STOP_TIMEOUT_S;
    const dir = this.shimDir(r.Id);
    await shimRequest(dir, [SHIM.KILL, String(sig), '0']).catch(() => {});
    this.events.emit('container', 'kill', r.Id, this.attributes(r, { signal: String(sig) }));
    await this.thawForSignal(live);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      exited.then(() => false),
      new Promise<boolean>((res) => (timer = setTimeout(() => res(true), Math.max(0, wait) * 1000))),
    ]);
    clearTimeout(timer);
    if (timedOut) {
      await shimRequest(dir, [SHIM.KILL, String(osConstants.signals.SIGKILL), '1']).catch(() => {});
      this.events.emit('container', 'kill', r.Id, this.attributes(r, { signal: String(osConstants.signals.SIGKILL) }));
      await exited;
    }
    this.events.emit('container', 'stop', r.Id, this.attributes(r));
    return true;
  }

  async restart(ref: string, timeoutS?: number): Promise<void> {
    await this.stop(ref, timeoutS);
    await this.start(ref);
    this.events.emit('container', 'restart', this.find(ref).record.Id, this.attributes(this.find(ref).record));
  }

  // Wait, remove

  /** The exit code once `condition` holds. */
  async wait(ref: string, condition: WaitCondition = 'not-running'): Promise<number> {
    const live = this.find(ref);
    if (condition === 'removed') {
      return live.removed.promise;
    }
    if (condition === 'not-running' && live.record.State.Status !== 'running') return live.record.State.ExitCode;
    return live.nextExit.promise;
  }

  /** `volumes` (docker rm -v, --rm): the container's anonymous volumes go with it. */
  async remove(ref: string, opts: { force?: boolean; volumes?: boolean } = {}): Promise<void> {
    const live = this.find(ref);
    const r = live.record;
    if (live.removing) return;
    this.cancelRestart(live);
    await this.relaunched(live);
    if (live.removing) return;
    if (r.State.Status === 'running' && !opts.force) {
      throw new RuntimeError({ kind: 'invalid-state', step: `You cannot remove a running container ${r.Id}. Stop the container before attempting removal or force remove` });
    }
    live.removing = true;
    this.cancelRestart(live);
    const dir = this.shimDir(r.Id);
    try {
      if (r.State.Status === 'running') {
        const exited = live.nextExit.promise;
        await shimRequest(dir, [SHIM.KILL, String(osConstants.signals.SIGKILL), '1']).catch(() => {});
        await this.thawForSignal(live);
        await Promise.race([exited, new Promise((res) => setTimeout(res, 10_000))]);
      }
      await shimRequest(dir, [SHIM.DELETE]).catch(() => {});
      await this.releaseNetwork(r.Id);
      await this.engine.removeContainer(r.Id, { force: true }).catch((e) => this.o.onWarning(`removing the bundle of ${r.Id}: ${(e as Error).message}`));
      await rm(dir, { recursive: true, force: true });
      await rm(this.records.containerDir(r.Id), { recursive: true, force: true });
    } catch (e) {
      live.removing = false;
      throw e;
    }
    live.monitor?.close();
    this.health.forget(r.Id);
    this.byId.delete(r.Id);
    this.names.delete(r.Name);
    this.events.emit('container', 'destroy', r.Id, this.attributes(r));
    if (opts.volumes) await this.volumes.removeAnonymous(r.Id, r.Mounts, this.o.onWarning);
    await this.volumes.released(r.Mounts);
    live.removed.resolve(r.State.ExitCode);
  }

  // Output

  /** Logs as the shim wrote them; a follow ends when the container has exited. */
  async logs(ref: string, q: LogQuery, sink: LogSink, cancelled: () => boolean): Promise<void> {
    const live = this.find(ref);
    const running = live.record.State.Status === 'running';
    const exited = running ? live.nextExit.promise : Promise.resolve(0);
    await readLogs(this.shimDir(live.record.Id), q, sink, Promise.race([exited, live.removed.promise]), cancelled);
  }

  /**
   * Attaches to the container's stdio through its shim: with `logs` the log
   * is replayed first; with `stream` output follows until the process exits.
   */
  async attach(ref: string, o: { stdin: boolean; stdout: boolean; stderr: boolean; stream: boolean; logs: boolean }, sink: AttachSink): Promise<Attachment> {
    const live = this.find(ref);
    const id = live.record.Id;
    const dir = this.shimDir(id);
    const out = (stream: 1 | 2, data: Buffer) => {
      if (stream === 1 ? o.stdout : o.stderr) sink.write(stream, data);
    };
    let detached = false;
    if (o.logs) await readLogs(dir, { stdout: o.stdout, stderr: o.stderr, follow: false }, (e) => out(e.stream === 'stdout' ? 1 : 2, e.data), Promise.resolve(), () => detached);
    if (!o.stream || live.record.State.Status === 'exited' || live.record.State.Status === 'dead') {
      return { input: async () => {}, closeInput: async () => {}, detach: () => {}, done: Promise.resolve() };
    }
    const conn = ShimConnection.open(dir);
    const ended = deferred<void>();
    await conn.attach('', o.stdin, out, () => ended.resolve());
    return {
      input: (data) => (o.stdin ? conn.send([SHIM.IN, data]) : Promise.resolve()),
      // As Docker: the end of a client's stdin closes the container's only with StdinOnce
      // (docker run -i); a client of docker run -d -i or attach that goes away leaves it open.
      closeInput: () => (o.stdin && live.record.Config.StdinOnce ? conn.send([SHIM.CLOSEIN]).catch(() => {}) : Promise.resolve()),
      detach: () => {
        detached = true;
        conn.close();
        ended.resolve();
      },
      done: ended.promise,
    };
  }

  async resize(ref: string, cols: number, rows: number): Promise<void> {
    const live = this.find(ref);
    if (live.record.State.Status !== 'running') throw new RuntimeError({ kind: 'invalid-state', step: `Container ${live.record.Id} is not running` });
    // As dockerd (containerd's Resize): a container without a pty has nothing to resize, and that is no error.
    if (!live.record.Config.Tty) return;
    await shimRequest(this.shimDir(live.record.Id), [SHIM.RESIZE, '', String(cols), String(rows)]);
  }

  /**
   * At start, after recover(): what a create cut short (kill -9, or a stop while it ran) left.
   * The record is written last, so a container directory without one, or a shim directory no
   * record owns, is such a create's: it is undone as the create's own failure path would —
   * the shim deleted (it deletes the runtime's container), the bundle unmounted and its
   * snapshot removed, the namespace unpinned, the directories removed. Returns their IDs.
   */
  async removeUnfinishedCreates(): Promise<string[]> {
    const hex = (n: string) => /^[a-f0-9]{64}$/.test(n);
    const list = async (d: string) => {
      try {
        return (await readdir(d, { withFileTypes: true })).filter((e) => e.isDirectory() && hex(e.name) && !this.byId.has(e.name)).map((e) => e.name);
      } catch {
        return [];
      }
    };
    const ids = new Set(await list(this.o.execRoot));
    // A directory with a record that failed validation is kept (recover() warned about it).
    for (const id of await list(this.records.dir)) if (!(await stat(join(this.records.containerDir(id), 'container.json')).then(() => true, () => false))) ids.add(id);
    for (const id of ids) {
      const warn = (what: string) => (e: unknown) => this.o.onWarning(`removing the unfinished create ${id}: ${what}: ${(e as Error).message}`);
      const dir = this.shimDir(id);
      await shimRequest(dir, [SHIM.DELETE]).catch(() => {});
      // No engine record yet means nothing was mounted or snapshotted; the runtime's state goes either way.
      await this.engine.removeContainer(id, { force: true }).catch((e) => {
        if (!/no such container/.test((e as Error).message)) warn('removing its bundle')(e);
      });
      await this.networking.unpin(id).catch(warn('removing its network namespace'));
      await rm(dir, { recursive: true, force: true }).catch(warn('removing its shim directory'));
      await rm(this.records.containerDir(id), { recursive: true, force: true }).catch(warn('removing its directory'));
    }
    return [...ids];
  }

  // Pause, top, rename, and what execs.ts needs

  private runtime(): OciRuntime {
    return new OciRuntime(this.o.runtime, this.o.runtimeRoot);
  }

  private running(live: Live): void {
    if (live.record.State.Status !== 'running') throw new RuntimeError({ kind: 'invalid-state', step: `Container ${live.record.Id} is not running` });
  }

  async pause(ref: string): Promise<void> {
    const live = this.find(ref);
    const r = live.record;
    this.running(live);
    if (r.State.Paused) throw new RuntimeError({ kind: 'invalid-state', step: `Container ${r.Id} is already paused` });
    await this.runtime().pause(r.Id);
    r.State = { ...r.State, Paused: true };
    await this.save(live);
    this.events.emit('container', 'pause', r.Id, this.attributes(r));
  }

  async unpause(ref: string): Promise<void> {
    const live = this.find(ref);
    const r = live.record;
    if (!r.State.Paused || r.State.Status !== 'running') throw new RuntimeError({ kind: 'invalid-state', step: `Container ${r.Id} is not paused` });
    await this.runtime().resume(r.Id);
    r.State = { ...r.State, Paused: false };
    await this.save(live);
    this.events.emit('container', 'unpause', r.Id, this.attributes(r));
  }

  /** As Docker: a signal sent to a paused container is followed by a resume, so it is delivered. */
  private async thawForSignal(live: Live): Promise<void> {
    if (!live.record.State.Paused) return;
    await this.runtime().resume(live.record.Id).catch((e) => this.o.onWarning(`unpausing ${live.record.Id} for a signal: ${(e as Error).message}`));
    live.record.State = { ...live.record.State, Paused: false };
    await this.save(live).catch(() => {});
  }

  /** The container's processes (the runtime's pids) with ps -ef's columns read from /proc. */
  async top(ref: string): Promise<Top> {
    const live = this.find(ref);
    this.running(live);
    return topOf(await this.runtime().pids(live.record.Id));
  }

  async rename(ref: string, newName: string): Promise<void> {
    const live = this.find(ref);
    const r = live.record;
    if (!newName) throw new RuntimeError({ kind: 'invalid-argument', step: 'Neither old nor new names may be empty' });
    if (!VALID_NAME.test(newName)) throw new RuntimeError({ kind: 'invalid-argument', step: `Invalid container name (${newName}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed` });
    const name = newName.startsWith('/') ? newName : `/${newName}`;
    const old = r.Name;
    if (name === old) throw new RuntimeError({ kind: 'invalid-argument', step: 'Renaming a container with the same name as its current name' });
    const holder = this.names.get(name);
    if (holder) throw new RuntimeError({ kind: 'exists', step: `Conflict. The container name "${name}" is already in use by container "${holder}". You have to remove (or rename) that container to be able to reuse that name.` });
    this.names.set(name, r.Id);
    r.Name = name;
    try {
      await this.save(live);
    } catch (e) {
      r.Name = old;
      this.names.delete(name);
      throw e;
    }
    this.names.delete(old);
    // A user network's name server answers the new name, not the old one.
    if (r.State.Status === 'running') await this.registerNames(r).catch((e) => this.o.onWarning(`container ${r.Id}: its names on its network: ${(e as Error).message}`));
    this.events.emit('container', 'rename', r.Id, this.attributes(r, { oldName: old }));
  }

  // Stats, changes, sizes

  /** docker stats (stats.ts): numbers from the runtime while the container runs (not while a restart policy restarts it). */
  async stats(ref: string, q: StatsQuery, write: (doc: DockerStats) => void, gone: () => boolean): Promise<void> {
    const live = this.find(ref);
    const id = live.record.Id;
    const runtime = this.runtime();
    await writeStats({
      id,
      name: () => live.record.Name,
      running: () => live.record.State.Status === 'running' && !live.restartTimer && !live.relaunching && this.byId.get(id) === live,
      sample: () => runtime.stats(id),
    }, q, write, gone);
  }

  /** docker diff: what the container changed in its filesystem, from its writable layer. */
  async changes(ref: string): Promise<Change[]> {
    return this.engine.containerChanges(this.find(ref).record.Id);
  }

  /** docker ps -s and system df: SizeRw and SizeRootFs (undefined when the container's layer is gone). */
  async size(ref: string): Promise<{ rw: number; rootFs: number } | undefined> {
    return this.engine.containerSize(this.find(ref).record.Id).catch(() => undefined);
  }

  /** For execs (execs.ts): the container, its shim directory and its event attributes. */
  execTarget(ref: string): { record: ContainerRecord; dir: string; bundle: string; attributes: (extra?: Record<string, string>) => Record<string, string> } {
    const live = this.find(ref);
    return {
      record: live.record,
      dir: this.shimDir(live.record.Id),
      bundle: join(this.records.containerDir(live.record.Id), 'bundle'),
      attributes: (extra = {}) => this.attributes(live.record, extra),
    };
  }

  // Networks (src/network): the default bridge and user networks

  /** The bridge network a container of this mode is on: `bridge`, a user network's name, or none (host, none, bridge off). */
  private bridgeNetworkOf(mode: string | undefined): string | undefined {
    if (onDefaultBridge(mode)) return this.o.bridge !== 'none' ? DEFAULT_NETWORK : undefined;
    if (mode === 'host' || mode === 'none') return undefined;
    return this.networks.find(mode!)?.Name === mode ? mode : undefined;
  }

  /** HostConfig.NetworkMode at create: none, host, the default bridge, or a user network (by name, ID or prefix: kept as its name). */
  private networkModeOf(mode: string): string {
    if (['none', 'host', 'default', 'bridge'].includes(mode)) return mode;
    if (mode.startsWith('container:')) return `container:${this.joinedTarget(mode.slice('container:'.length)).Id}`;
    const net = this.networks.find(mode);
    // dockerd's message and status (a 404, as for a missing image: the CLI pulls the image once, then reports it).
    if (!net) throw new RuntimeError({ kind: 'not-found', step: `network ${mode} not found` });
    return net.Name;
  }

  /**
   * --network container:<ref>: the container whose namespace is joined, which
   * must run (dockerd's 409) and have one of its own pinned by tsd (a bridge
   * network: the namespace of a host or none container is not joinable here).
   */
  private joinedTarget(ref: string): ContainerRecord {
    const target = this.find(ref).record;
    if (target.State.Status !== 'running') throw new RuntimeError({ kind: 'invalid-state', step: `cannot join network of a non running container: ${target.Id}` });
    if (!this.onBridge(target.HostConfig.NetworkMode)) throw new RuntimeError({ kind: 'invalid-argument', step: `cannot join the network of container ${target.Id}: its network mode ${target.HostConfig.NetworkMode} has no namespace of tsd's to join (a bridge or user network has)` });
    return target;
  }

  /** The bundle joins `targetId`'s pinned namespace and sees its /etc files (hosts, hostname, resolv.conf), as Docker shares them. */
  private async joinNetworkOf(targetId: string, bundle: string): Promise<void> {
    const d = this.records.containerDir(targetId);
    await rewriteBundleForNetwork(bundle, this.networking.netnsPath(targetId), { hosts: join(d, 'hosts'), hostname: join(d, 'hostname'), resolvConf: join(d, 'resolv.conf') });
  }

  /** --ip and --network-alias, checked at create as dockerd checks them (400s). */
  private checkEndpointConfig(mode: string, e: NetworkEndpointConfig | undefined): void {
    if (!e) return;
    const net = ['none', 'host', 'default', 'bridge'].includes(mode) ? undefined : this.networks.find(mode);
    if (e.IPv4Address !== undefined) {
      if (!net) throw new RuntimeError({ kind: 'invalid-argument', step: 'user specified IP address is supported on user defined networks only' });
      const ip = parseIp(e.IPv4Address);
      if (ip === undefined) throw new RuntimeError({ kind: 'invalid-argument', step: `invalid IPv4 address: ${e.IPv4Address}` });
      const range = parseCidr(net.IPRange ?? net.Subnet)!;
      if (!contains(range, ip) || e.IPv4Address === net.Gateway) throw new RuntimeError({ kind: 'invalid-argument', step: `no configured subnet or ip-range contain the IP address ${e.IPv4Address}` });
    }
    if (e.Aliases?.length && !net) throw new RuntimeError({ kind: 'invalid-argument', step: 'network-scoped alias is supported only for containers in user defined networks' });
  }

  /** A running container's names on its user networks' name servers (none on the default bridge, as Docker). */
  private async registerNames(r: ContainerRecord): Promise<void> {
    const configs = new Map(this.networksOf(r));
    for (const ep of this.networking.endpointsOf(r.Id)) {
      if (ep.network === DEFAULT_NETWORK) continue;
      // Its hostname too, when set (docker-compose's `hostname:`), as the issue asks of compose's names.
      const hostname = r.Config.Hostname && r.Config.Hostname !== r.Id.slice(0, 12) ? [r.Config.Hostname] : [];
      await this.dns.attach(ep.network, ep.gateway, r.Id, [r.Name.slice(1), ...(configs.get(ep.network)?.Aliases ?? []), r.Id.slice(0, 12), ...hostname], ep.ipAddress);
    }
  }

  /** The bridge networks the container is on when it runs, eth0's first, with each one's --ip and aliases. */
  private networksOf(r: ContainerRecord): Array<[string, NetworkEndpointConfig]> {
    if (r.Networks) return Object.entries(r.Networks);
    const primary = this.bridgeNetworkOf(r.HostConfig.NetworkMode);
    return primary === undefined ? [] : [[primary, r.NetworkEndpoint ?? {}]];
  }

  /**
   * resolv.conf (bind-mounted, so rewritten in place) names the name server
   * of the container's first user network, else the host's resolvers: a
   * container of the default bridge that is connected to a user network
   * resolves its names from then on, as with Docker.
   */
  private async writeResolvConf(r: ContainerRecord): Promise<void> {
    const user = this.networksOf(r).map(([n]) => this.networks.find(n)).find((n) => n !== undefined);
    await this.networking.writeResolvConf(join(this.records.containerDir(r.Id), 'resolv.conf'), user?.Gateway);
  }

  /** Docker's network connect/disconnect events (Actor: the network; the container in the attributes). */
  private networkEvent(action: 'connect' | 'disconnect', network: string, containerId: string): void {
    const id = this.networks.find(network)?.Id ?? predefinedNetworkId(network);
    this.events.emit('network', action, id, { container: containerId, name: network, type: 'bridge' });
  }

  /** The network a connect or disconnect names: a user network (by name, ID or prefix) or the default bridge. */
  private connectableNetwork(ref: string): string {
    const net = this.networks.find(ref);
    if (net) return net.Name;
    if (ref === 'bridge' || ref === predefinedNetworkId('bridge') || (ref.length >= 1 && /^[a-f0-9]+$/.test(ref) && predefinedNetworkId('bridge').startsWith(ref))) {
      if (this.bridgeNetworkOf('bridge') !== undefined) return DEFAULT_NETWORK;
    }
    if (ref === 'host' || ref === 'none') return ref;
    throw new RuntimeError({ kind: 'not-found', step: `network ${ref} not found` });
  }

  /**
   * docker network connect: a running container gets the network now (its next
   * interface, its names on the network's name server), a created or stopped
   * one when it next starts. dockerd's refusals: host, none and shared
   * namespaces cannot be connected; a running container already on the network is 403.
   */
  async connectNetwork(ref: string, networkRef: string, config: NetworkEndpointConfig = {}): Promise<void> {
    const live = this.find(ref);
    const r = live.record;
    const network = this.connectableNetwork(networkRef);
    if (live.removing || r.State.Status === 'dead') throw new RuntimeError({ kind: 'invalid-state', step: `Container ${r.Id} is marked for removal and cannot be connected or disconnected to the network` });
    const mode = r.HostConfig.NetworkMode;
    if (network === 'host') throw new RuntimeError({ kind: 'invalid-argument', step: 'container cannot be disconnected from host network or connected to host network' });
    if (mode === 'host' || mode.startsWith('container:')) throw new RuntimeError({ kind: 'invalid-argument', step: 'container sharing network namespace with another container or host cannot be connected to any other network' });
    if (network === 'none' || !this.onBridge(mode)) throw new RuntimeError({ kind: 'invalid-argument', step: 'container cannot be connected to multiple networks with one of the networks in private (none) mode' });
    this.checkEndpointConfig(network, config);
    const networks = Object.fromEntries(this.networksOf(r));
    const running = r.State.Status === 'running';
    if (networks[network]) {
      if (running) throw new RuntimeError({ kind: 'forbidden', step: `endpoint with name ${r.Name.slice(1)} already exists in network ${network}` });
      return; // dockerd: the same network again on a container that does not run changes nothing
    }
    const clean: NetworkEndpointConfig = { ...(config.IPv4Address ? { IPv4Address: config.IPv4Address } : {}), ...(config.Aliases?.length ? { Aliases: config.Aliases } : {}) };
    if (!running) {
      r.Networks = { ...networks, [network]: clean };
      await this.save(live);
      return;
    }
    await this.networking.attach(r.Id, r.Config.Hostname ?? '', join(this.records.containerDir(r.Id), 'hosts'), [], network, clean.IPv4Address, r.HostConfig.ExtraHosts);
    try {
      r.Networks = { ...networks, [network]: clean };
      await this.save(live);
    } catch (e) {
      r.Networks = networks;
      await this.networking.detach(r.Id, network).catch((d) => this.o.onWarning(`undoing the connect of ${r.Id} to ${network}: ${(d as Error).message}`));
      throw e;
    }
    this.networkEvent('connect', network, r.Id);
    await this.registerNames(r).catch((e) => this.o.onWarning(`container ${r.Id}: its names on ${network}: ${(e as Error).message}`));
    await this.writeResolvConf(r).catch((e) => this.o.onWarning(`container ${r.Id}: rewriting its resolv.conf: ${(e as Error).message}`));
  }

  /** docker network disconnect: the endpoint goes now (running) and the network from the record. */
  async disconnectNetwork(ref: string, networkRef: string, force = false): Promise<void> {
    const live = this.find(ref);
    const r = live.record;
    let network: string;
    try {
      network = this.connectableNetwork(networkRef);
    } catch (e) {
      // --force: a network already gone still leaves the record.
      if (!force) throw e;
      network = networkRef;
    }
    if (live.removing || r.State.Status === 'dead') throw new RuntimeError({ kind: 'invalid-state', step: `Container ${r.Id} is marked for removal and cannot be connected or disconnected to the network` });
    if (network === 'host' && r.HostConfig.NetworkMode === 'host') throw new RuntimeError({ kind: 'invalid-argument', step: 'container cannot be disconnected from host network or connected to host network' });
    const networks = Object.fromEntries(this.networksOf(r));
    const running = r.State.Status === 'running';
    if (!networks[network]) throw new RuntimeError({ kind: 'system', step: running ? `container ${r.Id} is not connected to network ${network}` : `container ${r.Id} is not connected to the network ${network}` });
    if (running) {
      const hadPorts = this.networking.endpoint(r.Id)?.network === network;
      this.dns.detach(r.Id, network);
      await this.networking.detach(r.Id, network);
      if (hadPorts) await this.releasePorts(r.Id);
    }
    delete networks[network];
    r.Networks = networks;
    await this.save(live);
    if (running) {
      this.networkEvent('disconnect', network, r.Id);
      await this.writeResolvConf(r).catch((e) => this.o.onWarning(`container ${r.Id}: rewriting its resolv.conf: ${(e as Error).message}`));
    }
  }

  /** inspect's NetworkSettings.Networks: each network of the container with its settings and, while it runs, its endpoint. */
  containerNetworks(ref: string): Array<{ name: string; networkId: string; config: NetworkEndpointConfig; endpoint?: Endpoint }> {
    const r = this.find(ref).record;
    const endpoints = this.networking.endpointsOf(r.Id);
    return this.networksOf(r).map(([name, config]) => ({
      name, config, networkId: this.networks.find(name)?.Id ?? predefinedNetworkId(name),
      ...(endpoints.find((e) => e.network === name) ? { endpoint: endpoints.find((e) => e.network === name) } : {}),
    }));
  }

  /** The containers with an endpoint on the network named `name` now. */
  networkEndpoints(name: string): Array<{ id: string; name: string; endpoint: Endpoint }> {
    const out = [];
    for (const id of this.networking.endpointsOn(name)) {
      const ep = this.networking.endpoint(id);
      const r = this.byId.get(id)?.record;
      if (ep && r) out.push({ id, name: r.Name.slice(1), endpoint: ep });
    }
    return out;
  }

  /**
   * docker network rm: refused (409, dockerd's text) while a container has an
   * endpoint on it; the record, its bridge and its allocation directory go.
   */
  async removeNetwork(id: string): Promise<void> {
    const net = this.networks.find(id);
    if (!net || net.Id !== id) throw new RuntimeError({ kind: 'not-found', step: `network ${id} not found` });
    if (this.networking.endpointsOn(net.Name).length) throw new RuntimeError({ kind: 'exists', step: `error while removing network: network ${net.Name} id ${net.Id} has active endpoints` });
    await this.networks.remove(net.Id);
    await this.dns.closeNetwork(net.Name);
    await this.networking.removeNetworkLeftovers(describeNetwork(net)).catch((e) => this.o.onWarning(`network ${net.Name}: removing its bridge: ${(e as Error).message}`));
    this.events.emit('network', 'destroy', net.Id, { name: net.Name, type: 'bridge' });
  }

  /** docker network create: a subnet no other network and no route of the host has, unless one is given. */
  async createNetwork(req: NetworkCreateRequest): Promise<NetworkRecord> {
    const routes = req.Subnet ? [] : parseRoutes(await ipRoutes());
    const own = await this.defaultSubnet().catch(() => undefined);
    const net = await this.networks.create(req, (taken, bridges) => chooseNetworkSubnet(routes, own ? [own, ...taken] : taken, [this.o.bridge || 'tsd0', ...bridges]), own ? [own] : []);
    this.events.emit('network', 'create', net.Id, { name: net.Name, type: 'bridge' });
    return net;
  }

  /** The default bridge's subnet (so that a user network does not take it). */
  async defaultSubnet(): Promise<string | undefined> {
    if (this.o.bridge === 'none') return undefined;
    return (await this.networking.defaultNetwork()).subnet;
  }

  /** At create: the container's /etc files, its pinned namespace, and the bundle pointing at both. */
  private async prepareNetwork(id: string, bundle: string, hostname: string, nameserver?: string, extraHosts?: string[]): Promise<void> {
    const files = await this.networking.writeEtcFiles(this.records.containerDir(id), hostname, nameserver, extraHosts);
    const netns = await this.networking.pin(id);
    try {
      await rewriteBundleForNetwork(bundle, netns, files);
    } catch (e) {
      await this.networking.unpin(id).catch(() => {});
      throw e;
    }
  }

  /** A finished container runs again: a new namespace at the same path (the bundle names it). */
  private async repinNetwork(id: string): Promise<void> {
    await this.networking.detach(id).catch((e) => this.o.onWarning(`container ${id}: tearing down its previous network: ${(e as Error).message}`));
    await this.networking.unpin(id).catch(() => {});
    await this.networking.pin(id);
  }

  /** After an exit or before a removal: CNI DEL, then the namespace unpinned (failures are warnings). */
  private async releaseNetwork(id: string): Promise<void> {
    this.dns.detach(id);
    await this.releasePorts(id);
    const left = this.networking.endpointsOf(id).map((e) => e.network);
    await this.networking.detach(id).catch((e) => this.o.onWarning(`container ${id}: tearing down its network: ${(e as Error).message}`));
    for (const network of left) this.networkEvent('disconnect', network, id);
    await this.networking.unpin(id).catch((e) => this.o.onWarning(`container ${id}: removing its network namespace: ${(e as Error).message}`));
  }

  /** Holds the host ports of `requests` for container `id`; TCP that DNAT misses is relayed to its address. */
  private async holdPorts(id: string, requests: PortRequest[]): Promise<PortReservation['mappings']> {
    await this.releasePorts(id);
    if (!requests.length) return [];
    const held = await reservePorts(requests, {
      relayTo: (m) => {
        const ep = this.networking.endpoint(id);
        return ep ? { host: ep.ipAddress, port: m.containerPort } : undefined;
      },
    });
    this.heldPorts.set(id, held);
    return held.mappings;
  }

  private async releasePorts(id: string): Promise<void> {
    const held = this.heldPorts.get(id);
    this.heldPorts.delete(id);
    await held?.release();
  }

  /** After a daemon restart: a running container's published ports are held again, the same ones. */
  private async reholdPorts(id: string): Promise<void> {
    const ports = this.networking.endpoint(id)?.ports ?? [];
    await this.holdPorts(id, ports.map((m) => ({ hostIP: m.hostIP, hostPorts: { first: m.hostPort, last: m.hostPort }, containerPort: m.containerPort, protocol: m.protocol, field: `the published port ${m.hostIP}:${m.hostPort}/${m.protocol} of container ${id}` })))
      .catch((e) => this.o.onWarning(`container ${id}: holding its published ports again: ${(e as Error).message}`));
  }

  /** After recovery: what containers that no longer run (or exist) left of their networks goes. */
  private async reconcileNetworks(): Promise<void> {
    await this.networking.reconcile((id) => {
      const s = this.byId.get(id)?.record.State.Status;
      return s === undefined ? 'gone' : s === 'running' || s === 'created' ? s : 'other';
    }).catch((e) => this.o.onWarning(`reconciling networks: ${(e as Error).message}`));
  }

  /** The container's endpoint on the default bridge while it has one (inspect's NetworkSettings). */
  networkEndpoint(ref: string): Endpoint | undefined {
    return this.networking.endpoint(this.find(ref).record.Id);
  }

  /** The container's /etc files, when tsd wrote them (bridge mode). */
  etcPaths(ref: string): { hosts: string; hostname: string; resolvConf: string } | undefined {
    const r = this.find(ref).record;
    if (!this.onBridge(r.HostConfig.NetworkMode)) return undefined;
    const d = this.records.containerDir(r.Id);
    return { hosts: join(d, 'hosts'), hostname: join(d, 'hostname'), resolvConf: join(d, 'resolv.conf') };
  }

  /** Lets go of the shims' connections (the daemon stops; the containers go on). */
  close(): void {
    this.health.close();
    void this.dns.closeAll();
    for (const live of this.byId.values()) {
      live.monitor?.close();
      live.monitor = undefined;
      this.cancelRestart(live);
    }
  }
}
/** Config.Healthcheck: the request's over the image's HEALTHCHECK; none for NONE or when neither has one. */
function healthcheckOf(c: ContainerConfig, image: HealthConfig | undefined): { Healthcheck?: HealthConfig } {
  const h = effectiveHealthcheck(c.Healthcheck, image);
  return h ? { Healthcheck: h } : {};
}

export { inspectPorts, psPorts } from '../network/ports.js';
export { PREDEFINED as PREDEFINED_NETWORKS, predefinedNetworkId, type NetworkRecord } from '../network/networkStore.js';
