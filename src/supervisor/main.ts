// tsd: the daemon the docker CLI talks to (Docker Engine API 1.41 on a unix
// socket). Start-up order: settings (flags over --config's daemon.json), the
// data root's lock (a second tsd refuses, naming the holder), the pidfile,
// recovery of the containers (reconnect to live shims), then listen. SIGTERM
// and SIGINT close the socket, let the changes under way finish (http/drain.ts)
// and leave every container and shim running.
import { chmod, chown, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { closeSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { Duplex } from 'node:stream';
import { join, resolve } from 'node:path';
import { flagList, flagString, parseArgs, UsageError, type FlagSpec } from '../common/argv.js';
import { writeFileAtomicAsync } from '../common/atomicFile.js';
import { RuntimeError } from '../common/errors.js';
import { tryLock } from '../common/lock.js';
import { Containers } from '../engine/containers.js';
import { Engine } from '../engine/engine.js';
import { defaultRuntimeBinary } from '../engine/ociRuntime.js';
import { defaultShimBinary } from '../engine/shimClient.js';
import { buildInfo } from '../engine/version.js';
import { registerBuild } from './docker/build.js';
import { removeBuildLeftovers } from '../engine/build.js';
import { registerContainers } from './docker/containers.js';
import { registerExec } from './docker/exec.js';
import type { Api, DaemonSettings } from './docker/context.js';
import { registerImages } from './docker/images.js';
import { registerNetworks } from './docker/networks.js';
import { registerSystem } from './docker/system.js';
import { registerSystemDf } from './docker/systemDf.js';
import { registerVolumes } from './docker/volumes.js';
import { Router } from './http/router.js';
import { drainedOnStop, InFlight } from './http/drain.js';
import { runtimePath } from './runtimePath.js';
import { findInitBinary, loadSeccompProfile } from '../engine/hostFacts.js';

const FLAGS: FlagSpec[] = [
  { name: 'host', kind: 'list', alias: ['H'] },
  { name: 'data-root', kind: 'string' },
  { name: 'exec-root', kind: 'string' },
  { name: 'pidfile', kind: 'string', alias: ['p'] },
  { name: 'runtime', kind: 'string' },
  { name: 'registry-mirror', kind: 'list' },
  { name: 'insecure-registry', kind: 'list' },
  { name: 'init-path', kind: 'string' },
  { name: 'seccomp-profile', kind: 'string' },
  { name: 'runtime-timeout', kind: 'string' },
  { name: 'registry-stall-timeout', kind: 'string' },
  { name: 'log-level', kind: 'string', alias: ['l'] },
  { name: 'config', kind: 'string', alias: ['config-file'] },
  { name: 'bip', kind: 'string' },
  { name: 'bridge', kind: 'string', alias: ['b'] },
  { name: 'dns', kind: 'list' },
  { name: 'group', kind: 'string', alias: ['G'] },
  { name: 'http-headers-timeout', kind: 'string' },
  { name: 'help', kind: 'bool', alias: ['h'] },
];

const USAGE = `Usage: tsd [OPTIONS]

The tsrun daemon: the Docker Engine API (v1.41) on a unix socket.

Options:
  -H, --host unix:///PATH       the socket to listen on (default unix:///run/tsd.sock)
      --data-root DIR           images, containers (default /var/lib/tsrun)
      --exec-root DIR           shims' directories (default /run/tsd)
  -p, --pidfile FILE            (default /run/tsd.pid)
      --runtime PATH            any runc-compatible binary (default bin/tsrun)
      --registry-mirror URL     docker.io's images are fetched from it first
      --insecure-registry HOST  plain HTTP to this registry
      --init-path PATH          the static init --init runs as pid 1
                                (default: tini-static, docker-init or tini in PATH)
      --runtime-timeout SECONDS a runtime call the shim waits for at most (default 60)
      --registry-stall-timeout SECONDS
                                a registry download that brings no byte for this
                                long fails (default 60)
      --seccomp-profile PATH    the default seccomp profile, Docker's format, or
                                unconfined (default /usr/share/containers/seccomp.json)
  -l, --log-level LEVEL         debug, info, warn, error, fatal (default info)
      --bip CIDR                the default bridge's address and subnet, as
                                172.20.0.1/16 (default: a free 172.17-31.0.0/16)
  -b, --bridge NAME             the default bridge's name (default tsd0); none:
                                no default network (containers run as none)
      --dns IP                  where user networks' name servers forward other
                                names (default: the host's resolv.conf)
  -G, --group GROUP             the socket's group (name or gid; default root):
                                its members can drive tsd, which is root access
      --http-headers-timeout SECONDS  a connection that has not sent its request's
                                headers by then is closed (default 60)
      --config FILE             daemon.json with the same keys (hosts, data-root,
                                exec-root, pidfile, runtime, registry-mirrors,
                                insecure-registries, init-path, seccomp-profile,
                                log-level, bip, bridge, dns, group)
`;

/** --runtime-timeout, --registry-stall-timeout, --http-headers-timeout: whole seconds, 1 s to a day. */
function timeoutOf(v: string | undefined, flag = 'runtime-timeout'): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 86400) throw new UsageError(`--${flag}: want whole seconds from 1 to 86400, got ${JSON.stringify(v)}`);
  return n;
}

