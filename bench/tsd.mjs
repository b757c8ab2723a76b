#!/usr/bin/env node
// tsd against Debian's dockerd 20.10 (+ the containerd it starts, + runc), side by side in
// one run, both driven by the real docker CLI (its whole process timed, the same way for
// both). Writes bench/results-tsd.md. Run it under the shared test lock (npm run bench:tsd):
//   node bench/tsd.mjs [--rounds N] [--no-1000] [--execs N]
// Both daemons are private: own data root, exec root, unix socket and pidfile under a temp
// dir; dockerd with --bridge=none --iptables=false --ip-masq=false, tsd with --bridge none (no host networking). The
// busybox image is built once (test/engines/image.mjs), `docker load`ed into dockerd, pushed
// from there to a private docker-registry, and pulled by tsd through --registry-mirror, so
// both run the same image. Everything is removed afterwards.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, release, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildBusyboxImage, dockerArchiveOf } from '../test/engines/image.mjs';
import { api, apiMedian, cli, containerCgroups, freePort, median, mountsUnder, must, pool, removeAll, sleep, stopDaemon, waitUp } from './daemons.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const arg = (name, def) => (process.argv.includes(name) ? Number(process.argv[process.argv.indexOf(name) + 1]) : def);
const ROUNDS = arg('--rounds', 20);
const CONCURRENT = 50;
const PS_CONTAINERS = 200;
const RSS_CONTAINERS = 20;
const EXECS = arg('--execs', 1000);
const LOG_BYTES = 200 * 1024 * 1024;
const want1000 = !process.argv.includes('--no-1000');
const which = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).stdout.trim();
for (const c of ['docker', 'dockerd', 'containerd', 'runc', 'docker-registry']) if (!which(c)) throw new Error(`bench/tsd.mjs needs ${c}`);

const base = mkdtempSync(join(tmpdir(), 'tsd-bench-'));
const log = (...a) => process.stderr.write(`[bench:tsd ${new Date().toISOString().slice(11, 19)}] ${a.join(' ')}\n`);
const vmRssKiB = (pid) => { try { return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0); } catch { return 0; } };
const procs = () => readdirSync('/proc').filter((p) => /^\d+$/.test(p)).map((pid) => {
  try {
    return { pid: Number(pid), cmd: readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' '), ppid: Number(/PPid:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) };
  } catch { return undefined; }
}).filter(Boolean);

const cgroupsBefore = containerCgroups();

// --- the daemons -------------------------------------------------------------------------
const registry = { port: await freePort(), dir: join(base, 'registry') };
registry.host = `127.0.0.1:${registry.port}`;
mkdirSync(registry.dir);
writeFileSync(join(registry.dir, 'config.yml'), `version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: ${registry.dir}/data\nhttp:\n  addr: ${registry.host}\n`);
registry.child = spawn('docker-registry', ['serve', join(registry.dir, 'config.yml')], { stdio: 'ignore' });

const dockerd = { name: 'dockerd', dir: join(base, 'dockerd'), execRoot: '/run/tsd-bench-dockerd-' + process.pid, dockerConfig: join(base, 'docker-config') };
dockerd.socket = join(dockerd.dir, 'docker.sock');
dockerd.logFile = join(tmpdir(), `tsd-bench-${process.pid}-dockerd.log`);
const tsd = { name: 'tsd', dir: join(base, 'tsd'), dockerConfig: join(base, 'docker-config') };
tsd.socket = join(tsd.dir, 'tsd.sock');
tsd.execRoot = join(tsd.dir, 'exec');
tsd.logFile = join(tmpdir(), `tsd-bench-${process.pid}-tsd.log`);
const daemons = [tsd, dockerd];
const results = { runRm: {}, concurrent: {}, ps: {}, logs: {}, logsCapped: {}, shim: {}, idle: {}, idleAfter: {}, floor: {}, psApi: {}, execRss: {} };
let image;

