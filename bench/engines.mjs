#!/usr/bin/env node
// `ctr run --rm` and `podman run --rm` with tsrun vs runc as the runtime, rounds
// alternating; appends a table to bench/results.md. Needs containerd and podman.
//   node bench/engines.mjs [--rounds N]
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildBusyboxImage, IMAGE_REF } from '../test/engines/image.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const rounds = Number(process.argv[process.argv.indexOf('--rounds') + 1] || 0) || 10;
const which = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).stdout.trim();
const runtimes = [['tsrun', resolve(here, '../bin/tsrun')], ['runc', which('runc')]].filter(([, p]) => p);
const image = buildBusyboxImage();
const ms = (f) => {
  const t0 = process.hrtime.bigint();
  const r = f();
  if (r.status !== 0) throw new Error(`exit ${r.status}: ${r.stderr}`);
  return Number(process.hrtime.bigint() - t0) / 1e6;
};
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const results = {};

if (which('containerd') && which('ctr')) {
  const base = '/run/tsrun-bench-ctrd';
  rmSync(base, { recursive: true, force: true });
  mkdirSync(base, { recursive: true });
  writeFileSync(join(base, 'config.toml'), `version = 2\nroot = "${base}/root"\nstate = "${base}/state"\ndisabled_plugins = ["io.containerd.grpc.v1.cri"]\n[grpc]\n  address = "${base}/sock"\n`);
  const daemon = spawn('containerd', ['--config', join(base, 'config.toml')], { stdio: 'ignore' });
  for (let i = 0; i < 100 && !existsSync(join(base, 'sock')); i++) await new Promise((r) => setTimeout(r, 100));
  const ctr = (args) => spawnSync('ctr', ['-a', join(base, 'sock'), '-n', 'bench', ...args], { encoding: 'utf8' });
  ctr(['image', 'import', image]);
  for (let i = 0; i < rounds; i++)
    for (const [name, bin] of runtimes)
      ((results['ctr run --rm'] ??= {})[name] ??= []).push(ms(() => ctr(['run', '--rm', '--runc-binary', bin, IMAGE_REF, `b-${name}-${i}`, 'true'])));
  daemon.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 500));
  spawnSync('umount', ['-R', join(base, 'root')]);
  rmSync(base, { recursive: true, force: true });
}

if (which('podman')) {
  const g = ['--root', '/tmp/tsrun-bench-podman', '--runroot', '/run/tsrun-bench-podman', '--cgroup-manager', 'cgroupfs', '--events-backend', 'file', '--storage-driver', 'vfs'];
  const podman = (args) => spawnSync('podman', [...g, ...args], { encoding: 'utf8' });
  podman(['load', '-i', image]);
  for (let i = 0; i < rounds; i++)
    for (const [name, bin] of runtimes)
      ((results['podman run --rm'] ??= {})[name] ??= []).push(ms(() => podman(['--runtime', bin, 'run', '--rm', '--network', 'none', '--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024', IMAGE_REF, 'true'])));
  podman(['system', 'reset', '-f']);
  rmSync('/tmp/tsrun-bench-podman', { recursive: true, force: true });
}
rmSync(image, { force: true });
rmSync(image.replace('.tar', '-docker.tar'), { force: true });

const lines = ['', `## Through an engine (${rounds} rounds, medians)`, '', '| engine command | tsrun ms | runc ms | tsrun/runc |', '|---|---|---|---|'];
for (const [bench, by] of Object.entries(results)) {
  const t = median(by.tsrun);
  const r = median(by.runc);
  lines.push(`| ${bench} | ${t.toFixed(0)} | ${r.toFixed(0)} | ${(t / r).toFixed(2)}× |`);
}
process.stdout.write(lines.join('\n') + '\n');
appendFileSync(join(here, 'results.md'), lines.join('\n') + '\n');
