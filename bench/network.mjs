#!/usr/bin/env node
// What networking costs, tsd against Debian's dockerd 20.10, side by side in one run, both
// driven by the real docker CLI (its whole process timed the same way for both):
//   1. `docker run --rm busybox true` on the default bridge vs `--network none` (what a
//      network adds to each container's start: namespace, veth, address, rules, teardown);
//   2. TCP throughput container → container on the default bridge (busybox wget of a file
//      on tmpfs from busybox httpd; timed inside the client from /proc/uptime, 10 ms steps).
// Each daemon runs in a network namespace of its own (ip netns add; started through
// nsenter --net=), dockerd with its defaults (docker0, iptables), tsd with its default
// network (tsd0): bridges, veths and rules stay there and no traffic leaves this machine.
// The busybox image is loaded into dockerd and pulled by tsd from a private docker-registry
// before they move into their namespaces. Writes bench/results-network.md. Run it under the
// shared test lock (npm run bench:network):  node bench/network.mjs [--rounds N] [--mib N]
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, release, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildBusyboxImage, dockerArchiveOf } from '../test/engines/image.mjs';
import { cli, containerCgroups, median, mountsUnder, must, removeAll, shareBusybox, sleep, startRegistry, stopDaemon, waitUp } from './daemons.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const arg = (name, def) => (process.argv.includes(name) ? Number(process.argv[process.argv.indexOf(name) + 1]) : def);
const ROUNDS = arg('--rounds', 15);
const MIB = arg('--mib', 512);
const TRANSFERS = 3;
const log = (...a) => process.stderr.write(`[bench:network ${new Date().toISOString().slice(11, 19)}] ${a.join(' ')}\n`);
for (const c of ['docker', 'dockerd', 'containerd', 'runc', 'docker-registry', 'nsenter']) {
  if (!spawnSync('sh', ['-c', `command -v ${c}`]).stdout.length) throw new Error(`bench/network.mjs needs ${c}`);
}

const base = mkdtempSync(join(tmpdir(), 'tsd-netbench-'));
const cgroupsBefore = containerCgroups();
const registry = await startRegistry(join(base, 'registry'));
const mk = (name, execRoot) => ({
  name, dir: join(base, name), execRoot, dockerConfig: join(base, 'docker-config'),
  socket: join(base, name, `${name}.sock`), logFile: join(tmpdir(), `tsd-netbench-${process.pid}-${name}.log`),
  netns: `tsd-netbench-${name}-${process.pid}`,
});
const dockerd = mk('dockerd', `/run/tsd-netbench-dockerd-${process.pid}`);
// Short: the shims' sockets live under the exec root (sun_path holds 108 bytes).
const tsd = mk('tsd', `/run/tsd-netbench-tsd-${process.pid}`);
const daemons = [tsd, dockerd];

function spawnDaemon(d, inNetns) {
  const args = d === dockerd
    ? ['dockerd', '--data-root', join(d.dir, 'data'), '--exec-root', d.execRoot, '-H', `unix://${d.socket}`, '--pidfile', join(d.dir, 'pid'), '--ip6tables=false',
      ...(inNetns ? [] : ['--bridge=none', '--iptables=false', '--ip-masq=false'])]
    : [resolve(here, '../bin/tsd'), '-H', `unix://${d.socket}`, '--data-root', join(d.dir, 'data'), '--exec-root', d.execRoot, '--pidfile', join(d.dir, 'pid'),
      '--registry-mirror', `http://${registry.host}`, '--log-level', 'info', ...(inNetns ? [] : ['--bridge', 'none'])];
  const cmd = inNetns ? ['nsenter', `--net=/var/run/netns/${d.netns}`, ...args] : args;
  d.child = spawn(cmd[0], cmd.slice(1), { stdio: ['ignore', openSync(d.logFile, 'a'), openSync(d.logFile, 'a')] });
  return waitUp(d, d.child);
}

/** `docker run --rm busybox true` on `network`, whole CLI process (ms). */
async function runRm(d, network) {
  const r = await must(d, ['run', '--rm', '--network', network, 'busybox', 'true']);
  return r.ms;
}

/** MiB/s of one wget of MIB MiB from an httpd container to another container on the default bridge. */
async function throughput(d) {
  const server = (await must(d, ['run', '-d', '--tmpfs', `/srv:size=${MIB + 16}m`, 'busybox', 'sh', '-c',
    `dd if=/dev/zero of=/srv/big bs=1M count=${MIB} 2>/dev/null && touch /srv/ready && exec httpd -f -p 80 -h /srv`])).stdout.trim();
  for (let i = 0; i < 200 && (await cli(d, ['exec', server, 'test', '-e', '/srv/ready'])).code !== 0; i++) await sleep(100);
  const ip = (await must(d, ['inspect', server, '--format', '{{.NetworkSettings.IPAddress}}'])).stdout.trim();
  const client = (await must(d, ['run', '-d', 'busybox', 'sleep', '1000'])).stdout.trim();
  const rates = [];
  for (let i = 0; i < TRANSFERS; i++) {
    const r = await must(d, ['exec', client, 'sh', '-c', `a=$(cut -d' ' -f1 /proc/uptime); wget -q -O /dev/null http://${ip}/big || exit 1; b=$(cut -d' ' -f1 /proc/uptime); echo $a $b`]);
    const [a, b] = r.stdout.trim().split(' ').map(Number);
    rates.push(MIB / Math.max(b - a, 0.01));
  }
  await must(d, ['rm', '-f', server, client]);
  return median(rates);
}

