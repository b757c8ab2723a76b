// A private tsd per test file (its own data root, exec root, socket and
// pidfile under a temp dir, started as a child process) with a private
// docker-registry holding busybox (from the host's busybox-static), driven by
// the real docker CLI with DOCKER_HOST pointing at it.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { buildLayer, busyboxFiles, push, writeLayout } from '../images/buildImage.js';
import { startRegistry, type Registry } from '../images/registry.js';

const TSD = resolve(import.meta.dirname, '../../bin/tsd');

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

export interface Tsd {
  dir: string;
  socket: string;
  dataRoot: string;
  execRoot: string;
  registry: Registry;
  /** Container cgroups that existed before this tsd started (another tsd's). */
  cgroupsBefore: string[];
  /** The real docker CLI against this tsd. */
  docker(args: string[], opts?: { input?: string; timeoutMs?: number }): Promise<Result>;
  /** A shell command line (docker commands against this tsd) under `script`, which gives it a pty as stdin/stdout. */
  underPty(command: string, opts?: { timeoutMs?: number }): Promise<Result>;
  /** The daemon's own log (pino JSON lines). */
  log(): string;
  /** Starts tsd again on the same roots (after `stop` or a kill); `prefix` (kept for later restarts)
   * runs it through a wrapper, e.g. `nsenter --net=...` into a test's network namespace. */
  restart(opts?: { prefix?: string[] }): Promise<void>;
  process(): ChildProcess;
  /** SIGTERM and wait. */
  stop(): Promise<void>;
  /** SIGKILL (kill -9) and wait: no clean-up of any kind. */
  kill9(): Promise<void>;
  /** Stops everything and removes the temp dir. */
  close(): Promise<void>;
}

/**
 * `network`: containers get the default bridge network (tsd's default). Off unless asked for,
 * so that only the network tests, which run tsd in a network namespace of their own, make
 * bridges and iptables rules: the others run tsd with --bridge none (containers as none).
 */
export async function startTsd(extra: string[] = [], opts: { network?: boolean } = {}): Promise<Tsd> {
  const cgroupsBefore = containerCgroups();
  const dir = mkdtempSync(join(tmpdir(), 'tsd-test-'));
  const socket = join(dir, 'tsd.sock');
  const dataRoot = join(dir, 'data');
  const execRoot = join(dir, 'exec');
  const registry = await startRegistry();
  const layout = join(dir, 'layout');
  writeLayout(layout, { layers: [buildLayer(busyboxFiles())] });
  push(layout, `${registry.host}/library/busybox:latest`);
  let child!: ChildProcess;
  let log = '';
  let prefix: string[] = [];
  const args = ['-H', `unix://${socket}`, '--data-root', dataRoot, '--exec-root', execRoot, '--pidfile', join(dir, 'tsd.pid'),
    '--registry-mirror', `http://${registry.host}`, '--log-level', 'debug', ...(opts.network ? [] : ['--bridge', 'none']), ...extra];
  const env = { ...process.env, DOCKER_HOST: `unix://${socket}`, DOCKER_CONFIG: join(dir, 'docker-config') };
  const docker: Tsd['docker'] = (dargs, opts = {}) => new Promise((res) => {
    const p = spawn('docker', dargs, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => p.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
    p.on('close', (code) => {
      clearTimeout(timer);
      res({ code: code ?? -1, stdout, stderr });
    });
    if (opts.input !== undefined) p.stdin.end(opts.input);
    else p.stdin.end();
  });
  const underPty: Tsd['underPty'] = (command, opts = {}) => new Promise((res) => {
    const p = spawn('script', ['-qec', command, '/dev/null'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => p.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
    p.on('close', (code) => {
      clearTimeout(timer);
      res({ code: code ?? -1, stdout, stderr });
    });
    p.stdin.end();
  });
  const start = async (opts: { prefix?: string[] } = {}) => {
    prefix = opts.prefix ?? prefix;
    child = prefix.length ? spawn(prefix[0], [...prefix.slice(1), TSD, ...args], { stdio: ['ignore', 'ignore', 'pipe'] }) : spawn(TSD, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr!.on('data', (d) => (log += d));
    for (let i = 0; i < 100; i++) {
      if (existsSync(socket) && (await docker(['version', '--format', '{{.Server.APIVersion}}'])).code === 0) return;
      if (child.exitCode !== null) throw new Error(`tsd exited: ${log}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`tsd did not answer: ${log}`);
  };
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  };
  try {
    await start();
  } catch (e) {
    // A tsd that does not come up leaves neither its registry nor its temp dir.
    await registry.stop();
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  return {
    dir, socket, dataRoot, execRoot, registry, cgroupsBefore, docker, underPty,
    log: () => log,
    restart: start,
    process: () => child,
    stop,
    async kill9() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
    },
    async close() {
      await stop();
      await registry.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** What a test file must not leave: shims of this tsd, mounts or cgroups of its containers, records, shim dirs. */
export function leftovers(t: Tsd): string[] {
  const out: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (cmd.includes('tsrun-shim') && cmd.includes(t.execRoot)) out.push(`shim ${pid}`);
    } catch { /* exited */ }
  }
  for (const l of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) if (l.includes(t.dir)) out.push(`mount ${l.split(' ')[4]}`);
  const containers = join(t.dataRoot, 'containers');
  if (existsSync(containers)) for (const e of readdirSync(containers)) out.push(`record ${e}`);
  if (existsSync(t.execRoot)) for (const e of readdirSync(t.execRoot)) if (e !== 'runtime' && e !== 'netns') out.push(`shim dir ${e}`);
  const pins = join(t.execRoot, 'netns');
  if (existsSync(pins)) for (const e of readdirSync(pins)) out.push(`netns pin ${e}`);
  const runtimeRoot = join(t.execRoot, 'runtime');
  if (existsSync(runtimeRoot)) for (const e of readdirSync(runtimeRoot)) out.push(`runtime state ${e}`);
  for (const c of containerCgroups()) if (!t.cgroupsBefore.includes(c)) out.push(`cgroup ${c}`);
  return out;
}

/** The containers' cgroups of every tsd: /tsd/<id> (v2) or <controller>/tsd/<id> (v1). */
function containerCgroups(): string[] {
  const v2 = existsSync('/sys/fs/cgroup/cgroup.controllers');
  const bases = v2 ? ['/sys/fs/cgroup/tsd'] : readdirSync('/sys/fs/cgroup').map((c) => `/sys/fs/cgroup/${c}/tsd`);
  return bases.filter((b) => existsSync(b)).flatMap((b) => readdirSync(b).filter((e) => /^[a-f0-9]{64}$/.test(e)).map((e) => `${b}/${e}`));
}

/**
 * Ends a test file: what it left (see leftovers), measured first; then the containers a
 * failed test left are removed and tsd is stopped, so the temp dir can go. When something
 * was left, tsd's warnings and errors are printed to explain it.
 */
export async function closeAndCheck(t: Tsd): Promise<string[]> {
  const left = leftovers(t);
  if (left.length) console.log(t.log().split('\n').filter((l) => /warn|error|cgroup/i.test(l)).slice(-40).join('\n'));
  const ids = (await t.docker(['ps', '-aq'])).stdout.split('\n').filter(Boolean);
  if (ids.length) await t.docker(['rm', '-f', ...ids]);
  await t.close();
  return left;
}
