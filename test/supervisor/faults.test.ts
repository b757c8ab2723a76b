// Faults, and nothing lost: a runtime binary that hangs, a full disk under the
// data root and the exec root (small tmpfs mounts), and docker CLI processes
// killed (SIGKILL) in the middle of attach, logs -f and exec -i. Each case
// checks that tsd keeps working, that what should keep running does, and that
// nothing is left behind: no record, snapshot, mount, cgroup, shim, process,
// and no fd of a vanished client in the shim.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { closeAndCheck, leftovers, startTsd, type Tsd } from './tsd.js';

const TSRUN = resolve(import.meta.dirname, '../../bin/tsrun');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(what: string, ok: () => boolean | Promise<boolean>, ms = 15_000): Promise<void> {
  for (const end = Date.now() + ms; !(await ok()); await sleep(50)) if (Date.now() > end) throw new Error(`timed out: ${what}`);
}

/** Processes whose command line contains `text` (arguments NUL-separated). */
const processesWith = (text: string) => readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
  try {
    return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(text);
  } catch {
    return false;
  }
});

const idOf = async (t: Tsd, name: string) => (await t.docker(['inspect', name, '--format', '{{.Id}}'])).stdout.trim();
const shimPidOf = async (t: Tsd, name: string) => Number(readFileSync(join(t.execRoot, await idOf(t, name), 'shim.pid'), 'utf8'));
const fds = (pid: number) => readdirSync(`/proc/${pid}/fd`).length;

