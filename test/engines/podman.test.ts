// podman 4.3 (Debian, with conmon) runs containers through tsrun: its own root
// and runroot, cgroupfs manager, file events, vfs storage, `--runtime <tsrun>`.
// Podman's default rlimits need CAP_SYS_RESOURCE, which this machine lacks:
// every run passes explicit --ulimit values.
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TSRUN } from '../helpers/tsrun.js';
import { buildBusyboxImage, IMAGE_REF } from './image.mjs';

const havePodman = spawnSync('sh', ['-c', 'command -v podman && command -v conmon']).status === 0;
const ROOT = '/tmp/tsrun-podman/root';
const RUNROOT = '/run/tsrun-podman';
const GLOBAL = ['--root', ROOT, '--runroot', RUNROOT, '--cgroup-manager', 'cgroupfs', '--events-backend', 'file', '--runtime', TSRUN, '--storage-driver', 'vfs'];
const RUN = ['--network', 'none', '--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024'];
let image = '';

function podman(args: string[], opts: { input?: string; timeout?: number } = {}) {
  const r = spawnSync('podman', [...GLOBAL, ...args], { encoding: 'utf8', input: opts.input, timeout: opts.timeout ?? 60_000 });
  return { code: r.status ?? 128, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}
const sleepMs = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

beforeAll(() => {
  if (!havePodman) return;
  image = buildBusyboxImage();
  const r = podman(['load', '-i', image]);
  if (r.code !== 0) throw new Error(`podman load: ${r.stderr}`);
}, 120_000);

afterAll(() => {
  if (!havePodman) return;
  podman(['rm', '-af', '-t', '0']);
  podman(['system', 'reset', '-f']);
  rmSync(image, { force: true });
  rmSync('/tmp/tsrun-podman', { recursive: true, force: true });
});

describe.skipIf(!havePodman)('podman (--runtime tsrun)', () => {
  it('runs a command, returns stdout and the exit code; podman used tsrun', () => {
    const r = podman(['run', '--rm', ...RUN, IMAGE_REF, 'sh', '-c', 'echo hello; exit 3']);
    expect(r.stdout).toBe('hello\n');
    expect(r.code).toBe(3);
    const info = podman(['run', '--name', 'p-which', ...RUN, IMAGE_REF, 'true']);
    expect(info.code).toBe(0);
    expect(podman(['inspect', '--format', '{{.OCIRuntime}}', 'p-which']).stdout.trim()).toBe(TSRUN);
    podman(['rm', 'p-which']);
  });
  it('passes stdin, env, workdir and a non-root user', () => {
    expect(podman(['run', '--rm', '-i', ...RUN, IMAGE_REF, 'sh', '-c', 'read x; echo got $x'], { input: 'line\n' }).stdout).toBe('got line\n');
    const r = podman(['run', '--rm', ...RUN, '-e', 'FOO=bar', '-w', '/tmp', '--user', '1000:1000', IMAGE_REF, 'sh', '-c', 'echo $FOO; pwd; id -u']);
    expect(r.stdout).toBe('bar\n/tmp\n1000\n');
  });
  it('runs with a TTY (-t, under script)', () => {
    const r = spawnSync('script', ['-qec', `podman ${GLOBAL.join(' ')} run --rm -t ${RUN.join(' ')} ${IMAGE_REF} sh -c 'tty; exit 4'`, '/dev/null'], { encoding: 'utf8', timeout: 30_000 });
    expect(r.stdout).toMatch(/\/dev\/pts\/0/);
    expect(r.status).toBe(4);
  });
  it('detached container: exec with and without a TTY, memory limit, live update, top, pause/unpause, logs, stop, restart, kill, rm', () => {
    const id = 'p-detached';
    const r = podman(['run', '-d', '--name', id, ...RUN, '--memory', '64m', IMAGE_REF, 'sh', '-c', 'echo started; trap "echo bye; exit 0" TERM; while true; do sleep 0.1; done']);
    expect(r.code).toBe(0);
    const ex = podman(['exec', id, 'sh', '-c', 'echo in-exec; exit 5']);
    expect(ex.stdout).toBe('in-exec\n');
    expect(ex.code).toBe(5);
    const tty = spawnSync('script', ['-qec', `podman ${GLOBAL.join(' ')} exec -t ${id} tty`, '/dev/null'], { encoding: 'utf8', timeout: 30_000 });
    expect(tty.stdout).toMatch(/\/dev\/pts\/\d+/);
    const mem = podman(['exec', id, 'sh', '-c', 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max']);
    expect(mem.stdout.trim()).toBe(String(64 * 1024 * 1024));
    // Live update goes through `tsrun update --resources`.
    expect(podman(['update', '--memory', '128m', id]).code).toBe(0);
    expect(podman(['exec', id, 'sh', '-c', 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max']).stdout.trim()).toBe(String(128 * 1024 * 1024));
    expect(podman(['top', id]).stdout).toMatch(/sh -c/);
    expect(podman(['pause', id]).code).toBe(0);
    expect(podman(['inspect', '--format', '{{.State.Status}}', id]).stdout.trim()).toBe('paused');
    expect(podman(['unpause', id]).code).toBe(0);
    expect(podman(['inspect', '--format', '{{.State.Status}}', id]).stdout.trim()).toBe('running');
    expect(podman(['logs', id]).stdout).toMatch(/^started\n/);
    expect(podman(['stop', '-t', '5', id]).code).toBe(0);
    expect(podman(['inspect', '--format', '{{.State.ExitCode}}', id]).stdout.trim()).toBe('0');
    expect(podman(['logs', id]).stdout).toMatch(/bye/);
    expect(podman(['restart', id]).code).toBe(0);
    expect(podman(['inspect', '--format', '{{.State.Status}}', id]).stdout.trim()).toBe('running');
    expect(podman(['kill', id]).code).toBe(0);
    sleepMs(300);
    expect(podman(['inspect', '--format', '{{.State.ExitCode}}', id]).stdout.trim()).toBe('137');
    expect(podman(['rm', id]).code).toBe(0);
    expect(existsSync(`${RUNROOT}`)).toBe(true);
  });
  it('shows tsrun\'s error message for a bad config', () => {
    const r = podman(['run', '--rm', ...RUN, IMAGE_REF, '/no/such/binary']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/find the executable "\/no\/such\/binary".*ENOENT/);
  });
});
