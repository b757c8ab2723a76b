// What the daemon benches (tsd.mjs, network.mjs) share: the docker CLI's whole
// process timed against one daemon's socket (`d.socket`, `d.dockerConfig`),
// curl on the API, waiting for a daemon to answer and stopping it, and what a
// run may leave behind (mounts, container cgroups).
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };

export const freePort = () => new Promise((res) => { const s = createServer(); s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => res(p)); }); });

/** The docker CLI's whole process against one daemon: exit code, wall ms, stdout (or its byte count), stderr. */
export function cli(d, args, { countOnly = false, timeoutMs = 600_000 } = {}) {
  return new Promise((res) => {
    const t0 = process.hrtime.bigint();
    const p = spawn('docker', args, { env: { ...process.env, DOCKER_HOST: `unix://${d.socket}`, DOCKER_CONFIG: d.dockerConfig }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', bytes = 0, stderr = '';
    p.stdout.on('data', (b) => { bytes += b.length; if (!countOnly) stdout += b; });
    p.stderr.on('data', (b) => (stderr += b));
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('close', (code) => {
      clearTimeout(timer);
      res({ code: code ?? -1, ms: Number(process.hrtime.bigint() - t0) / 1e6, stdout, bytes, stderr });
    });
  });
}

/** The same request without the CLI: curl's whole process on the daemon's socket (ms, bytes of the body). */
export function api(d, path) {
  return new Promise((res, rej) => {
    const t0 = process.hrtime.bigint();
    const p = spawn('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code} %{size_download}', '--unix-socket', d.socket, `http://localhost/v1.41${path}`], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (b) => (out += b));
    p.on('close', () => {
      const [status, size] = out.trim().split(' ').map(Number);
      if (status !== 200) return rej(new Error(`${d.name}: GET ${path}: ${out}`));
      res({ ms: Number(process.hrtime.bigint() - t0) / 1e6, bytes: size });
    });
  });
}

export async function apiMedian(d, path, n) { const xs = []; let bytes = 0; for (let i = 0; i < n; i++) { const r = await api(d, path); xs.push(r.ms); bytes = r.bytes; } return { ms: median(xs), bytes }; }

export async function must(d, args, opts) {
  const r = await cli(d, args, opts);
  if (r.code !== 0) throw new Error(`${d.name}: docker ${args.join(' ')}: exit ${r.code}: ${r.stderr}`);
  return r;
}

/** Runs f over items with at most n at once. */
export async function pool(items, n, f) {
  const out = [];
  let next = 0;
  await Promise.all(Array.from({ length: n }, async () => { while (next < items.length) { const i = next++; out[i] = await f(items[i], i); } }));
  return out;
}

export async function removeAll(d) {
  const ids = (await must(d, ['ps', '-aq'])).stdout.split('\n').filter(Boolean);
  for (let i = 0; i < ids.length; i += 100) await cli(d, ['rm', '-f', ...ids.slice(i, i + 100)]);
  return ids.length;
}

export async function waitUp(d, child) {
  for (let i = 0; i < 300; i++) {
    if (existsSync(d.socket) && (await cli(d, ['version', '--format', '{{.Server.Version}}'])).code === 0) return;
    if (child.exitCode !== null) throw new Error(`${d.name} exited: ${readFileSync(d.logFile, 'utf8').slice(-3000)}`);
    await sleep(100);
  }
  throw new Error(`${d.name} did not answer: ${readFileSync(d.logFile, 'utf8').slice(-3000)}`);
}

export async function stopDaemon(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await Promise.race([exited, sleep(30_000)]);
  if (child.exitCode === null && child.signalCode === null) { child.kill('SIGKILL'); await exited; }
}

/** Containers' cgroups of both daemons: <controller>/{docker,tsd}/<64 hex> (v1) or /{docker,tsd}/<id> (v2). */
export function containerCgroups() {
  const v2 = existsSync('/sys/fs/cgroup/cgroup.controllers');
  const bases = (v2 ? [''] : readdirSync('/sys/fs/cgroup').map((c) => `/${c}`)).flatMap((c) => ['docker', 'tsd'].map((p) => `/sys/fs/cgroup${c}/${p}`));
  return bases.filter((b) => existsSync(b)).flatMap((b) => readdirSync(b).filter((e) => /^[a-f0-9]{64}$/.test(e)).map((e) => `${b}/${e}`));
}

export const mountsUnder = (dir) => readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4]).filter((m) => m && m.startsWith(dir));

/** A private docker-registry on 127.0.0.1 with its storage under `dir`. */
export async function startRegistry(dir) {
  const { mkdirSync, writeFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const registry = { port: await freePort(), dir };
  registry.host = `127.0.0.1:${registry.port}`;
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.yml'), `version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: ${dir}/data\nhttp:\n  addr: ${registry.host}\n`);
  registry.child = spawn('docker-registry', ['serve', join(dir, 'config.yml')], { stdio: 'ignore' });
  return registry;
}

/**
 * The same busybox image in both daemons: `archive` (a docker-archive) loaded into dockerd,
 * pushed from there to `registry`, pulled by tsd (started with --registry-mirror on it).
 */
export async function shareBusybox(dockerd, tsd, registry, archive) {
  await must(dockerd, ['load', '-i', archive]);
  await must(dockerd, ['tag', 'busybox:tsrun-test', 'busybox:latest']);
  await must(dockerd, ['tag', 'busybox:tsrun-test', `${registry.host}/library/busybox:latest`]);
  await must(dockerd, ['push', `${registry.host}/library/busybox:latest`]);
  await must(dockerd, ['rmi', `${registry.host}/library/busybox:latest`]);
  await must(tsd, ['pull', 'busybox']);
}
