#!/usr/bin/env node
// `docker build` on tsd against dockerd 20.10's classic builder, side by side in one run, both
// driven by the real docker CLI with DOCKER_BUILDKIT=0 (its whole process timed the same way):
// a 6-step Dockerfile (FROM, WORKDIR, COPY, RUN, COPY, CMD) built cold (--no-cache), rebuilt
// with nothing changed, and rebuilt with only the last COPY's file changed — the seeds' "changed
// code only? rebuild takes 1 second, not 91". Both daemons private (own roots and sockets,
// dockerd --bridge=none, tsd --bridge none: RUN steps need no network). Writes
// bench/results-build.md. Run it under the shared test lock (npm run bench:build):
//   node bench/build.mjs [--rounds N]
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, release, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildBusyboxImage, dockerArchiveOf } from '../test/engines/image.mjs';
import { containerCgroups, median, mountsUnder, must, removeAll, shareBusybox, startRegistry, stopDaemon, waitUp } from './daemons.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const arg = (name, def) => (process.argv.includes(name) ? Number(process.argv[process.argv.indexOf(name) + 1]) : def);
const ROUNDS = arg('--rounds', 5);
const log = (...a) => process.stderr.write(`[bench:build ${new Date().toISOString().slice(11, 19)}] ${a.join(' ')}\n`);
// The classic builder on both (the CLI's BuildKit needs buildx, which is not installed here).
process.env.DOCKER_BUILDKIT = '0';

const base = mkdtempSync(join(tmpdir(), 'tsd-buildbench-'));
const cgroupsBefore = containerCgroups();
const registry = await startRegistry(join(base, 'registry'));
const mk = (name, execRoot) => ({
  name, dir: join(base, name), execRoot, dockerConfig: join(base, 'docker-config'),
  socket: join(base, name, `${name}.sock`), logFile: join(tmpdir(), `tsd-buildbench-${process.pid}-${name}.log`),
});
// Short exec roots: the shims' sockets live there (sun_path holds 108 bytes).
const dockerd = mk('dockerd', `/run/tsd-buildbench-dockerd-${process.pid}`);
const tsd = mk('tsd', `/run/tsd-buildbench-tsd-${process.pid}`);
const daemons = [tsd, dockerd];

function spawnDaemon(d) {
  const args = d === dockerd
    ? ['dockerd', '--data-root', join(d.dir, 'data'), '--exec-root', d.execRoot, '-H', `unix://${d.socket}`, '--pidfile', join(d.dir, 'pid'), '--bridge=none', '--iptables=false', '--ip-masq=false', '--ip6tables=false']
    : [resolve(here, '../bin/tsd'), '-H', `unix://${d.socket}`, '--data-root', join(d.dir, 'data'), '--exec-root', d.execRoot, '--pidfile', join(d.dir, 'pid'),
      '--registry-mirror', `http://${registry.host}`, '--log-level', 'info', '--bridge', 'none'];
  d.child = spawn(args[0], args.slice(1), { stdio: ['ignore', openSync(d.logFile, 'a'), openSync(d.logFile, 'a')] });
  return waitUp(d, d.child);
}

// The context: a small app whose last COPY is the part that changes.
const ctx = join(base, 'context');
mkdirSync(join(ctx, 'src'), { recursive: true });
writeFileSync(join(ctx, 'Dockerfile'), [
  'FROM busybox',
  'WORKDIR /app',
  'COPY deps.txt ./',
  'RUN for i in $(seq 1 2000); do echo "dependency $i"; done > deps.lock && sync',
  'COPY src ./src',
  'CMD ["cat", "src/main.txt"]',
  '',
].join('\n'));
writeFileSync(join(ctx, 'deps.txt'), 'left-pad 1.3.0\n');
for (let i = 0; i < 20; i++) writeFileSync(join(ctx, 'src', `mod${i}.txt`), `module ${i}\n`.repeat(100));
const setMain = (v) => writeFileSync(join(ctx, 'src', 'main.txt'), `version ${v}\n`);
setMain(0);

const build = async (d, extra = []) => (await must(d, ['build', '-q', '-t', 'bench-app:1', ...extra, ctx])).ms;