interface Settings {
  hosts: string[];
  dataRoot: string;
  execRoot: string;
  pidfile: string;
  runtime: string;
  registryMirrors: string[];
  insecureRegistries: string[];
  initPath?: string;
  seccompProfile?: string;
  runtimeTimeout?: number;
  registryStallTimeout?: number;
  logLevel: string;
  bip?: string;
  bridge?: string;
  dns: string[];
  /** The socket's group: a name or a gid (resolved at listen). */
  group?: string;
  headersTimeout: number;
}

/** How long a SIGTERM waits for the changes under way (creates, starts, removals) to finish. */
const STOP_DRAIN_MS = 10_000;

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'];

function stringsOf(v: unknown, key: string, file: string): string[] | undefined {
  if (v === undefined) return undefined;
  const list = typeof v === 'string' ? [v] : v;
  if (!Array.isArray(list) || !list.every((s) => typeof s === 'string')) throw new UsageError(`${file}: "${key}" must be a string or an array of strings`);
  return list;
}

function stringOf(v: unknown, key: string, file: string): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new UsageError(`${file}: "${key}" must be a string`);
  return v;
}

async function readSettings(argv: string[]): Promise<Settings | undefined> {
  const p = parseArgs(argv, FLAGS);
  if (p.flags.get('help')) return undefined;
  if (p.positionals.length) throw new UsageError(`unexpected argument ${JSON.stringify(p.positionals[0])}`);
  let file: Record<string, unknown> = {};
  const configFile = flagString(p, 'config');
  if (configFile) {
    let text: string;
    try {
      text = await readFile(configFile, 'utf8');
    } catch (e) {
      throw RuntimeError.fromSystem('read the daemon config', e, { path: configFile });
    }
    try {
      file = JSON.parse(text) as Record<string, unknown>;
    } catch (e) {
      throw new UsageError(`${configFile}: invalid JSON: ${(e as Error).message}`);
    }
    if (!file || typeof file !== 'object' || Array.isArray(file)) throw new UsageError(`${configFile}: want a JSON object`);
    const known = ['hosts', 'host', 'data-root', 'exec-root', 'pidfile', 'runtime', 'registry-mirrors', 'registry-mirror', 'insecure-registries', 'insecure-registry', 'init-path', 'seccomp-profile', 'log-level', 'bip', 'bridge', 'dns', 'group'];
    for (const k of Object.keys(file)) if (!known.includes(k)) throw new UsageError(`${configFile}: unknown key "${k}" (known: ${known.join(', ')})`);
  }
  const cf = configFile ?? '';
  const fromFile = {
    hosts: stringsOf(file.hosts ?? file.host, 'hosts', cf),
    dataRoot: stringOf(file['data-root'], 'data-root', cf),
    execRoot: stringOf(file['exec-root'], 'exec-root', cf),
    pidfile: stringOf(file.pidfile, 'pidfile', cf),
    runtime: stringOf(file.runtime, 'runtime', cf),
    mirrors: stringsOf(file['registry-mirrors'] ?? file['registry-mirror'], 'registry-mirrors', cf),
    insecure: stringsOf(file['insecure-registries'] ?? file['insecure-registry'], 'insecure-registries', cf),
    logLevel: stringOf(file['log-level'], 'log-level', cf),
    initPath: stringOf(file['init-path'], 'init-path', cf),
    seccompProfile: stringOf(file['seccomp-profile'], 'seccomp-profile', cf),
    bip: stringOf(file.bip, 'bip', cf),
    bridge: stringOf(file.bridge, 'bridge', cf),
    dns: stringsOf(file.dns, 'dns', cf),
    group: stringOf(file.group, 'group', cf),
  };
  const hosts = flagList(p, 'host');
  const s: Settings = {
    hosts: hosts.length ? hosts : fromFile.hosts ?? ['unix:///run/tsd.sock'],
    dataRoot: resolve(flagString(p, 'data-root') ?? fromFile.dataRoot ?? '/var/lib/tsrun'),
    execRoot: resolve(flagString(p, 'exec-root') ?? fromFile.execRoot ?? '/run/tsd'),
    pidfile: resolve(flagString(p, 'pidfile') ?? fromFile.pidfile ?? '/run/tsd.pid'),
    runtime: runtimePath(flagString(p, 'runtime') ?? fromFile.runtime ?? defaultRuntimeBinary()),
    registryMirrors: [...(fromFile.mirrors ?? []), ...flagList(p, 'registry-mirror')],
    insecureRegistries: [...(fromFile.insecure ?? []), ...flagList(p, 'insecure-registry')],
    logLevel: flagString(p, 'log-level') ?? fromFile.logLevel ?? 'info',
    initPath: flagString(p, 'init-path') ?? fromFile.initPath,
    seccompProfile: flagString(p, 'seccomp-profile') ?? fromFile.seccompProfile,
    runtimeTimeout: timeoutOf(flagString(p, 'runtime-timeout')),
    registryStallTimeout: timeoutOf(flagString(p, 'registry-stall-timeout'), 'registry-stall-timeout'),
    bip: flagString(p, 'bip') ?? fromFile.bip,
    bridge: flagString(p, 'bridge') ?? fromFile.bridge,
    dns: flagList(p, 'dns').length ? flagList(p, 'dns') : fromFile.dns ?? [],
    group: flagString(p, 'group') ?? fromFile.group,
    headersTimeout: timeoutOf(flagString(p, 'http-headers-timeout'), 'http-headers-timeout') ?? 60,
  };
  for (const d of s.dns) if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(d)) throw new UsageError(`--dns ${JSON.stringify(d)}: want an IPv4 address`);
  if (!LEVELS.includes(s.logLevel)) throw new UsageError(`--log-level: want one of ${LEVELS.join(', ')}, got ${JSON.stringify(s.logLevel)}`);
  if (s.hosts.length !== 1) throw new UsageError(`-H: one socket, got ${s.hosts.length}`);
  for (const h of s.hosts) {
    if (h.startsWith('tcp://') || h.startsWith('fd://') || !h.startsWith('unix://')) throw new UsageError(`-H ${h}: only unix:///path sockets are served (TCP needs TLS, which tsd does not have yet)`);
  }
  return s;
}