function dockerdPids() {
  const ps = procs();
  const ctrd = ps.filter((p) => p.ppid === dockerd.child.pid && /containerd( |$)/.test(p.cmd.split(' ')[0]));
  return [dockerd.child.pid, ...ctrd.map((p) => p.pid)];
}
const shimPids = (d) => procs().filter((p) => (d === tsd ? p.cmd.includes('tsrun-shim') : p.cmd.includes('containerd-shim-runc-v2')) && p.cmd.includes(d.execRoot)).map((p) => p.pid);
const daemonRss = (d) => (d === tsd ? [tsd.child.pid] : dockerdPids()).reduce((s, p) => s + vmRssKiB(p), 0);

try {
  mkdirSync(dockerd.dir);
  mkdirSync(tsd.dir);
  dockerd.child = spawn('dockerd', ['--data-root', join(dockerd.dir, 'data'), '--exec-root', dockerd.execRoot, '-H', `unix://${dockerd.socket}`,
    '--pidfile', join(dockerd.dir, 'docker.pid'), '--bridge=none', '--iptables=false', '--ip-masq=false', '--ip6tables=false'],
  { stdio: ['ignore', openSync(dockerd.logFile, 'w'), openSync(dockerd.logFile, 'a')] });
  await waitUp(dockerd, dockerd.child);
  log('dockerd up; building and loading busybox');
  image = buildBusyboxImage();
  await must(dockerd, ['load', '-i', dockerArchiveOf(image)]);
  await must(dockerd, ['tag', 'busybox:tsrun-test', 'busybox:latest']);
  await must(dockerd, ['tag', 'busybox:tsrun-test', `${registry.host}/library/busybox:latest`]);
  await must(dockerd, ['push', `${registry.host}/library/busybox:latest`]);
  await must(dockerd, ['rmi', `${registry.host}/library/busybox:latest`]);
  tsd.child = spawn(resolve(here, '../bin/tsd'), ['-H', `unix://${tsd.socket}`, '--data-root', join(tsd.dir, 'data'), '--exec-root', tsd.execRoot,
    '--pidfile', join(tsd.dir, 'tsd.pid'), '--registry-mirror', `http://${registry.host}`, '--log-level', 'info', '--bridge', 'none'],
  { stdio: ['ignore', openSync(tsd.logFile, 'w'), openSync(tsd.logFile, 'a')] });
  await waitUp(tsd, tsd.child);
  await must(tsd, ['pull', 'busybox']);
  const ids = await Promise.all(daemons.map(async (d) => (await must(d, ['image', 'inspect', '--format', '{{.Id}}', 'busybox'])).stdout.trim()));
  log(`image ids: tsd ${ids[0]} dockerd ${ids[1]}`);
  const versions = await Promise.all(daemons.map(async (d) => (await must(d, ['version', '--format', '{{.Server.Version}} (API {{.Server.APIVersion}})'])).stdout.trim()));
  const cliVersion = (await must(dockerd, ['version', '--format', '{{.Client.Version}}'])).stdout.trim();
  const driver = (await must(dockerd, ['info', '--format', '{{.Driver}}'])).stdout.trim();

  // --- idle RSS: image present, no containers, 3 s after the last request ---------------
  await sleep(3000);
  for (const d of daemons) results.idle[d.name] = daemonRss(d);

  // --- docker run --rm busybox true, alternating -----------------------------------------
  log(`run --rm: ${ROUNDS} alternating rounds (2 warm-up)`);
  for (let i = -2; i < ROUNDS; i++)
    for (const d of daemons) {
      const r = await must(d, ['run', '--rm', '--network', 'none', 'busybox', 'true']);
      if (i >= 0) (results.runRm[d.name] ??= []).push(r.ms);
    }

  // --- the CLI's own floor: docker --version (no daemon), and 50 concurrent docker version --
  { const xs = []; for (let i = 0; i < 12; i++) { const r = await must(tsd, ['--version']); if (i >= 2) xs.push(r.ms); } results.floor.version = median(xs); }
  for (const d of daemons) {
    const t0 = process.hrtime.bigint();
    await Promise.all(Array.from({ length: CONCURRENT }, () => must(d, ['version'])));
    results.floor[`concurrent-${d.name}`] = Number(process.hrtime.bigint() - t0) / 1e6;
  }

  // --- 50 concurrent docker run -d busybox sleep 1000 ------------------------------------
  for (const d of daemons) {
    log(`${d.name}: ${CONCURRENT} concurrent run -d`);
    const t0 = process.hrtime.bigint();
    const rs = await Promise.all(Array.from({ length: CONCURRENT }, () => cli(d, ['run', '-d', '--network', 'none', 'busybox', 'sleep', '1000'])));
    const wall = Number(process.hrtime.bigint() - t0) / 1e6;
    const failed = rs.filter((r) => r.code !== 0);
    const running = (await must(d, ['ps', '-q'])).stdout.split('\n').filter(Boolean).length;
    results.concurrent[d.name] = { wall, failures: failed.length, running, errors: [...new Set(failed.map((r) => r.stderr.trim().split('\n').pop()))].slice(0, 3) };
    await removeAll(d);
  }

  // --- shim RSS over 20 running containers -----------------------------------------------
  for (const d of daemons) {
    log(`${d.name}: ${RSS_CONTAINERS} running containers for shim RSS`);
    await pool(Array.from({ length: RSS_CONTAINERS }), 4, () => must(d, ['run', '-d', '--network', 'none', 'busybox', 'sleep', '1000']));
    await sleep(2000);
    const pids = shimPids(d);
    const kib = pids.reduce((s, p) => s + vmRssKiB(p), 0);
    results.shim[d.name] = { shims: pids.length, perContainer: kib / RSS_CONTAINERS };
    await removeAll(d);
  }

  // --- one shim's RSS across EXECS docker execs (4 at a time): the issue wants it flat -----
  for (const d of daemons) {
    log(`${d.name}: ${EXECS} execs in one container for the shim's RSS`);
    const id = (await must(d, ['run', '-d', '--network', 'none', 'busybox', 'sleep', '1000'])).stdout.trim();
    await must(d, ['exec', id, 'true']);
    await sleep(500);
    const [pid] = shimPids(d);
    const before = vmRssKiB(pid);
    const t0 = Date.now();
    const rs = await pool(Array.from({ length: EXECS }), 4, () => cli(d, ['exec', id, 'true']));
    await sleep(500);
    results.execRss[d.name] = { before, after: vmRssKiB(pid), failures: rs.filter((r) => r.code !== 0).length, wall: Date.now() - t0 };
    await removeAll(d);
  }

  // --- docker ps -a with 200 (and for tsd 1000) created containers ------------------------
  const psTimes = async (d) => { const xs = []; for (let i = 0; i < 12; i++) { const r = await must(d, ['ps', '-a']); if (i >= 2) xs.push(r.ms); } return xs; };
  for (const d of daemons) {
    log(`${d.name}: creating ${PS_CONTAINERS} containers`);
    await pool(Array.from({ length: PS_CONTAINERS }), 4, () => must(d, ['create', '--network', 'none', 'busybox', 'true']));
  }
  for (let i = 0; i < 2; i++) for (const d of daemons) (results.ps[d.name] ??= []).push(...await psTimes(d));
  for (const d of daemons) results.psApi[d.name] = await apiMedian(d, '/containers/json?all=1', 10);
  for (const d of daemons) results.ps[`${d.name}Lines`] = (await must(d, ['ps', '-aq'])).stdout.split('\n').filter(Boolean).length;
  if (want1000) {
    log(`tsd: creating ${1000 - PS_CONTAINERS} more containers`);
    const t0 = process.hrtime.bigint();
    await pool(Array.from({ length: 1000 - PS_CONTAINERS }), 4, () => must(tsd, ['create', '--network', 'none', 'busybox', 'true']));
    results.ps.tsd1000create = Number(process.hrtime.bigint() - t0) / 1e6;
    results.ps.tsd1000 = await psTimes(tsd);
    results.psApi.tsd1000 = await apiMedian(tsd, '/containers/json?all=1', 10);
    results.ps.tsd1000Lines = (await must(tsd, ['ps', '-aq'])).stdout.split('\n').filter(Boolean).length;
  }
  for (const d of daemons) { log(`${d.name}: removing`); await removeAll(d); }

  // --- docker logs of a container that wrote 200 MiB -------------------------------------
  // 1 KiB lines (1023 x + newline) from busybox yes | head -c: 204800 log entries.
  const writer = `yes "$(head -c 1023 /dev/zero | tr '\\0' x)" | head -c ${LOG_BYTES}`;
  for (const d of daemons) {
    log(`${d.name}: writing ${LOG_BYTES >> 20} MiB of logs`);
    const id = (await must(d, ['run', '-d', '--network', 'none', 'busybox', 'sh', '-c', writer])).stdout.trim();
    const t0 = process.hrtime.bigint();
    await must(d, ['wait', id]);
    const writeMs = Number(process.hrtime.bigint() - t0) / 1e6;
    const xs = [];
    let bytes = 0;
    for (let i = 0; i < 3; i++) { const r = await must(d, ['logs', id], { countOnly: true }); xs.push(r.ms); bytes = r.bytes; }
    results.logs[d.name] = { ms: median(xs), bytes, writeMs, api: await apiMedian(d, `/containers/${id}/logs?stdout=1&stderr=1`, 3) };
    await removeAll(d);
  }
  // dockerd with tsd's default rotation (10 MiB x 3), so both return about the same bytes
  {
    const id = (await must(dockerd, ['run', '-d', '--network', 'none', '--log-opt', 'max-size=10m', '--log-opt', 'max-file=3', 'busybox', 'sh', '-c', writer])).stdout.trim();
    await must(dockerd, ['wait', id]);
    const xs = [];
    let bytes = 0;
    for (let i = 0; i < 3; i++) { const r = await must(dockerd, ['logs', id], { countOnly: true }); xs.push(r.ms); bytes = r.bytes; }
    results.logsCapped.dockerd = { ms: median(xs), bytes };
    await removeAll(dockerd);
  }

  await sleep(3000);
  for (const d of daemons) results.idleAfter[d.name] = daemonRss(d);

  // --- the table --------------------------------------------------------------------------
  const mib = (b) => b / 1048576;
  const rr = results.runRm, c = results.concurrent, ps = results.ps, lg = results.logs, sh = results.shim;
  const f1 = (x) => x.toFixed(1), ratio = (a, b) => `${(a / b).toFixed(2)}×`;
  const mr = (n) => median(rr[n]);
  const mps = (n) => median(ps[n]);
  const lgRate = (n) => mib(lg[n].bytes) / (lg[n].ms / 1000);
  const range = (xs) => `${f1(Math.min(...xs))}–${f1(Math.max(...xs))}`;
  const rows = [
    ['`docker run --rm busybox true` (median ms, min–max)', `${f1(mr('tsd'))} (${range(rr.tsd)})`, `${f1(mr('dockerd'))} (${range(rr.dockerd)})`, ratio(mr('tsd'), mr('dockerd')), '≤ 0.5×'],
    [`${CONCURRENT} concurrent \`docker run -d busybox sleep 1000\` (wall s; failures)`, `${(c.tsd.wall / 1000).toFixed(2)}; ${c.tsd.failures} failed`, `${(c.dockerd.wall / 1000).toFixed(2)}; ${c.dockerd.failures} failed`, ratio(c.tsd.wall, c.dockerd.wall), '≤ 1.5 s, 0 failures'],
    [`\`docker ps -a\` with ${PS_CONTAINERS} created (not running) containers (median ms)`, f1(mps('tsd')), f1(mps('dockerd')), ratio(mps('tsd'), mps('dockerd')), '< 50 ms with 1000'],
  ];
  if (ps.tsd1000) rows.push(['`docker ps -a` with 1000 created containers (median ms)', f1(median(ps.tsd1000)), 'not measured', '', '< 50 ms']);
  rows.push(
    [`\`docker logs\` of a container that wrote ${LOG_BYTES >> 20} MiB (MiB/s; MiB returned)`, `${f1(lgRate('tsd'))}; ${f1(mib(lg.tsd.bytes))}`, `${f1(lgRate('dockerd'))}; ${f1(mib(lg.dockerd.bytes))}`, ratio(lgRate('tsd'), lgRate('dockerd')), '≥ 100 MiB/s'],
    [`\`docker logs\`, dockerd with tsd's rotation (\`--log-opt max-size=10m --log-opt max-file=3\`) (MiB/s; MiB returned)`, `${f1(lgRate('tsd'))}; ${f1(mib(lg.tsd.bytes))}`, `${f1(mib(results.logsCapped.dockerd.bytes) / (results.logsCapped.dockerd.ms / 1000))}; ${f1(mib(results.logsCapped.dockerd.bytes))}`, ratio(lgRate('tsd'), mib(results.logsCapped.dockerd.bytes) / (results.logsCapped.dockerd.ms / 1000)), '≥ 100 MiB/s'],
    [`shim RSS per running container (MiB; VmRSS sum over the shims of ${RSS_CONTAINERS} / ${RSS_CONTAINERS})`, `${(sh.tsd.perContainer / 1024).toFixed(2)} (tsrun-shim ×${sh.tsd.shims})`, `${(sh.dockerd.perContainer / 1024).toFixed(2)} (containerd-shim-runc-v2 ×${sh.dockerd.shims})`, ratio(sh.tsd.perContainer, sh.dockerd.perContainer), '≤ 1 MiB'],
    [`one shim's RSS before / after ${EXECS} \`docker exec\` (MiB; failures)`, `${(results.execRss.tsd.before / 1024).toFixed(2)} / ${(results.execRss.tsd.after / 1024).toFixed(2)}; ${results.execRss.tsd.failures}`, `${(results.execRss.dockerd.before / 1024).toFixed(2)} / ${(results.execRss.dockerd.after / 1024).toFixed(2)}; ${results.execRss.dockerd.failures}`, ratio(results.execRss.tsd.after, results.execRss.dockerd.after), 'flat, ≤ 1 MiB'],
    ['idle daemon RSS, image loaded, no containers yet (MiB)', f1(results.idle.tsd / 1024), `${f1(results.idle.dockerd / 1024)} (dockerd + containerd)`, ratio(results.idle.tsd, results.idle.dockerd), '≤ 50 MiB'],
    ['idle daemon RSS after the bench, containers removed (MiB)', f1(results.idleAfter.tsd / 1024), `${f1(results.idleAfter.dockerd / 1024)} (dockerd + containerd)`, ratio(results.idleAfter.tsd, results.idleAfter.dockerd), '≤ 50 MiB'],
  );
  const apiRate = (n) => mib(lg[n].api.bytes) / (lg[n].api.ms / 1000);
  const without = [
    '',
    'Without the CLI, the same requests by `curl --unix-socket` (whole process, median), to tell the daemon\'s share from the CLI\'s:',
    '',
    '| request | tsd | dockerd | tsd/dockerd |',
    '|---|---|---|---|',
    `| \`docker --version\` (the CLI's start, no daemon) | ${f1(results.floor.version)} ms | same CLI | |`,
    `| ${CONCURRENT} concurrent \`docker version\` (wall ms) | ${f1(results.floor['concurrent-tsd'])} | ${f1(results.floor['concurrent-dockerd'])} | ${ratio(results.floor['concurrent-tsd'], results.floor['concurrent-dockerd'])} |`,
    `| GET /containers/json?all=1, ${PS_CONTAINERS} containers (ms; KiB) | ${f1(results.psApi.tsd.ms)}; ${(results.psApi.tsd.bytes / 1024).toFixed(0)} | ${f1(results.psApi.dockerd.ms)}; ${(results.psApi.dockerd.bytes / 1024).toFixed(0)} | ${ratio(results.psApi.tsd.ms, results.psApi.dockerd.ms)} |`,
    ...(results.psApi.tsd1000 ? [`| GET /containers/json?all=1, 1000 containers (ms; KiB) | ${f1(results.psApi.tsd1000.ms)}; ${(results.psApi.tsd1000.bytes / 1024).toFixed(0)} | | |`] : []),
    `| GET /containers/{id}/logs (MiB/s; MiB) | ${f1(apiRate('tsd'))}; ${f1(mib(lg.tsd.api.bytes))} | ${f1(apiRate('dockerd'))}; ${f1(mib(lg.dockerd.api.bytes))} | ${ratio(apiRate('tsd'), apiRate('dockerd'))} |`,
  ];
  const md = [
    '# tsd vs dockerd',
    '',
    `Measured ${new Date().toISOString()} by \`npm run bench:tsd\` (bench/tsd.mjs) on ${cpus().length} × ${cpus()[0]?.model.trim()}, kernel ${release()}, Node ${process.version}.`,
    `Daemons: tsd ${versions[0]} over tsrun-shim and bin/tsrun; dockerd ${versions[1]} with the containerd it starts (containerd-shim-runc-v2, runc), storage driver ${driver}, \`--bridge=none --iptables=false --ip-masq=false\`. Client: docker CLI ${cliVersion}, every command timed as the CLI's whole process against each daemon's socket; \`--network none\` on both.`,
    `The same busybox image in both (\`docker load\` into dockerd, pushed from there to a private docker-registry, pulled by tsd through \`--registry-mirror\`). run --rm: ${ROUNDS} alternating rounds after 2 warm-up rounds each. ps -a: 20 runs per daemon, two alternating blocks of 10 after 2 warm-up runs. logs: 1 KiB lines (\`yes "<1023 x>" | head -c ${LOG_BYTES}\`), median of 3 reads into a pipe after the writer exited.`,
    '',
    '| benchmark | tsd | dockerd | tsd/dockerd | goal |',
    '|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.join(' | ')} |`),
    '',
    `Details: ${CONCURRENT} concurrent: tsd ${c.tsd.running} running afterwards${c.tsd.errors.length ? `, errors: ${c.tsd.errors.join('; ')}` : ''}; dockerd ${c.dockerd.running} running${c.dockerd.errors.length ? `, errors: ${c.dockerd.errors.join('; ')}` : ''}. ` +
      `ps -a listed ${ps.tsdLines} (tsd) and ${ps.dockerdLines} (dockerd) containers${ps.tsd1000 ? `; tsd ${ps.tsd1000Lines} for the 1000 row (800 more \`docker create\` took ${(ps.tsd1000create / 1000).toFixed(1)} s, 4 at a time)` : ''}. ` +
      `logs: tsd's default json-file rotation is 10 MiB × 3 (\`--log-opt max-size/max-file\` change it), so it returns only the last ${f1(mib(lg.tsd.bytes))} MiB; dockerd's default json-file has no limit. The writer took ${(lg.tsd.writeMs / 1000).toFixed(1)} s on tsd and ${(lg.dockerd.writeMs / 1000).toFixed(1)} s on dockerd to exit; each \`docker logs\` read took ${f1(lg.tsd.ms)} ms (tsd) and ${f1(lg.dockerd.ms)} ms (dockerd).`,
    ...without,
    '',
  ];
  writeFileSync(join(here, 'results-tsd.md'), md.join('\n'));
  for (const d of daemons) rmSync(d.logFile, { force: true });
  process.stdout.write(md.join('\n'));
} finally {
  // --- clean up: containers, daemons, registry, mounts, roots ------------------------------
  log('cleaning up');
  for (const d of daemons) if (d.child && d.child.exitCode === null) { try { await removeAll(d); } catch (e) { log(`${d.name}: ${e.message}`); } }
  for (const d of daemons) if (d.child) await stopDaemon(d.child);
  if (registry.child) await stopDaemon(registry.child);
  const left = [...shimPids(tsd), ...shimPids(dockerd)];
  if (left.length) log(`shims left: ${left.join(' ')}`);
  for (const dir of [base, dockerd.execRoot]) {
    for (const m of mountsUnder(dir).reverse()) spawnSync('umount', ['-l', m]);
    const still = mountsUnder(dir);
    if (still.length) log(`mounts left under ${dir}: ${still.join(' ')}`);
  }
  rmSync(dockerd.execRoot, { recursive: true, force: true });
  rmSync(base, { recursive: true, force: true });
  const cgroupsLeft = containerCgroups().filter((c) => !cgroupsBefore.includes(c));
  if (cgroupsLeft.length) log(`container cgroups left: ${cgroupsLeft.join(' ')}`);
  const leftovers = [...left, ...mountsUnder(base), ...mountsUnder(dockerd.execRoot), ...cgroupsLeft, ...[base, dockerd.execRoot].filter((d) => existsSync(d))];
  log(leftovers.length ? `LEFT BEHIND: ${leftovers.join(' ')}` : 'nothing left behind (shims, mounts, container cgroups, roots)');
  if (leftovers.length) process.exitCode = 1;
  if (image) { rmSync(image, { force: true }); rmSync(dockerArchiveOf(image), { force: true }); }
}