const results = { none: {}, bridge: {}, tcp: {} };
let image;
try {
  for (const d of daemons) mkdirSync(d.dir, { recursive: true });
  // The image, outside the namespaces (the registry listens on the host's 127.0.0.1).
  await spawnDaemon(dockerd, false);
  await spawnDaemon(tsd, false);
  image = buildBusyboxImage();
  await shareBusybox(dockerd, tsd, registry, dockerArchiveOf(image));
  for (const d of daemons) {
    await stopDaemon(d.child);
    spawnSync('ip', ['netns', 'add', d.netns]);
    spawnSync('ip', ['-n', d.netns, 'link', 'set', 'lo', 'up']);
    await spawnDaemon(d, true);
  }
  const versions = await Promise.all(daemons.map(async (d) => (await must(d, ['version', '--format', '{{.Server.Version}}'])).stdout.trim()));
  const cliVersion = (await must(tsd, ['version', '--format', '{{.Client.Version}}'])).stdout.trim();
  log('warming up');
  for (const d of daemons) for (const n of ['none', 'bridge', 'none', 'bridge']) await runRm(d, n);
  log(`run --rm: ${ROUNDS} alternating rounds`);
  const xs = { tsd: { none: [], bridge: [] }, dockerd: { none: [], bridge: [] } };
  for (let i = 0; i < ROUNDS; i++) {
    for (const d of i % 2 ? [...daemons].reverse() : daemons) for (const n of i % 2 ? ['bridge', 'none'] : ['none', 'bridge']) xs[d.name][n].push(await runRm(d, n));
  }
  for (const d of daemons) for (const n of ['none', 'bridge']) results[n][d.name] = median(xs[d.name][n]);
  log(`throughput: ${TRANSFERS} × ${MIB} MiB per daemon`);
  for (const d of daemons) results.tcp[d.name] = await throughput(d);

  const f1 = (x) => x.toFixed(1);
  const ratio = (a, b) => `${(a / b).toFixed(2)}×`;
  const cost = (d) => results.bridge[d] - results.none[d];
  const md = [
    '# Networking: tsd vs dockerd',
    '',
    `Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Linux ${release()}. ${new Date().toISOString().slice(0, 10)}.`,
    `Daemons: tsd ${versions[0]} (default network tsd0 over the CNI plugins bridge, host-local, portmap, firewall) over tsrun-shim and bin/tsrun; dockerd ${versions[1]} (docker0, libnetwork, iptables) with its containerd and runc. Each in a network namespace of its own. Client: docker CLI ${cliVersion}, every command timed as the CLI's whole process.`,
    `run --rm: ${ROUNDS} rounds alternating the daemons and the two networks, after 2 warm-up runs of each. Throughput: busybox wget of a ${MIB} MiB file on tmpfs from busybox httpd in another container on the default bridge, timed inside the client (/proc/uptime, 10 ms steps), median of ${TRANSFERS}.`,
    '',
    '| benchmark | tsd | dockerd | tsd/dockerd |',
    '|---|---|---|---|',
    `| \`docker run --rm --network none busybox true\` (median ms) | ${f1(results.none.tsd)} | ${f1(results.none.dockerd)} | ${ratio(results.none.tsd, results.none.dockerd)} |`,
    `| \`docker run --rm busybox true\` on the default bridge (median ms) | ${f1(results.bridge.tsd)} | ${f1(results.bridge.dockerd)} | ${ratio(results.bridge.tsd, results.bridge.dockerd)} |`,
    `| what the bridge adds per container (ms) | ${f1(cost('tsd'))} | ${f1(cost('dockerd'))} | ${ratio(cost('tsd'), cost('dockerd'))} |`,
    `| TCP container → container on the default bridge (MiB/s) | ${f1(results.tcp.tsd)} | ${f1(results.tcp.dockerd)} | ${ratio(results.tcp.tsd, results.tcp.dockerd)} |`,
    '',
  ];
  writeFileSync(join(here, 'results-network.md'), md.join('\n'));
  for (const d of daemons) rmSync(d.logFile, { force: true });
  process.stdout.write(md.join('\n'));
} finally {
  log('cleaning up');
  for (const d of daemons) if (d.child && d.child.exitCode === null) { try { await removeAll(d); } catch (e) { log(`${d.name}: ${e.message}`); } }
  for (const d of daemons) if (d.child) await stopDaemon(d.child);
  if (registry.child) await stopDaemon(registry.child);
  for (const dir of [base, dockerd.execRoot, tsd.execRoot]) for (const m of mountsUnder(dir).reverse()) spawnSync('umount', ['-l', m]);
  for (const d of daemons) if (existsSync(`/var/run/netns/${d.netns}`)) spawnSync('ip', ['netns', 'del', d.netns]);
  rmSync(dockerd.execRoot, { recursive: true, force: true });
  rmSync(tsd.execRoot, { recursive: true, force: true });
  rmSync(base, { recursive: true, force: true });
  const cgroupsLeft = containerCgroups().filter((c) => !cgroupsBefore.includes(c));
  const leftovers = [...mountsUnder(base), ...mountsUnder(dockerd.execRoot), ...cgroupsLeft, ...[base, dockerd.execRoot].filter((p) => existsSync(p)),
    ...daemons.filter((d) => existsSync(`/var/run/netns/${d.netns}`)).map((d) => `netns ${d.netns}`)];
  log(leftovers.length ? `LEFT BEHIND: ${leftovers.join(' ')}` : 'nothing left behind (mounts, container cgroups, roots, namespaces)');
  if (leftovers.length) process.exitCode = 1;
  if (image) { rmSync(image, { force: true }); rmSync(dockerArchiveOf(image), { force: true }); }
}
