#!/usr/bin/env node
// Side-by-side timings of tsrun, runc and crun on one busybox bundle, rounds
// alternating A B C so drift hits all alike. Prints a table with medians,
// min/max and ratios, and writes bench/results.md. Numbers, never assertions.
//
//   node bench/bench.mjs [--rounds N]
//
// Every runtime is timed as engines call it: the whole process, no wrapper. The
// one exception is crun, which refuses this hybrid-cgroup host unless
// /sys/fs/cgroup/unified is unmounted: on such a host crun alone runs inside
// `unshare -m sh` with that mount removed, and the table says so.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir, cpus, release } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const rounds = Number(process.argv[process.argv.indexOf('--rounds') + 1] || 0) || 30;
const which = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).stdout.trim();
// tsrun runs its TypeScript CLI on bun where npm installed it; `tsrun-node` is the same
// binary with TSRUN_ENGINE=node (the fallback), measured for comparison.
const runtimes = [['tsrun', resolve(here, '../bin/tsrun')], ['tsrun-node', resolve(here, '../bin/tsrun')], ['runc', which('runc')], ['crun', which('crun')]].filter(([, p]) => p);
/** Every command inherits this process's environment: set the engine for the runtime about to run. */
function useRuntime(name) {
  if (name === 'tsrun-node') process.env.TSRUN_ENGINE = 'node';
  else delete process.env.TSRUN_ENGINE;
}
const hybrid = existsSync('/sys/fs/cgroup/unified/cgroup.procs') && !existsSync('/sys/fs/cgroup/cgroup.controllers');

function makeBundle(args = ['true']) {
  const dir = mkdtempSync(join(tmpdir(), 'bench-bundle-'));
  const rootfs = join(dir, 'rootfs');
  for (const d of ['bin', 'proc', 'sys', 'dev', 'etc', 'tmp']) mkdirSync(join(rootfs, d), { recursive: true });
  copyFileSync('/bin/busybox', join(rootfs, 'bin/busybox'));
  execFileSync('chmod', ['755', join(rootfs, 'bin/busybox')]);
  for (const a of ['sh', 'true', 'sleep']) symlinkSync('busybox', join(rootfs, 'bin', a));
  execFileSync('chmod', ['755', dir]);
  execFileSync(runtimes[0][1], ['spec', '--bundle', dir]);
  const c = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  c.process.terminal = false;
  c.process.args = args;
  c.ociVersion = '1.0.2'; // crun 1.8 refuses newer versions; the same bundle for all
  writeFileSync(join(dir, 'config.json'), JSON.stringify(c));
  return dir;
}

const crunNeedsWrapper = (bin) => hybrid && bin === which('crun');
/** The command line that runs `bin args`: as is, or for crun on a hybrid host inside its wrapper. */
function command(bin, args) {
  if (!crunNeedsWrapper(bin)) return [bin, args];
  return ['unshare', ['-m', 'sh', '-c', 'umount /sys/fs/cgroup/unified 2>/dev/null; exec "$0" "$@"', bin, ...args]];
}

