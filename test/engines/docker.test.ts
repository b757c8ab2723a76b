// dockerd 20.10 (Debian docker.io) runs containers through tsrun: a private
// dockerd (own data-root, exec-root, socket), `--add-runtime tsrun=<path>`,
// `docker run --runtime tsrun --network none`, the image loaded as a docker archive.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TSRUN } from '../helpers/tsrun.js';
import { buildBusyboxImage, dockerArchiveOf } from './image.mjs';

const haveDocker = spawnSync('sh', ['-c', 'command -v dockerd && command -v docker']).status === 0;
const SOCK = '/run/tsrun-docker.sock';
const DATA = '/tmp/tsrun-docker';
const EXEC = '/run/tsrun-docker-exec';
const IMAGE = 'busybox:tsrun-test';
const RUN = ['--runtime', 'tsrun', '--network', 'none'];
let daemon: ChildProcess | undefined;
let image = '';

function docker(args: string[], opts: { input?: string; timeout?: number } = {}) {
  const r = spawnSync('docker', ['-H', `unix://${SOCK}`, ...args], { encoding: 'utf8', input: opts.input, timeout: opts.timeout ?? 60_000 });
  return { code: r.status ?? 128, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}
const sleepMs = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

beforeAll(async () => {
  if (!haveDocker) return;
  mkdirSync(DATA, { recursive: true });
  daemon = spawn('dockerd', ['--data-root', DATA, '--exec-root', EXEC, '-H', `unix://${SOCK}`, '--pidfile', '/run/tsrun-docker.pid',
    '--add-runtime', `tsrun=${TSRUN}`, '--iptables=false', '--ip-masq=false', '--bridge=none', '--storage-driver', 'vfs'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  daemon.stderr!.on('data', (d) => (log += d));
  for (let i = 0; i < 150 && docker(['version']).code !== 0; i++) await new Promise((r) => setTimeout(r, 200));
  if (docker(['version']).code !== 0) throw new Error(`dockerd did not start: ${log.slice(-2000)}`);
  image = buildBusyboxImage();
  const r = docker(['load', '-i', dockerArchiveOf(image)]);
  if (r.code !== 0) throw new Error(`docker load: ${r.stderr}`);
}, 120_000);

afterAll(async () => {
  if (!haveDocker) return;
  const ids = docker(['ps', '-aq']).stdout.split('\n').filter(Boolean);
  if (ids.length) docker(['rm', '-f', ...ids]);
  daemon?.kill('SIGTERM');
  for (let i = 0; i < 50 && existsSync('/run/tsrun-docker.pid'); i++) await new Promise((r) => setTimeout(r, 200));
  spawnSync('sh', ['-c', `umount -R ${DATA} 2>/dev/null; umount -R ${EXEC} 2>/dev/null; true`]);
  rmSync(DATA, { recursive: true, force: true });
  rmSync(image, { force: true });
  rmSync(dockerArchiveOf(image), { force: true });
}, 60_000);

describe.skipIf(!haveDocker)('docker (--runtime tsrun)', () => {
  it('runs a command, returns stdout and the exit code; dockerd used tsrun', () => {
    const r = docker(['run', '--rm', ...RUN, IMAGE, 'sh', '-c', 'echo hello; exit 3']);
    expect(r.stdout).toBe('hello\n');
    expect(r.code).toBe(3);
    expect(docker(['run', '--name', 'd-which', ...RUN, IMAGE, 'true']).code).toBe(0);
    expect(docker(['inspect', '--format', '{{.HostConfig.Runtime}}', 'd-which']).stdout.trim()).toBe('tsrun');
    docker(['rm', 'd-which']);
  });
  it('passes stdin, env, workdir and a non-root user', () => {
    expect(docker(['run', '--rm', '-i', ...RUN, IMAGE, 'sh', '-c', 'read x; echo got $x'], { input: 'line\n' }).stdout).toBe('got line\n');
    const r = docker(['run', '--rm', ...RUN, '-e', 'FOO=bar', '-w', '/tmp', '--user', '1000:1000', IMAGE, 'sh', '-c', 'echo $FOO; pwd; id -u']);
    expect(r.stdout).toBe('bar\n/tmp\n1000\n');
  });
  it('runs with a TTY (-t, under script)', () => {
    const r = spawnSync('script', ['-qec', `docker -H unix://${SOCK} run --rm -t ${RUN.join(' ')} ${IMAGE} sh -c 'tty; exit 4'`, '/dev/null'], { encoding: 'utf8', timeout: 30_000 });
    expect(r.stdout).toMatch(/\/dev\/pts\/0/);
    expect(r.status).toBe(4);
  });
  it('detached container: exec with and without a TTY, memory limit, live update, top, pause/unpause, logs, stop, restart, kill, rm', () => {
    const id = 'd-detached';
    expect(docker(['run', '-d', '--name', id, ...RUN, '--memory', '64m', IMAGE, 'sh', '-c', 'echo started; trap "echo bye; exit 0" TERM; while true; do sleep 0.1; done']).code).toBe(0);
    const ex = docker(['exec', id, 'sh', '-c', 'echo in-exec; exit 5']);
    expect(ex.stdout).toBe('in-exec\n');
    expect(ex.code).toBe(5);
    const tty = spawnSync('script', ['-qec', `docker -H unix://${SOCK} exec -t ${id} tty`, '/dev/null'], { encoding: 'utf8', timeout: 30_000 });
    expect(tty.stdout).toMatch(/\/dev\/pts\/\d+/);
    const mem = () => docker(['exec', id, 'sh', '-c', 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max']).stdout.trim();
    expect(mem()).toBe(String(64 * 1024 * 1024));
    expect(docker(['update', '--memory', '128m', '--memory-swap', '256m', id]).code).toBe(0);
    expect(mem()).toBe(String(128 * 1024 * 1024));
    expect(docker(['top', id]).stdout).toMatch(/sh -c/);
    expect(docker(['pause', id]).code).toBe(0);
    expect(docker(['inspect', '--format', '{{.State.Status}}', id]).stdout.trim()).toBe('paused');
    expect(docker(['unpause', id]).code).toBe(0);
    expect(docker(['logs', id]).stdout).toMatch(/^started\n/);
    expect(docker(['stop', '-t', '5', id]).code).toBe(0);
    expect(docker(['inspect', '--format', '{{.State.ExitCode}}', id]).stdout.trim()).toBe('0');
    expect(docker(['logs', id]).stdout).toMatch(/bye/);
    expect(docker(['restart', id]).code).toBe(0);
    expect(docker(['inspect', '--format', '{{.State.Status}}', id]).stdout.trim()).toBe('running');
    expect(docker(['kill', id]).code).toBe(0);
    sleepMs(300);
    expect(docker(['inspect', '--format', '{{.State.ExitCode}}', id]).stdout.trim()).toBe('137');
    expect(docker(['rm', id]).code).toBe(0);
  });
  it('shows tsrun\'s error message for a bad config', () => {
    const r = docker(['run', '--rm', ...RUN, IMAGE, '/no/such/binary']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/find the executable "\/no\/such\/binary".*ENOENT/);
  });
});
