// runtime.md's lifecycle through the real binary: create, start, state, kill,
// delete, run, and what each leaves behind.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeBundle, type Bundle } from '../helpers/bundle.js';
import { snapshotHost, stateDirs, type HostSnapshot } from '../helpers/leftovers.js';
import { makeRoot, TSRUN, tsrunAsync, tsrunSync, uniqueId } from '../helpers/tsrun.js';

let root: string;
let bundle: Bundle;
let before: HostSnapshot;
const T = (...args: string[]) => tsrunSync(['--root', root, ...args]);
const state = (id: string) => JSON.parse(T('state', id).stdout);

function waitFor(cond: () => boolean, ms = 5000): void {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
  }
}

beforeAll(() => {
  root = makeRoot();
  bundle = makeBundle((c) => (c.process!.args = ['sleep', '1000']));
  before = snapshotHost();
});
afterEach(() => {
  for (const id of stateDirs(root)) T('delete', '--force', id);
});
afterAll(() => {
  expect(stateDirs(root)).toEqual([]);
  expect(snapshotHost()).toEqual(before);
  bundle.cleanup();
});

describe('create / start / state / kill / delete', () => {
  it('moves created -> running -> stopped, with the host pid in state and --pid-file', () => {
    const id = uniqueId();
    const pidFile = join(bundle.dir, `${id}.pid`);
    const c = T('create', '--bundle', bundle.dir, '--pid-file', pidFile, id);
    expect(c.stderr).toBe('');
    expect(c.code).toBe(0);
    const s1 = state(id);
    expect(s1).toMatchObject({ ociVersion: '1.2.0', id, status: 'created', bundle: bundle.dir });
    // runc's owner field: the caller's name (root runs the tests), on either engine.
    expect(s1.owner).toBe('root');
    expect(s1.pid).toBeGreaterThan(0);
    expect(readFileSync(pidFile, 'utf8')).toBe(String(s1.pid));
    // The init waits on exec.fifo: the user process has not run yet.
    expect(readFileSync(`/proc/${s1.pid}/cmdline`, 'utf8')).toMatch(/^tsrun-init/);
    expect(existsSync(join(root, id, 'exec.fifo'))).toBe(true);

    expect(T('start', id).code).toBe(0);
    const s2 = state(id);
    expect(s2.status).toBe('running');
    expect(s2.pid).toBe(s1.pid);
    expect(readFileSync(`/proc/${s1.pid}/cmdline`, 'utf8')).toBe('sleep\u00001000\u0000');
    expect(existsSync(join(root, id, 'exec.fifo'))).toBe(false);

    const again = T('start', id);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/cannot start a container that is running/);

    const del = T('delete', id);
    expect(del.code).toBe(1);
    expect(del.stderr).toMatch(/cannot delete a container that is running \(use --force\)/);

    expect(T('kill', id, 'KILL').code).toBe(0);
    waitFor(() => state(id).status === 'stopped');
    expect(T('kill', id, '15').stderr).toMatch(/container not running/);
    // As runc: --all signals what is left in the cgroup, nothing here, and succeeds (containerd's shim calls it after every exit).
    const all = T('kill', '--all', id, 'KILL');
    expect(all.stderr).toBe('');
    expect(all.code).toBe(0);
    expect(T('delete', id).code).toBe(0);
    expect(T('state', id).code).toBe(1);
  });

  it('puts the container in its cgroup and removes only that cgroup on delete', () => {
    const id = uniqueId();
    bundle.config.linux!.cgroupsPath = `/tsrun-test/${id}`;
    bundle.write();
    try {
      expect(T('create', '--bundle', bundle.dir, id).code).toBe(0);
      const pid = state(id).pid;
      const cgroup = readFileSync(`/proc/${pid}/cgroup`, 'utf8');
      expect(cgroup).toContain(`/tsrun-test/${id}`);
      // v1: one directory per controller; v2: one directory.
      const v2 = existsSync('/sys/fs/cgroup/cgroup.controllers');
      const dirs = v2 ? [''] : readdirSync('/sys/fs/cgroup').filter((d) => existsSync(join('/sys/fs/cgroup', d, 'tsrun-test', id)));
      expect(dirs.length).toBeGreaterThan(0);
      for (const d of dirs) expect(existsSync(join('/sys/fs/cgroup', d, 'tsrun-test', id))).toBe(true);
      expect(T('delete', id).code).toBe(0); // a created container may be deleted
      for (const d of dirs) expect(existsSync(join('/sys/fs/cgroup', d, 'tsrun-test'))).toBe(false);
    } finally {
      delete bundle.config.linux!.cgroupsPath;
      bundle.write();
    }
  });

  it('accepts signal names and numbers, and kill --all signals every process', () => {
    const id = uniqueId();
    expect(T('create', '--bundle', bundle.dir, id).code).toBe(0);
    expect(T('start', id).code).toBe(0);
    expect(T('kill', id, 'SIGNOPE').stderr).toMatch(/unknown signal "SIGNOPE"/);
    expect(T('kill', '--all', id, 'SIGKILL').code).toBe(0);
    waitFor(() => state(id).status === 'stopped');
  });

  it.each([['the front binary', '0'], ['the TypeScript CLI', '1']])('start (%s) waits for an init that has not opened exec.fifo yet, and fails clearly once it is dead', async (_, noFast) => {
    const id = uniqueId();
    expect(T('create', '--bundle', bundle.dir, id).code).toBe(0);
    const { pid } = state(id);
    // A fresh fifo at the path: to `start` the init looks exactly as it does between READY and its open.
    const fifo = join(root, id, 'exec.fifo');
    rmSync(fifo);
    execFileSync('mkfifo', ['-m', '0600', fifo]);
    if (noFast === '1') process.env.TSRUN_NO_FAST = '1';
    let done = false;
    const started = tsrunAsync(['--root', root, 'start', id]).finally(() => (done = true));
    delete process.env.TSRUN_NO_FAST;
    await new Promise((r) => setTimeout(r, 500));
    expect(done).toBe(false);
    process.kill(pid, 'SIGKILL');
    const r = await started;
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/start .*the container init exited before/);
  });

  it('refuses a second container with the same id and keeps the first intact', () => {
    const id = uniqueId();
    expect(T('create', '--bundle', bundle.dir, id).code).toBe(0);
    const pid = state(id).pid;
    const dup = T('create', '--bundle', bundle.dir, id);
    expect(dup.code).toBe(1);
    expect(dup.stderr).toMatch(/already exists/);
    expect(state(id)).toMatchObject({ status: 'created', pid });
  });

  it('lets exactly one of 8 concurrent creates with one id win', async () => {
    const id = uniqueId();
    const results = await Promise.all(Array.from({ length: 8 }, () => tsrunAsync(['--root', root, 'create', '--bundle', bundle.dir, id])));
    expect(results.filter((r) => r.code === 0).length).toBe(1);
    for (const r of results.filter((x) => x.code !== 0)) expect(r.stderr).toMatch(/already exists/);
    expect(state(id).status).toBe('created');
  });

  it('delete --force kills a running container; delete --force of an unknown id succeeds', () => {
    const id = uniqueId();
    expect(T('create', '--bundle', bundle.dir, id).code).toBe(0);
    expect(T('start', id).code).toBe(0);
    const pid = state(id).pid;
    expect(T('delete', '--force', id).code).toBe(0);
    expect(existsSync(`/proc/${pid}/stat`) && !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ')).toBe(false);
    expect(T('delete', '--force', id).code).toBe(0);
    expect(T('delete', 'never-existed').code).toBe(1);
  });

  it('lists containers as a table, JSON and ids', () => {
    const a = uniqueId();
    expect(T('create', '--bundle', bundle.dir, a).code).toBe(0);
    const json = JSON.parse(T('list', '--format', 'json').stdout);
    expect(json.map((s: { id: string }) => s.id)).toContain(a);
    expect(T('list', '-q').stdout).toContain(`${a}\n`);
    expect(T('list').stdout).toMatch(new RegExp(`${a}\\s+\\d+\\s+created\\s+${bundle.dir}`));
  });
});