/** Runs `args` with `bin` the way every runtime is run here; returns wall ms. */
function timed(bin, args, stdio = 'ignore') {
  const [cmd, argv] = command(bin, args);
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, argv, { stdio });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${bin} ${args.join(' ')} exited ${r.status}`);
  return ms;
}

const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)], min: s[0], max: s[s.length - 1] };
};

const bundle = makeBundle();
const roots = Object.fromEntries(runtimes.map(([name]) => [name, mkdtempSync(join(tmpdir(), `bench-root-${name}-`))]));
const results = {};
const record = (bench, name, ms) => ((results[bench] ??= {})[name] ??= []).push(ms);

// A created container per runtime for `state`.
for (const [name, bin] of runtimes) {
  useRuntime(name);
  timed(bin, ['--root', roots[name], 'create', '--bundle', bundle, `${name}-state`]);
}

for (let i = 0; i < rounds; i++) {
  for (const [name, bin] of runtimes) {
    useRuntime(name);
    record('--version', name, timed(bin, ['--version']));
    record('state', name, timed(bin, ['--root', roots[name], 'state', `${name}-state`]));
    const id = `${name}-${i}`;
    record('run (create+start+wait+delete)', name, timed(bin, ['--root', roots[name], 'run', '--bundle', bundle, id]));
    record('create', name, timed(bin, ['--root', roots[name], 'create', '--bundle', bundle, `${id}-c`]));
    record('start', name, timed(bin, ['--root', roots[name], 'start', `${id}-c`]));
    record('delete', name, timed(bin, ['--root', roots[name], 'delete', '--force', `${id}-c`]));
  }
}
for (const [name, bin] of runtimes) {
  useRuntime(name);
  timed(bin, ['--root', roots[name], 'delete', '--force', `${name}-state`]);
}

// exec into a running container.
const execBundle = makeBundle(['sleep', '1000']);
for (const [name, bin] of runtimes) {
  useRuntime(name);
  timed(bin, ['--root', roots[name], 'run', '-d', '--bundle', execBundle, `${name}-exec`]);
}
for (let i = 0; i < rounds; i++) {
  for (const [name, bin] of runtimes) {
    useRuntime(name);
    record('exec (true)', name, timed(bin, ['--root', roots[name], 'exec', `${name}-exec`, 'true']));
  }
}

// kill of a running container, and the lifecycle as an engine drives it: five
// separate calls (create, start, state, kill, delete --force), summed.
for (let i = 0; i < rounds; i++) {
  for (const [name, bin] of runtimes) {
    useRuntime(name);
    const k = `${name}-kill-${i}`;
    timed(bin, ['--root', roots[name], 'run', '-d', '--bundle', execBundle, k]);
    record('kill', name, timed(bin, ['--root', roots[name], 'kill', k, 'KILL']));
    timed(bin, ['--root', roots[name], 'delete', '--force', k]);
    const e = `${name}-life-${i}`;
    let total = 0;
    total += timed(bin, ['--root', roots[name], 'create', '--bundle', execBundle, e]);
    total += timed(bin, ['--root', roots[name], 'start', e]);
    total += timed(bin, ['--root', roots[name], 'state', e]);
    total += timed(bin, ['--root', roots[name], 'kill', e, 'KILL']);
    total += timed(bin, ['--root', roots[name], 'delete', '--force', e]);
    record('engine lifecycle: create, start, state, kill, delete (5 calls)', name, total);
  }
}

// Memory: peak RSS of the runtime process during create, and of the init waiting in `created`.
const memory = {};
for (const [name, bin] of runtimes) {
  useRuntime(name);
  const id = `${name}-mem`;
  // The created init inherits stdio: keep it off any pipe this script waits on.
  const py = 'import resource,subprocess,sys; subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)';
  const [cmd, argv] = command(bin, ['--root', roots[name], 'create', '--bundle', execBundle, id]);
  const peak = Number(execFileSync('python3', ['-c', py, cmd, ...argv], { stdio: ['ignore', 'pipe', 'ignore'] }).toString());
  const pid = JSON.parse(execFileSync(bin, ['--root', roots[name], 'state', id]).toString()).pid;
  const initRss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);
  memory[name] = { peak, initRss };
  timed(bin, ['--root', roots[name], 'delete', '--force', id]);
  timed(bin, ['--root', roots[name], 'delete', '--force', `${name}-exec`]);
}

// Throughput: N containers created and started at once (run -d), per runtime.
const concurrency = Number(process.argv[process.argv.indexOf('--concurrency') + 1] || 0) || 50;
const throughput = {};
for (const [name, bin] of runtimes) {
  useRuntime(name);
  const t0 = process.hrtime.bigint();
  const codes = await Promise.all(Array.from({ length: concurrency }, (_, i) => new Promise((done) => {
    const [cmd, argv] = command(bin, ['--root', roots[name], 'run', '-d', '--bundle', execBundle, `${name}-tp-${i}`]);
    const child = spawn(cmd, argv, { stdio: 'ignore' });
    child.on('exit', (code) => done(code));
  })));
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  throughput[name] = { seconds, perSecond: concurrency / seconds, failures: codes.filter((c) => c !== 0).length };
  for (let i = 0; i < concurrency; i++) spawnSync(bin, ['--root', roots[name], 'delete', '--force', `${name}-tp-${i}`], { stdio: 'ignore' });
}
rmSync(execBundle, { recursive: true, force: true });
rmSync(bundle, { recursive: true, force: true });

const names = runtimes.map(([n]) => n);
const lines = [];
const others = names.filter((n) => !n.startsWith('tsrun'));
const header = ['benchmark', ...names.map((n) => `${n} median (min–max) ms`), ...others.map((n) => `tsrun/${n}`)];
lines.push(`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`);
for (const [bench, byName] of Object.entries(results)) {
  const s = Object.fromEntries(names.map((n) => [n, stats(byName[n])]));
  const cells = names.map((n) => `${s[n].median.toFixed(1)} (${s[n].min.toFixed(1)}–${s[n].max.toFixed(1)})`);
  const ratios = others.map((n) => `${(s.tsrun.median / s[n].median).toFixed(2)}×`);
  lines.push(`| ${[bench, ...cells, ...ratios].join(' | ')} |`);
}
lines.push('', `| ${concurrency} containers started at once (run -d) | ${names.join(' | ')} |`, `|---|${names.map(() => '---').join('|')}|`);
lines.push(`| wall time (s) | ${names.map((n) => throughput[n].seconds.toFixed(2)).join(' | ')} |`);
lines.push(`| containers/s | ${names.map((n) => throughput[n].perSecond.toFixed(1)).join(' | ')} |`);
lines.push(`| failures | ${names.map((n) => throughput[n].failures).join(' | ')} |`);
lines.push('', `| memory | ${names.join(' | ')} |`, `|---|${names.map(() => '---').join('|')}|`);
lines.push(`| peak RSS of the runtime during create (KiB) | ${names.map((n) => memory[n].peak).join(' | ')} |`);
lines.push(`| RSS of the init waiting in created (KiB) | ${names.map((n) => memory[n].initRss).join(' | ')} |`);
const versions = runtimes.map(([n, b]) => {
  useRuntime(n);
  const out = spawnSync(b, ['--version'], { encoding: 'utf8', env: { ...process.env, TSRUN_NO_FAST: '1' } }).stdout.split('\n');
  const engine = out.find((l) => /^(bun|node): /.test(l));
  return `${n}: ${out[0]}${n.startsWith('tsrun') && engine ? ` (${engine})` : ''}`;
}).join('; ');
const md = [
  '# tsrun benchmarks',
  '',
  `Measured ${new Date().toISOString()} on ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, kernel ${release()}, Node ${process.version}.`,
  `Runtimes: ${versions}. ${rounds} rounds, alternating runtimes; each command timed whole-process as engines call it, without a wrapper${hybrid ? '; crun alone inside `unshare -m sh` (it refuses a hybrid-cgroup host otherwise), which costs it a few ms' : ''}.`,
  '',
  ...lines,
  '',
].join('\n');
process.stdout.write(md);
writeFileSync(join(here, 'results.md'), md);