/** `--registry-mirror http://127.0.0.1:5000` → the engine's `docker.io=127.0.0.1:5000`. */
function mirrorsOf(urls: string[]): Record<string, string> {
  const host = urls.map((u) => u.replace(/^https?:\/\//, '').replace(/\/+$/, '')).find(Boolean);
  return host ? { 'docker.io': host } : {};
}

interface Logger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
  flush?(): void;
}

function makeLogger(level: string): Logger {
  const pino = (typeof require === 'function' ? require('pino') : createRequire(import.meta.url)('pino')) as typeof import('pino');
  return pino({
    base: null,
    level,
    formatters: { level: (label: string) => ({ level: label }) },
    timestamp: pino.stdTimeFunctions.isoTime,
  }, pino.destination({ dest: 2, sync: true })) as unknown as Logger;
}

/** -G: a gid, or a group name looked up in /etc/group (as dockerd). */
async function gidOf(group: string | undefined): Promise<number> {
  if (group === undefined) return 0;
  if (/^\d+$/.test(group)) return Number(group);
  const line = (await readFile('/etc/group', 'utf8')).split('\n').find((l) => l.split(':')[0] === group);
  if (!line) throw new UsageError(`-G ${group}: group ${JSON.stringify(group)} not found in /etc/group`);
  return Number(line.split(':')[2]);
}

async function listen(server: Server, path: string, gid: number): Promise<void> {
  await mkdir(join(path, '..'), { recursive: true });
  // The lock is held: a socket file left here is a dead daemon's.
  await rm(path, { force: true });
  // Anyone who can connect is root: the socket is made 0600 (umask 0177), so it is
  // never reachable by others between bind and the chmod below, whatever umask tsd got.
  const umask = process.umask(0o177);
  try {
    await new Promise<void>((res, rej) => {
      server.once('error', rej);
      server.listen(path, () => {
        server.off('error', rej);
        res();
      });
    });
  } finally {
    process.umask(umask);
  }
  await chown(path, 0, gid);
  await chmod(path, 0o660);
}

export async function main(argv: string[]): Promise<number> {
  let settings: Settings | undefined;
  try {
    settings = await readSettings(argv);
  } catch (e) {
    process.stderr.write(`tsd: ${(e as Error).message}\n`);
    return 2;
  }
  if (!settings) {
    process.stdout.write(USAGE);
    return 0;
  }
  const s = settings;
  const initBinary = await findInitBinary(s.initPath);
  if (s.initPath && !initBinary) {
    process.stderr.write(`tsd: --init-path ${s.initPath}: not an executable file\n`);
    return 2;
  }
  let seccomp: Awaited<ReturnType<typeof loadSeccompProfile>>;
  try {
    seccomp = await loadSeccompProfile(s.seccompProfile);
  } catch (e) {
    process.stderr.write(`tsd: --seccomp-profile: ${(e as Error).message}\n`);
    return 2;
  }
  const log = makeLogger(s.logLevel);
  await mkdir(s.dataRoot, { recursive: true, mode: 0o711 });
  await mkdir(s.execRoot, { recursive: true, mode: 0o700 });
  const lockPath = join(s.dataRoot, 'tsd.lock');
  const holderPath = join(s.dataRoot, 'tsd.holder');
  const lockFd = tryLock(lockPath, true, 'lock the data root');
  if (lockFd === undefined) {
    let holder = 'another tsd';
    try {
      const h = JSON.parse(readFileSync(holderPath, 'utf8')) as { pid?: number; pidfile?: string };
      holder = `tsd pid ${h.pid} (pidfile ${h.pidfile})`;
    } catch { /* written just after the lock: the holder is starting */ }
    process.stderr.write(`tsd: the data root ${s.dataRoot} is in use by ${holder}: ${lockPath} is locked\n`);
    return 1;
  }
  await writeFileAtomicAsync(holderPath, JSON.stringify({ pid: process.pid, pidfile: s.pidfile }));
  await mkdir(join(s.pidfile, '..'), { recursive: true });
  await writeFile(s.pidfile, `${process.pid}\n`);

  const { version, commit } = await buildInfo();
  const warn = (message: string) => log.warn({}, message);
  const runtimeRoot = join(s.execRoot, 'runtime');
  const engine = new Engine({ dataRoot: s.dataRoot, stateDir: s.execRoot, runtime: s.runtime, runtimeRoot, mirrors: mirrorsOf(s.registryMirrors), registryStallTimeoutMs: s.registryStallTimeout === undefined ? undefined : s.registryStallTimeout * 1000, onWarning: warn });
  let containers: Containers;
  try {
    containers = new Containers(engine, { dataRoot: s.dataRoot, execRoot: s.execRoot, runtime: s.runtime, runtimeRoot, shimBinary: defaultShimBinary(), initBinary, seccompProfile: seccomp.profile, runtimeTimeout: s.runtimeTimeout, onWarning: warn, bip: s.bip, bridge: s.bridge, dns: s.dns });
  } catch (e) {
    // A setting only the engine can check (--bip).
    process.stderr.write(`tsd: ${(e as Error).message}\n`);
    await Promise.all([rm(s.pidfile, { force: true }), rm(holderPath, { force: true })]);
    closeSync(lockFd);
    return 2;
  }
  await containers.recover();
  await removeBuildLeftovers(engine, warn);
  const extracts = await engine.removeSnapshotLeftovers().catch((e) => { warn(`removing what a crash left in the snapshot store: ${(e as Error).message}`); return 0; });
  if (extracts) warn(`removed ${extracts} snapshot(s) that a crash left (a pull, build or removal cut short)`);
  for (const id of await containers.removeUnfinishedCreates()) warn(`container ${id}: a create that did not finish (no record); what it made was removed`);

  const daemon: DaemonSettings = { dataRoot: s.dataRoot, execRoot: s.execRoot, runtime: s.runtime, registryMirrors: s.registryMirrors, insecureRegistries: s.insecureRegistries, version, commit, initBinary: initBinary ?? '', seccompProfile: seccomp.source };
  const api: Api = { engine, containers, settings: daemon };
  const router = new Router((req, e) => log.debug({ method: req.method, path: req.path, err: (e as Error).message }, 'request failed'));
  registerSystem(router, api);
  registerContainers(router, api);
  registerExec(router, api);
  registerImages(router, api);
  registerSystemDf(router, api);
  registerVolumes(router, api);
  registerNetworks(router, api);
  registerBuild(router, api);

  const hijacked = new Set<Duplex>();
  // A client must send its headers within --http-headers-timeout (node closes it with
  // 408); the body and the answer have no bound: long builds, loads and pulls,
  // `logs -f` and hijacked streams (attach, exec) are not cut.
  const headersTimeout = s.headersTimeout * 1000;
  const inFlight = new InFlight();
  const server = createServer({ headersTimeout, requestTimeout: 0, connectionsCheckingInterval: Math.min(30_000, Math.ceil(headersTimeout / 4)) }, (req, res) => {
    log.debug({ method: req.method, url: req.url }, 'request');
    if (drainedOnStop(req.method ?? '', req.url ?? '')) inFlight.track(new Promise((r) => res.once('close', () => r())));
    void router.handle(req, res);
  });
  // Bad framing (node's parser refuses it) is answered in Docker's shape, {"message"}; 408 and 431 keep their meaning.
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    if (!socket.writable || err.code === 'ECONNRESET') return void socket.destroy();
    // A method node's parser does not know (FOO) is dockerd's no-route answer: it routes any token.
    const [status, text, message] = err.code === 'HPE_INVALID_METHOD' ? [404, 'Not Found', 'page not found']
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? [408, 'Request Timeout']
      : err.code === 'HPE_HEADER_OVERFLOW' ? [431, 'Request Header Fields Too Large'] : [400, 'Bad Request'];
    const body = JSON.stringify({ message: message ?? `${text.toLowerCase()}: ${err.code ?? err.message}` });
    socket.end(`HTTP/1.1 ${status} ${text}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  });
  server.on('upgrade', (req, socket: Duplex, head: Buffer) => {
    log.debug({ method: req.method, url: req.url }, 'upgrade');
    hijacked.add(socket);
    socket.on('close', () => hijacked.delete(socket));
    void router.handleUpgrade(req, socket, head);
  });
  const socketPath = s.hosts[0].slice('unix://'.length);
  try {
    await listen(server, socketPath, await gidOf(s.group));
  } catch (e) {
    log.error({ err: (e as Error).message }, 'cannot listen');
    closeSync(lockFd);
    return 1;
  }
  log.info({ version, dataRoot: s.dataRoot, execRoot: s.execRoot, runtime: s.runtime, seccompProfile: seccomp.source, init: initBinary ?? 'none', socket: socketPath, containers: containers.list().length }, 'tsd is listening');

  return new Promise<number>((done) => {
    const stop = async (signal: string) => {
      log.info({ signal, finishing: inFlight.size }, 'stopping; containers keep running');
      // No new connection; idle ones go now, and busy ones once their answer is sent.
      server.close();
      server.closeIdleConnections();
      for (const sock of hijacked) sock.destroy();
      const left = await inFlight.settle(STOP_DRAIN_MS);
      if (left) log.warn({ requests: left }, `stopping with ${left} request(s) unfinished after ${STOP_DRAIN_MS / 1000} s; the next start undoes what they left`);
      server.closeAllConnections();
      containers.close();
      void Promise.all([containers.events.close().catch(() => {}), rm(socketPath, { force: true }), rm(s.pidfile, { force: true }), rm(holderPath, { force: true })]).finally(() => {
        closeSync(lockFd);
        done(0);
      });
    };
    process.once('SIGTERM', () => void stop('SIGTERM'));
    process.once('SIGINT', () => void stop('SIGINT'));
  });
}
