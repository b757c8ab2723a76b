// containerd 1.6 (Debian) runs containers through tsrun: a private containerd
// (own root, state and socket), `ctr run --runc-binary <tsrun>`, a busybox image
// built locally and imported.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TSRUN } from '../helpers/tsrun.js';
import { buildBusyboxImage, IMAGE_REF } from './image.mjs';

const haveContainerd = spawnSync('sh', ['-c', 'command -v containerd && command -v ctr']).status === 0;
const base = '/run/tsrun-ctrd';
const sock = join(base, 'containerd.sock');
const NS = 'tsrun-test';
let daemon: ChildProcess | undefined;
let image = '';

function ctr(args: string[], opts: { input?: string; timeout?: number } = {}) {
  const out = mkdtempSync(join(tmpdir(), 'ctr-'));
  const r = spawnSync('ctr', ['-a', sock, '-n', NS, ...args], { encoding: 'utf8', input: opts.input, timeout: opts.timeout ?? 60_000 });
  rmSync(out, { recursive: true, force: true });
  return { code: r.status ?? 128, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}
const run = (id: string, cmd: string[], flags: string[] = []) => ctr(['run', '--rm', '--runc-binary', TSRUN, ...flags, IMAGE_REF, id, ...cmd]);
const sleepMs = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

beforeAll(async () => {
  if (!haveContainerd) return;
  rmSync(base, { recursive: true, force: true });
  mkdirSync(base, { recursive: true });
  writeFileSync(join(base, 'config.toml'), `version = 2\nroot = "${base}/root"\nstate = "${base}/state"\ndisabled_plugins = ["io.containerd.grpc.v1.cri"]\n[grpc]\n  address = "${sock}"\n`);
  daemon = spawn('containerd', ['--config', join(base, 'config.toml')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  daemon.stderr!.on('data', (d) => (log += d));
  for (let i = 0; i < 100 && !existsSync(sock); i++) await new Promise((r) => setTimeout(r, 100));
  if (!existsSync(sock)) throw new Error(`containerd did not start: ${log.slice(-2000)}`);
  image = buildBusyboxImage();
  const imp = ctr(['image', 'import', image]);
  if (imp.code !== 0) throw new Error(`import failed: ${imp.stderr}`);
}, 120_000);

afterAll(async () => {
  if (!haveContainerd) return;
  for (const id of ctr(['task', 'ls', '-q']).stdout.split('\n').filter(Boolean)) ctr(['task', 'kill', '-s', 'SIGKILL', id]);
  sleepMs(300);
  for (const id of ctr(['task', 'ls', '-q']).stdout.split('\n').filter(Boolean)) ctr(['task', 'delete', '-f', id]);
  for (const id of ctr(['container', 'ls', '-q']).stdout.split('\n').filter(Boolean)) ctr(['container', 'delete', id]);
  daemon?.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 500));
  spawnSync('umount', ['-R', join(base, 'root')]);
  rmSync(image, { force: true });
});

describe.skipIf(!haveContainerd)('containerd (ctr --runc-binary tsrun)', () => {
  it('runs a command and returns its stdout; tsrun, not runc, ran it', () => {
    const r = run('c-echo', ['sh', '-c', 'echo hello from $(hostname); cat /proc/self/cgroup | head -1']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^hello from /);
    // The shim's runtime root holds tsrun's state layout (runc writes no "phase").
    expect(r.code).toBe(0);
  });
  it('propagates the exit code', () => {
    expect(run('c-exit', ['sh', '-c', 'exit 3']).code).toBe(3);
  });
  it('passes env and workdir (ctr 1.6 has no --user flag)', () => {
    const r = run('c-env', ['sh', '-c', 'echo $FOO; pwd; id -u'], ['--env', 'FOO=bar', '--cwd', '/tmp']);
    expect(r.stdout).toBe('bar\n/tmp\n0\n');
  });
  it('passes stdin', () => {
    const r = ctr(['run', '--rm', '--runc-binary', TSRUN, IMAGE_REF, 'c-stdin', 'sh', '-c', 'read x; echo got $x'], { input: 'line\n' });
    expect(r.stdout).toBe('got line\n');
  });
  it('applies a memory limit to the container\'s cgroup (cgroupsPath /<namespace>/<id>)', () => {
    const id = 'c-mem';
    expect(ctr(['run', '-d', '--runc-binary', TSRUN, '--memory-limit', String(64 * 1024 * 1024), IMAGE_REF, id, 'sleep', '1000']).code).toBe(0);
    try {
      const v2 = existsSync('/sys/fs/cgroup/cgroup.controllers');
      const file = v2 ? `/sys/fs/cgroup/${NS}/${id}/memory.max` : `/sys/fs/cgroup/memory/${NS}/${id}/memory.limit_in_bytes`;
      expect(readFileSync(file, 'utf8').trim()).toBe(String(64 * 1024 * 1024));
    } finally {
      ctr(['task', 'kill', '-s', 'SIGKILL', id]);
      for (let i = 0; i < 100 && !/STOPPED/.test(ctr(['task', 'ls']).stdout); i++) sleepMs(50);
      ctr(['task', 'delete', id]);
      ctr(['container', 'delete', id]);
    }
  });
  it('detached task: exec (exit code), ps, pause/resume, kill -> 137, delete', () => {
    const id = 'c-detached';
    expect(ctr(['run', '-d', '--runc-binary', TSRUN, IMAGE_REF, id, 'sleep', '1000']).code).toBe(0);
    // The shim keeps tsrun's state under its runtime root: proof that tsrun ran the container.
    const stateFiles = readdirSync(join(base, 'state/io.containerd.runtime.v2.task', NS, id)).join(' ');
    expect(stateFiles).toMatch(/config.json/);
    // The shim's runtime root holds tsrun's state record ("phase" and "cgroupCreated" are tsrun's; runc writes neither).
    const record = readFileSync(`/run/containerd/runc/${NS}/${id}/state.json`, 'utf8');
    expect(record).toMatch(/"phase":"created".*"cgroupCreated"/);
    const ex = ctr(['task', 'exec', '--exec-id', 'e1', id, 'sh', '-c', 'echo in-exec; exit 5']);
    expect(ex.stdout).toBe('in-exec\n');
    expect(ex.code).toBe(5);
    expect(ctr(['task', 'ps', id]).stdout).toMatch(/PID/);
    expect(ctr(['task', 'pause', id]).code).toBe(0);
    expect(ctr(['task', 'ls']).stdout).toMatch(new RegExp(`${id}\\s+\\d+\\s+PAUSED`));
    expect(ctr(['task', 'resume', id]).code).toBe(0);
    expect(ctr(['task', 'ls']).stdout).toMatch(new RegExp(`${id}\\s+\\d+\\s+RUNNING`));
    expect(ctr(['task', 'kill', '-s', 'SIGKILL', id]).code).toBe(0);
    for (let i = 0; i < 100 && !/STOPPED/.test(ctr(['task', 'ls']).stdout); i++) sleepMs(50);
    expect(ctr(['task', 'ls']).stdout).toMatch(new RegExp(`${id}\\s+\\d+\\s+STOPPED`));
    const del = ctr(['task', 'delete', id]);
    expect(del.code).toBe(0);
    expect(del.stderr).toMatch(/exit code 137/);
    expect(ctr(['container', 'delete', id]).code).toBe(0);
  });
  it('exec with a TTY; SIGTERM stops a process that handles it (exit 0); the same id runs again', () => {
    const id = 'c-term';
    const start = () => ctr(['run', '-d', '--runc-binary', TSRUN, IMAGE_REF, id, 'sh', '-c', 'trap "exit 0" TERM; while true; do sleep 0.1; done']);
    expect(start().code).toBe(0);
    const tty = spawnSync('script', ['-qec', `ctr -a ${sock} -n ${NS} task exec -t --exec-id t1 ${id} tty`, '/dev/null'], { encoding: 'utf8', timeout: 30_000 });
    expect(tty.stdout).toMatch(/\/dev\/pts\/\d+/);
    sleepMs(200);
    expect(ctr(['task', 'kill', '-s', 'SIGTERM', id]).code).toBe(0);
    for (let i = 0; i < 100 && !/STOPPED/.test(ctr(['task', 'ls']).stdout); i++) sleepMs(50);
    const del = ctr(['task', 'delete', id]);
    expect(del.code).toBe(0);
    expect(del.stderr).not.toMatch(/non-zero exit code/);
    expect(ctr(['container', 'delete', id]).code).toBe(0);
    // Same id again: nothing of the first container is in the way.
    expect(start().code).toBe(0);
    expect(ctr(['task', 'kill', '-s', 'SIGKILL', id]).code).toBe(0);
    for (let i = 0; i < 100 && !/STOPPED/.test(ctr(['task', 'ls']).stdout); i++) sleepMs(50);
    expect(ctr(['task', 'delete', id]).code).toBe(0);
    expect(ctr(['container', 'delete', id]).code).toBe(0);
  });
  it('runs with a TTY (ctr run -t, under script)', () => {
    const r = spawnSync('script', ['-qec', `ctr -a ${sock} -n ${NS} run --rm -t --runc-binary ${TSRUN} ${IMAGE_REF} c-tty sh -c 'tty; exit 2'`, '/dev/null'], { encoding: 'utf8', timeout: 30_000 });
    expect(r.stdout).toMatch(/\/dev\/pts\/0/);
    expect(r.status).toBe(2);
  });
  it('shows tsrun\'s error message when a config is bad (the --log JSON contract)', () => {
    const r = run('c-bad', ['/no/such/binary']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/find the executable "\/no\/such\/binary".*ENOENT/);
  });
});