/** The docker CLI as a child process of its own (to be killed), against t. */
function dockerChild(t: Tsd, args: string[]): { child: ChildProcess; out: () => string } {
  const child = spawn('docker', args, { env: { ...process.env, DOCKER_HOST: `unix://${t.socket}`, DOCKER_CONFIG: join(t.dir, 'docker-config') }, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  return { child, out: () => out };
}
async function kill9(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((r) => child.once('close', r));
  child.kill('SIGKILL');
  await gone;
}

/**
 * A runtime that runs bin/tsrun, except that the subcommand named in `dir/hang`
 * sleeps forever (in a child of the shell: only a kill of the process group ends it), the
 * one named in `dir/slow` runs after 1.5 s, and the one named in `dir/fail` fails.
 */
function hangingRuntime(): { path: string; dir: string; hang: (cmd: string) => void; fail: (cmd: string) => void; slow: (cmd: string) => void; sleeper: string } {
  const dir = mkdtempSync(join(tmpdir(), 'tsd-hangrt-'));
  chmodSync(dir, 0o755);
  const n = `${Math.floor(Math.random() * 1e6) + 8_000_000}`;
  const path = join(dir, 'runtime');
  // As the shim runs it: $4 the --log file, $7 the subcommand (after --root R --log L
  // --log-format json); the engine's own calls (delete --force) pass through. The one named in
  // dir/fail fails as runc does: an error line in the log, a message on stderr, exit 1.
  writeFileSync(join(dir, 'hang'), 'none');
  writeFileSync(join(dir, 'fail'), 'none');
  writeFileSync(join(dir, 'slow'), 'none');
  writeFileSync(path, `#!/bin/sh
if [ "$3" != "--log" ]; then exec ${TSRUN} "$@"; fi
if [ "$7" = "$(cat ${dir}/hang)" ]; then sleep ${n}; exit 0; fi
if [ "$7" = "$(cat ${dir}/slow)" ]; then sleep 1.5; exec ${TSRUN} "$@"; fi
if [ "$7" = "$(cat ${dir}/fail)" ]; then
  printf '{"level":"error","msg":"faulty runtime: cannot %s today","time":"2026-01-01T00:00:00Z"}\\n' "$7" >> "$4"
  echo "some noise on stderr" >&2
  exit 1
fi
exec ${TSRUN} "$@"
`, { mode: 0o755 });
  return { path, dir, hang: (cmd) => writeFileSync(join(dir, 'hang'), cmd), fail: (cmd) => writeFileSync(join(dir, 'fail'), cmd), slow: (cmd) => writeFileSync(join(dir, 'slow'), cmd), sleeper: `sleep\0${n}` };
}

/** In this describe: a tsd over a fresh hangingRuntime with --runtime-timeout `timeoutS`, busybox pulled; checked and removed after. */
function useTsdOverHangingRuntime(timeoutS: number, set: (t: Tsd, rt: ReturnType<typeof hangingRuntime>) => void): void {
  let t: Tsd;
  let rt: ReturnType<typeof hangingRuntime>;
  beforeAll(async () => {
    rt = hangingRuntime();
    t = await startTsd(['--runtime', rt.path, '--runtime-timeout', String(timeoutS)]);
    set(t, rt);
    expect((await t.docker(['pull', 'busybox'])).code).toBe(0);
  });
  afterAll(async () => {
    expect(await closeAndCheck(t)).toEqual([]);
    rmSync(rt.dir, { recursive: true, force: true });
  });
}

describe('a runtime binary that hangs or fails (tsd --runtime-timeout 2)', () => {
  let t: Tsd;
  let rt: ReturnType<typeof hangingRuntime>;
  useTsdOverHangingRuntime(2, (tsd, r) => { t = tsd; rt = r; });

  it('a create that hangs: docker run fails with "runtime create timed out after 2 s", nothing is left, the name is free', async () => {
    rt.hang('create');
    const t0 = Date.now();
    const run = await t.docker(['run', '--rm', '--name', 'hung', 'busybox', 'true']);
    expect(run.code).toBe(125);
    expect(run.stderr).toMatch(/Error response from daemon: .*runtime create timed out after 2 s/);
    expect(Date.now() - t0).toBeLessThan(20_000);
    expect(processesWith(rt.sleeper)).toEqual([]);
    expect((await t.docker(['ps', '-aq'])).stdout).toBe('');
    expect(leftovers(t)).toEqual([]);
    // The runtime works again: the same name is taken.
    rt.hang('none');
    const ok = await t.docker(['run', '--rm', '--name', 'hung', 'busybox', 'echo', 'fine']);
    expect({ code: ok.code, stdout: ok.stdout }).toEqual({ code: 0, stdout: 'fine\n' });
    expect(leftovers(t)).toEqual([]);
  });

  it('a create that fails: docker run fails with a 500 carrying the runtime\'s message, nothing is left, the name is free', async () => {
    rt.fail('create');
    const run = await t.docker(['run', '--rm', '--name', 'failing', 'busybox', 'true']);
    expect(run.code).toBe(125);
    expect(run.stderr).toMatch(/Error response from daemon: .*faulty runtime: cannot create today/);
    const raw = await apiPost(t, '/containers/create?name=failing', JSON.stringify({ Image: 'busybox', Cmd: ['true'] }));
    expect(raw.status).toBe(500);
    expect(raw.body).toMatch(/faulty runtime: cannot create today/);
    expect((await t.docker(['ps', '-aq'])).stdout).toBe('');
    expect(leftovers(t)).toEqual([]);
    rt.fail('none');
    const ok = await t.docker(['run', '--rm', '--name', 'failing', 'busybox', 'true']);
    expect(ok.code).toBe(0);
    expect(leftovers(t)).toEqual([]);
  });

  it('a start that hangs: docker start fails naming it, the container stays created and is removed with nothing left', async () => {
    expect((await t.docker(['create', '--name', 'slowstart', 'busybox', 'sleep', '100'])).code).toBe(0);
    rt.hang('start');
    const start = await t.docker(['start', 'slowstart']);
    expect(start.code).not.toBe(0);
    expect(start.stderr).toMatch(/runtime start timed out after 2 s/);
    expect(processesWith(rt.sleeper)).toEqual([]);
    // tsd answers, and the shim too (the container is still as created).
    expect((await t.docker(['ps', '-a', '--filter', 'name=slowstart', '--format', '{{.Status}}'])).stdout.trim()).toBe('Created');
    rt.hang('none');
    expect((await t.docker(['rm', '-f', 'slowstart'])).code).toBe(0);
    expect(leftovers(t)).toEqual([]);
  });
});

describe('SIGTERM of tsd while a create is under way', () => {
  let t: Tsd;
  let rt: ReturnType<typeof hangingRuntime>;
  useTsdOverHangingRuntime(5, (tsd, r) => { t = tsd; rt = r; });

  it('the create finishes and is answered before tsd exits; after a restart the container is there and starts', async () => {
    rt.slow('create');
    const create = dockerChild(t, ['create', '--name', 'drained', 'busybox', 'sleep', '100']);
    const created = new Promise<number | null>((r) => create.child.once('close', r));
    await until('the runtime create is under way', () => processesWith('create').some((p) => readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(rt.path)));
    const t0 = Date.now();
    await t.stop();
    console.log(`tsd stopped ${Date.now() - t0} ms after SIGTERM, with a create under way`);
    expect(await created, create.out()).toBe(0);
    expect(create.out()).toMatch(/^[0-9a-f]{64}\n$/);
    rt.slow('none');
    await t.restart();
    expect((await t.docker(['inspect', '--format', '{{.State.Status}}', 'drained'])).stdout).toBe('created\n');
    expect((await t.docker(['start', 'drained'])).code).toBe(0);
    expect((await t.docker(['rm', '-f', 'drained'])).code).toBe(0);
    expect(leftovers(t)).toEqual([]);
  });
});

describe('a client that disconnects (the docker CLI killed with SIGKILL)', () => {
  let t: Tsd;

  beforeAll(async () => {
    t = await startTsd();
    expect((await t.docker(['pull', 'busybox'])).code).toBe(0);
  });

  afterEach(async () => {
    // What a failed test left, so that the next one starts clean.
    const ids = (await t.docker(['ps', '-aq'])).stdout.split('\n').filter(Boolean);
    if (ids.length) await t.docker(['rm', '-f', ...ids]);
  });

  afterAll(async () => {
    expect(await closeAndCheck(t)).toEqual([]);
  });

  it('mid-attach with stdin: the container keeps running, the shim has no fd more than before, a new attach works', async () => {
    // It also ticks: as with dockerd, a client that went away is noticed when its stream is
    // written to (its end of the socket half-closed looks like a stdin at EOF until then).
    expect((await t.docker(['run', '-d', '-i', '--name', 'echoer', 'busybox', 'sh', '-c', '(while true; do echo tick; sleep 0.2; done) & while read l; do echo "got $l"; done'])).code).toBe(0);
    const shim = await shimPidOf(t, 'echoer');
    await sleep(500); // the connections of run -d (start, its attach) are gone
    const before = fds(shim);
    for (let round = 0; round < 3; round++) {
      const cli = dockerChild(t, ['attach', 'echoer']);
      cli.child.stdin!.write(`hello ${round}\n`);
      await until(`the attach echoes (round ${round}: ${JSON.stringify(cli.out())})`, () => cli.out().includes(`got hello ${round}`));
      expect(fds(shim)).toBeGreaterThan(before);
      await kill9(cli.child);
      await until(`the shim's fds back to ${before} (${fds(shim)})`, () => fds(shim) <= before);
    }
    expect((await t.docker(['inspect', 'echoer', '--format', '{{.State.Status}}'])).stdout.trim()).toBe('running');
    const last = dockerChild(t, ['attach', 'echoer']);
    last.child.stdin!.write('again\n');
    await until('a new attach echoes', () => last.out().includes('got again'));
    await kill9(last.child);
    expect((await t.docker(['rm', '-f', 'echoer'])).code).toBe(0);
    expect(leftovers(t)).toEqual([]);
  });

  it('mid logs -f: tsd keeps answering, its fds are back, the container keeps running and logging', async () => {
    expect((await t.docker(['run', '-d', '--name', 'ticker', 'busybox', 'sh', '-c', 'i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.05; done'])).code).toBe(0);
    const tsd = t.process().pid!;
    const shim = await shimPidOf(t, 'ticker');
    await sleep(500);
    const shimBefore = fds(shim);
    // A first follower, so that whatever tsd opens once (and keeps) is open before it is counted.
    const warm = dockerChild(t, ['logs', '-f', 'ticker']);
    await until('logs -f follows', () => warm.out().includes('tick 3'));
    await kill9(warm.child);
    await sleep(300);
    const before = fds(tsd);
    for (let round = 0; round < 3; round++) {
      const cli = dockerChild(t, ['logs', '-f', '--tail', '1', 'ticker']);
      await until('logs -f follows new lines', () => cli.out().split('\n').length > 3);
      await kill9(cli.child);
    }
    await until(`tsd's fds back to ${before} (${fds(tsd)})`, () => fds(tsd) <= before);
    expect(fds(shim)).toBeLessThanOrEqual(shimBefore);
    const a = (await t.docker(['logs', 'ticker'])).stdout.split('\n').length;
    await sleep(300);
    expect((await t.docker(['logs', 'ticker'])).stdout.split('\n').length).toBeGreaterThan(a);
    expect((await t.docker(['inspect', 'ticker', '--format', '{{.State.Status}}'])).stdout.trim()).toBe('running');
    expect((await t.docker(['rm', '-f', 'ticker'])).code).toBe(0);
    expect(leftovers(t)).toEqual([]);
  });

  it('mid exec -i: the exec gets EOF on its stdin, finishes, and exec inspect has its exit code; no fd stays in the shim', async () => {
    expect((await t.docker(['run', '-d', '--name', 'host', 'busybox', 'sleep', '1000'])).code).toBe(0);
    const shim = await shimPidOf(t, 'host');
    await sleep(500);
    const before = fds(shim);
    const since = Math.floor(Date.now() / 1000) - 1;
    const cli = dockerChild(t, ['exec', '-i', 'host', 'sh', '-c', 'while read l; do echo "exec got $l"; done; exit 7']);
    cli.child.stdin!.write('one\n');
    await until('the exec echoes', () => cli.out().includes('exec got one'));
    await kill9(cli.child);
    const events = await t.docker(['events', '--since', String(since), '--until', String(Math.floor(Date.now() / 1000) + 1), '--filter', 'event=exec_create', '--format', '{{.Actor.Attributes.execID}}']);
    const execId = events.stdout.trim();
    expect(execId).toMatch(/^[0-9a-f]{64}$/);
    let inspect = '';
    await until('the exec has finished', async () => {
      inspect = await execInspect(t, execId);
      return inspect.startsWith('false ');
    });
    expect(inspect).toBe('false 7');
    await until(`the shim's fds back to ${before} (${fds(shim)})`, () => fds(shim) <= before);
    expect((await t.docker(['inspect', 'host', '--format', '{{.State.Status}}'])).stdout.trim()).toBe('running');
    // An exec after it works.
    const again = await t.docker(['exec', 'host', 'echo', 'still']);
    expect({ code: again.code, stdout: again.stdout }).toEqual({ code: 0, stdout: 'still\n' });
    expect((await t.docker(['rm', '-f', 'host'])).code).toBe(0);
    expect(leftovers(t)).toEqual([]);
  });
});

/** A POST with a JSON body over tsd's socket: its status and body. */
function apiPost(t: Tsd, path: string, body: string): Promise<{ status: number; body: string }> {
  return new Promise((ok, fail) => {
    const req = request({ socketPath: t.socket, method: 'POST', path: `/v1.41${path}`, headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) } }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => ok({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', fail);
    req.end(body);
  });
}

/** GET /exec/ID/json over tsd's socket (the CLI has no exec inspect): "Running ExitCode". */
function execInspect(t: Tsd, id: string): Promise<string> {
  return new Promise((ok, fail) => {
    const req = request({ socketPath: t.socket, path: `/v1.41/exec/${id}/json` }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => {
        const v = JSON.parse(text) as { Running: boolean; ExitCode: number | null };
        ok(`${v.Running} ${v.ExitCode}`);
      });
    });
    req.on('error', fail);
    req.end();
  });
}

/** Fills the filesystem of dir to its last block (files dir/.filler*); `free` removes them. */
function fill(dir: string): void {
  spawnSync('sh', ['-c', `dd if=/dev/zero of=${dir}/.filler1 bs=64k; dd if=/dev/zero of=${dir}/.filler2 bs=4k; dd if=/dev/zero of=${dir}/.filler3 bs=1`], { stdio: 'ignore' });
  expect(statfsSync(dir).bavail).toBe(0);
}
function free(dir: string): void {
  for (const f of ['.filler1', '.filler2', '.filler3']) rmSync(join(dir, f), { force: true });
}
/** Every path under dir but the fillers, for a before/after comparison. */
function tree(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.name.startsWith('.filler')) continue;
      const p = join(d, e.name);
      out.push(relative(dir, p));
      if (e.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out.sort();
}

describe('a full disk (data root and exec root on small tmpfs mounts)', () => {
  let t: Tsd;
  let mounted: string[] = [];

  beforeAll(async () => {
    t = await startTsd();
    // The same tsd again, its roots now on tmpfs mounts of their own.
    await t.stop();
    for (const [dir, size] of [[t.dataRoot, '64m'], [t.execRoot, '8m']]) {
      expect(spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0711`, 'tmpfs', dir]).status).toBe(0);
      mounted.push(dir);
    }
    await t.restart();
    expect((await t.docker(['pull', 'busybox'])).code).toBe(0);
  });

  afterEach(async () => {
    for (const d of mounted) free(d);
    const ids = (await t.docker(['ps', '-aq'])).stdout.split('\n').filter(Boolean);
    if (ids.length) await t.docker(['rm', '-f', ...ids]);
  });

  afterAll(async () => {
    const left = leftovers(t).filter((l) => !mounted.some((m) => l === `mount ${m}`));
    await t.stop();
    for (const d of mounted.reverse()) spawnSync('umount', [d]);
    mounted = [];
    await t.close();
    expect(left).toEqual([]);
  });

  it('while writing logs: the container keeps running, what was written is read back, logging resumes when there is space', async () => {
    expect((await t.docker(['run', '-d', '--name', 'writer', 'busybox', 'sh', '-c', 'i=0; while true; do echo "line $i"; i=$((i+1)); usleep 2000; done'])).code).toBe(0);
    const id = await idOf(t, 'writer');
    const numbers = async () => (await t.docker(['logs', 'writer'])).stdout.split('\n').filter(Boolean).map((l) => Number(/^line (\d+)$/.exec(l)?.[1] ?? NaN));
    await until('100 lines are logged', async () => (await numbers()).length > 100);
    fill(t.execRoot);
    await sleep(1000);
    const during = await numbers();
    expect(during.length).toBeGreaterThan(100);
    expect(during.every((n) => Number.isInteger(n))).toBe(true);
    await sleep(1000);
    expect((await t.docker(['inspect', 'writer', '--format', '{{.State.Status}}'])).stdout.trim()).toBe('running');
    // Nothing more could be written while the disk was full.
    const stalled = await numbers();
    expect(stalled.length).toBeLessThanOrEqual(during.length + 1);
    free(t.execRoot);
    await until('logging resumes', async () => (await numbers()).length > stalled.length + 50);
    const after = await numbers();
    expect(after.every((n) => Number.isInteger(n))).toBe(true);
    // The container was never held up: its counter went on while its lines were dropped.
    const last = stalled[stalled.length - 1];
    const next = after[stalled.length];
    expect(next - last).toBeGreaterThan(100);
    await until('the dropped lines are counted', () => existsSync(join(t.execRoot, id, 'log-dropped')));
    expect(Number(readFileSync(join(t.execRoot, id, 'log-dropped'), 'utf8'))).toBeGreaterThan(0);
    expect((await t.docker(['rm', '-f', 'writer'])).code).toBe(0);
    expect(leftovers(t).filter((l) => !l.startsWith('mount '))).toEqual([]);
  });

  it('while writing records: create and run fail with a 500 naming the step, path and ENOSPC, nothing is left, the name is free', async () => {
    const before = tree(t.dataRoot);
    fill(t.dataRoot);
    const create = await t.docker(['create', '--name', 'full', 'busybox', 'true']);
    expect(create.code).not.toBe(0);
    expect(create.stderr).toMatch(/Error response from daemon: .*ENOSPC/);
    expect(create.stderr).toContain(t.dataRoot);
    const run = await t.docker(['run', '--rm', '--name', 'full', 'busybox', 'true']);
    expect(run.code).toBe(125);
    expect(run.stderr).toMatch(/ENOSPC/);
    expect(tree(t.dataRoot)).toEqual(before);
    expect(leftovers(t).filter((l) => !mounted.some((m) => l === `mount ${m}`))).toEqual([]);
    free(t.dataRoot);
    const ok = await t.docker(['run', '--rm', '--name', 'full', 'busybox', 'echo', 'room again']);
    expect({ code: ok.code, stdout: ok.stdout }).toEqual({ code: 0, stdout: 'room again\n' });
  });

  it('while writing events and a die: tsd stays up, the stop ends, events and records are written again once there is space', async () => {
    expect((await t.docker(['run', '-d', '--name', 'victim', 'busybox', 'sleep', '1000'])).code).toBe(0);
    fill(t.dataRoot);
    // The last page of events.log has room of its own: filled with empty lines (skipped when read back).
    spawnSync('sh', ['-c', `while printf '\\n' >> ${join(t.dataRoot, 'events.log')}; do :; done`], { stdio: 'ignore' });
    const stop = await t.docker(['stop', '-t', '1', 'victim'], { timeoutMs: 20_000 });
    expect(t.process().exitCode).toBeNull();
    expect(stop.code).toBe(0);
    expect((await t.docker(['inspect', 'victim', '--format', '{{.State.Status}} {{.State.ExitCode}}'])).stdout.trim()).toBe('exited 137');
    expect((await t.docker(['version', '--format', '{{.Server.APIVersion}}'])).stdout.trim()).toBe('1.41');
    free(t.dataRoot);
    const since = Math.floor(Date.now() / 1000) - 1;
    expect((await t.docker(['start', 'victim'])).code).toBe(0);
    expect((await t.docker(['rm', '-f', 'victim'])).code).toBe(0);
    const events = await t.docker(['events', '--since', String(since), '--until', String(Math.floor(Date.now() / 1000) + 1), '--format', '{{.Action}}']);
    expect(events.stdout.split('\n')).toEqual(expect.arrayContaining(['start', 'die', 'destroy']));
    expect(readFileSync(join(t.dataRoot, 'events.log'), 'utf8')).toContain('"destroy"');
    expect(t.log()).toMatch(/event log.*ENOSPC/);
    expect(t.log()).toMatch(/recording the exit of .*ENOSPC/);
  });
});