const results = {};
let image;
try {
  for (const d of daemons) mkdirSync(d.dir, { recursive: true });
  await spawnDaemon(dockerd);
  await spawnDaemon(tsd);
  image = buildBusyboxImage();
  await shareBusybox(dockerd, tsd, registry, dockerArchiveOf(image));
  const versions = await Promise.all(daemons.map(async (d) => (await must(d, ['version', '--format', '{{.Server.Version}}'])).stdout.trim()));
  const cliVersion = (await must(tsd, ['version', '--format', '{{.Client.Version}}'])).stdout.trim();
  // Each build's output must be the same on both (the image really was rebuilt where it should be).
  for (const d of daemons) {
    await build(d);
    const out = (await must(d, ['run', '--rm', 'bench-app:1'])).stdout;
    if (out !== 'version 0\n') throw new Error(`${d.name}: the built image printed ${JSON.stringify(out)}`);
  }
  const xs = Object.fromEntries(daemons.map((d) => [d.name, { cold: [], same: [], changed: [] }]));
  let v = 0;
  for (let i = 0; i < ROUNDS; i++) {
    log(`round ${i + 1}/${ROUNDS}`);
    for (const d of i % 2 ? [...daemons].reverse() : daemons) {
      xs[d.name].cold.push(await build(d, ['--no-cache']));
      xs[d.name].same.push(await build(d));
    }
    setMain(++v);
    for (const d of i % 2 ? [...daemons].reverse() : daemons) {
      xs[d.name].changed.push(await build(d));
      const out = (await must(d, ['run', '--rm', 'bench-app:1'])).stdout;
      if (out !== `version ${v}\n`) throw new Error(`${d.name}: after the change the image printed ${JSON.stringify(out)}`);
    }
  }
  for (const d of daemons) results[d.name] = Object.fromEntries(Object.entries(xs[d.name]).map(([k, list]) => [k, median(list)]));

  const f0 = (x) => x.toFixed(0);
  const ratio = (a, b) => `${(a / b).toFixed(2)}×`;
  const row = (label, k) => `| ${label} | ${f0(results.tsd[k])} | ${f0(results.dockerd[k])} | ${ratio(results.tsd[k], results.dockerd[k])} |`;
  const md = [
    '# docker build: tsd vs dockerd',
    '',
    `Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Linux ${release()}. ${new Date().toISOString().slice(0, 10)}.`,
    `Daemons: tsd ${versions[0]} (its classic builder: each RUN in a container through tsrun-shim and bin/tsrun); dockerd ${versions[1]} (classic builder, containerd, runc, overlay2). Client: docker CLI ${cliVersion} with DOCKER_BUILDKIT=0, \`docker build -q\` timed as the CLI's whole process, context sent by the CLI each time.`,
    `Dockerfile: FROM busybox, WORKDIR, COPY deps.txt, RUN (2000 lines written), COPY src (21 files), CMD. Median of ${ROUNDS} rounds alternating the daemons; each round: a --no-cache build, a rebuild with nothing changed, then src/main.txt changed and rebuilt (the image run after each change to check it).`,
    '',
    '| build | tsd (ms) | dockerd (ms) | tsd/dockerd |',
    '|---|---|---|---|',
    row('cold (`--no-cache`)', 'cold'),
    row('nothing changed (every step from the cache)', 'same'),
    row('only the last COPY\'s file changed', 'changed'),
    '',
  ];
  writeFileSync(join(here, 'results-build.md'), md.join('\n'));
  for (const d of daemons) rmSync(d.logFile, { force: true });
  process.stdout.write(md.join('\n'));
} finally {
  log('cleaning up');
  for (const d of daemons) if (d.child && d.child.exitCode === null) { try { await removeAll(d); } catch (e) { log(`${d.name}: ${e.message}`); } }
  for (const d of daemons) if (d.child) await stopDaemon(d.child);
  if (registry.child) await stopDaemon(registry.child);
  for (const dir of [base, dockerd.execRoot, tsd.execRoot]) for (const m of mountsUnder(dir).reverse()) spawnSync('umount', ['-l', m]);
  for (const dir of [dockerd.execRoot, tsd.execRoot, base]) rmSync(dir, { recursive: true, force: true });
  const cgroupsLeft = containerCgroups().filter((c) => !cgroupsBefore.includes(c));
  const leftovers = [...mountsUnder(base), ...cgroupsLeft, ...[base, dockerd.execRoot, tsd.execRoot].filter((p) => existsSync(p))];
  log(leftovers.length ? `LEFT BEHIND: ${leftovers.join(' ')}` : 'nothing left behind (mounts, container cgroups, roots)');
  if (leftovers.length) process.exitCode = 1;
  if (image) { rmSync(image, { force: true }); rmSync(dockerArchiveOf(image), { force: true }); }
}