describe('run', () => {
  it('returns the container\'s exit code and deletes the container', () => {
    const b = makeBundle((c) => (c.process!.args = ['sh', '-c', 'echo out; echo err >&2; exit 3']));
    try {
      const id = uniqueId();
      const r = tsrunSync(['--root', root, 'run', '--bundle', b.dir, id]);
      expect(r.code).toBe(3);
      expect(r.stdout).toBe('out\n');
      expect(r.stderr).toBe('err\n');
      expect(stateDirs(root)).toEqual([]);
    } finally {
      b.cleanup();
    }
  });
  it('returns 128+signal when the container is killed by a signal', async () => {
    const id = uniqueId();
    const running = tsrunAsync(['--root', root, 'run', '-b', bundle.dir, id]);
    waitFor(() => T('state', id).stdout.includes('"running"'));
    expect(T('kill', id, 'KILL').code).toBe(0);
    expect((await running).code).toBe(137);
    expect(stateDirs(root)).toEqual([]);
  });
  it('forwards SIGTERM it receives to the container', async () => {
    const b = makeBundle((c) => (c.process!.args = ['sh', '-c', 'trap "echo got TERM; exit 7" TERM; while true; do sleep 0.05; done']));
    try {
      const id = uniqueId();
      const { spawn } = await import('node:child_process');
      const child = spawn(TSRUN, ['--root', root, 'run', '-b', b.dir, id], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      const code = new Promise<number | null>((done) => child.on('exit', (c) => done(c)));
      waitFor(() => T('state', id).stdout.includes('"running"'));
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
      child.kill('SIGTERM');
      expect(await code).toBe(7);
      await new Promise((done) => setTimeout(done, 50));
      expect(out).toBe('got TERM\n');
    } finally {
      b.cleanup();
    }
  });
  it('passes stdin through', async () => {
    const b = makeBundle((c) => (c.process!.args = ['sh', '-c', 'read line; echo "got $line"']));
    try {
      const r = await tsrunAsync(['--root', root, 'run', '-b', b.dir, uniqueId()], 'hello\n');
      expect(r.stdout).toBe('got hello\n');
    } finally {
      b.cleanup();
    }
  });
  it('--detach leaves it running and returns at once', () => {
    const id = uniqueId();
    const r = T('run', '--detach', '--bundle', bundle.dir, id);
    expect(r.code).toBe(0);
    expect(state(id).status).toBe('running');
  });
  it('fails create on a missing executable, naming it and leaving nothing', () => {
    const b = makeBundle((c) => (c.process!.args = ['no-such-binary']));
    try {
      const r = tsrunSync(['--root', root, 'run', '-b', b.dir, uniqueId()]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/find the executable "no-such-binary" \(config \.process\.args\[0\]\): execve: ENOENT: executable file not found in \$PATH/);
      expect(stateDirs(root)).toEqual([]);
    } finally {
      b.cleanup();
    }
  });
});
