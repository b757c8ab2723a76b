// tsd under faults, with the real docker CLI: kill -9 of tsd in the middle of each
// container and image operation (a few seeded points per operation), kill -9 of a
// container's shim, SIGTERM of tsd during 20 concurrent `docker run -d`, and a registry
// that stalls mid-layer. After each: every container is consistent (a running one has a
// live, exec-able process, an exited one its real exit code), the operation works again,
// and nothing is left: shim, mount, cgroup, record, netns pin, active snapshot, partial
// download. (Hanging runtimes, full disks and killed CLIs: test/supervisor/faults.test.ts;
// restart policies across kill -9 of tsd: test/supervisor/restart.test.ts.)
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildLayer, busyboxFiles, push, writeLayout } from '../images/buildImage.js';
import { startProxy } from '../images/proxy.js';
import { closeAndCheck, leftovers, startTsd, type Tsd } from '../supervisor/tsd.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** A process that runs (a zombie has ended: only its parent has not reaped it yet). */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}
const STALL_S = 3;
let t: Tsd;
let big: { digest: string; size: number };

/** A small seeded PRNG (mulberry32): the kill points are the same on every run. */
function seeded(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = seeded(22);

function dockerChild(args: string[], input?: string): { child: ChildProcess; done: Promise<number>; out: () => string } {
  const child = spawn('docker', args, { env: { ...process.env, DOCKER_HOST: `unix://${t.socket}`, DOCKER_CONFIG: join(t.dir, 'docker-config'), DOCKER_BUILDKIT: '0' }, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  if (input !== undefined) child.stdin!.end(input);
  else child.stdin!.end();
  const done = new Promise<number>((r) => child.on('close', (code) => r(code ?? -1)));
  return { child, done, out: () => out };
}

/** Runs `args` as a child, kills tsd with SIGKILL `delayMs` later, reaps the CLI, starts tsd again. */
async function killTsdDuring(args: string[], delayMs: number, input?: string): Promise<{ code: number; out: string }> {
  const op = dockerChild(args, input);
  await sleep(delayMs);
  await t.kill9();
  const code = await Promise.race([op.done, sleep(10_000).then(() => { op.child.kill('SIGKILL'); return op.done; })]);
  await t.restart();
  return { code, out: op.out() };
}

interface State { id: string; name: string; status: string; pid: number; exitCode: number; error: string }
async function states(): Promise<State[]> {
  const ids = (await t.docker(['ps', '-aq', '--no-trunc'])).stdout.split('\n').filter(Boolean);
  if (!ids.length) return [];
  const r = await t.docker(['inspect', '--format', '{{.Id}}\t{{.Name}}\t{{.State.Status}}\t{{.State.Pid}}\t{{.State.ExitCode}}\t{{.State.Error}}', ...ids]);
  return r.stdout.split('\n').filter(Boolean).map((l) => {
    const [id, name, status, pid, exitCode, error] = l.split('\t');
    return { id, name: name.slice(1), status, pid: Number(pid), exitCode: Number(exitCode), error };
  });
}

/**
 * What is wrong with the containers now: a running one whose pid is not alive or that
 * cannot exec, an exited one with an exit code outside `codes`, any other status than
 * created/running/exited.
 */
async function inconsistencies(codes: number[]): Promise<string[]> {
  const out: string[] = [];
  for (const s of await states()) {
    if (s.status === 'running') {
      if (!(s.pid > 0 && alive(s.pid))) out.push(`${s.name}: running with pid ${s.pid}, not alive`);
      const e = await t.docker(['exec', s.id, 'true']);
      if (e.code !== 0) out.push(`${s.name}: running, exec fails: ${e.stderr.trim()}`);
    } else if (s.status === 'exited') {
      if (!codes.includes(s.exitCode)) out.push(`${s.name}: exited ${s.exitCode} (${s.error})`);
    } else if (s.status !== 'created') out.push(`${s.name}: ${s.status} (${s.error})`);
  }
  return out;
}

/** Snapshots that are not committed and named, names that lead nowhere, partial downloads, their locks. */
function storeLeftovers(): string[] {
  const out: string[] = [];
  const base = join(t.dataRoot, 'snapshots');
  for (const driver of existsSync(base) ? readdirSync(base) : []) {
    const snaps = join(base, driver, 'snapshots');
    const named = new Set<string>();
    const names = join(base, driver, 'names');
    for (const n of existsSync(names) ? readdirSync(names) : []) {
      const id = readlinkSync(join(names, n));
      if (!existsSync(join(snaps, id, 'info.json'))) out.push(`snapshot name ${n} → missing ${id}`);
      named.add(id);
    }
    for (const id of existsSync(snaps) ? readdirSync(snaps) : []) {
      let info = { kind: 'no info.json', name: '?' };
      try {
        info = JSON.parse(readFileSync(join(snaps, id, 'info.json'), 'utf8')) as typeof info;
      } catch { /* kept as 'no info.json' */ }
      if (info.kind !== 'committed' || !named.has(id)) out.push(`snapshot ${driver}/${id} ${info.name} (${info.kind}${named.has(id) ? '' : ', unnamed'})`);
    }
  }
  const ingest = join(t.dataRoot, 'content', 'ingest');
  for (const f of existsSync(ingest) ? readdirSync(ingest) : []) out.push(`ingest ${f}`);
  const buildTmp = join(t.dataRoot, 'build', 'tmp');
  for (const f of existsSync(buildTmp) ? readdirSync(buildTmp) : []) out.push(`build tmp ${f}`);
  return out;
}

async function removeAll(): Promise<void> {
  const ids = (await t.docker(['ps', '-aq'])).stdout.split('\n').filter(Boolean);
  if (ids.length) expect(await t.docker(['rm', '-f', ...ids])).toMatchObject({ code: 0 });
  expect(leftovers(t)).toEqual([]);
}

const LOOP = ['sh', '-c', 'trap "exit 0" TERM; while true; do sleep 0.1; done'];
/** Kill points per operation, from the seeded PRNG (ms after the CLI started). */
const points = (n: number, max: number) => Array.from({ length: n }, () => Math.floor(rand() * max));

beforeAll(async () => {
  t = await startTsd(['--registry-stall-timeout', String(STALL_S)]);
  // A second image, `other`: busybox and a 2 MiB layer of random bytes, for the pulls.
  const layer = buildLayer({ data: randomBytes(1536 << 10).toString('base64') });
  big = { digest: `sha256:${createHash('sha256').update(layer.blob).digest('hex')}`, size: layer.blob.length };
  const layout = join(t.dir, 'layout-other');
  writeLayout(layout, { layers: [buildLayer(busyboxFiles()), layer] });
  push(layout, `${t.registry.host}/library/other:latest`);
  expect((await t.docker(['pull', 'busybox'])).code).toBe(0);
}, 60_000);

afterAll(async () => {
  expect(await closeAndCheck(t)).toEqual([]);
});

// A failed test leaves its containers; the next starts without them.
afterEach(async () => {
  const ids = (await t.docker(['ps', '-aq'])).stdout.split('\n').filter(Boolean);
  if (ids.length) await t.docker(['rm', '-f', ...ids]);
});

// One retry for the kill points and the shim case, where earlier runs failed once in a while
// on bugs since fixed (a snapshot a kill during rm -f left; a resumed pull that ended short;
// the runtime's state read before its output): a real regression fails both attempts.
const FLAKY = { retry: 1 };

describe('what a crash leaves in the snapshot store', () => {
  it('directories a removal or prepare cut short (no info.json, or no name) are removed when tsd starts; named ones stay', async () => {
    const snaps = join(t.dataRoot, 'snapshots', 'overlay', 'snapshots');
    const before = readdirSync(snaps).sort();
    await t.kill9();
    // A remove deletes the name and info.json under the lock and the tree after it; a kill
    // in between leaves the tree. A prepare killed between its info.json and its name: unnamed.
    mkdirSync(join(snaps, 'cut0remove00', 'fs', 'etc'), { recursive: true });
    writeFileSync(join(snaps, 'cut0remove00', 'fs', 'etc', 'passwd'), 'root:x:0:0::/:/bin/sh\n');
    mkdirSync(join(snaps, 'cut0prepare0', 'fs'), { recursive: true });
    writeFileSync(join(snaps, 'cut0prepare0', 'info.json'), JSON.stringify({ name: 'never-linked', id: 'cut0prepare0', kind: 'active', created: new Date().toISOString() }));
    await t.restart();
    expect(readdirSync(snaps).sort()).toEqual(before);
    expect(storeLeftovers()).toEqual([]);
    expect(t.log()).toContain('removed 2 snapshot(s) that a crash left');
    expect(await t.docker(['run', '--rm', 'busybox', 'true'])).toMatchObject({ code: 0 });
  });
});

describe('kill -9 of tsd during an operation, then a restart', FLAKY, () => {
  it('create: the container is gone or created, starts and runs; nothing is left after rm', async () => {
    for (const [i, d] of points(3, 400).entries()) {
      await killTsdDuring(['create', '--name', `k-create-${i}`, 'busybox', ...LOOP], d);
      expect(await inconsistencies([])).toEqual([]);
      if ((await states()).some((s) => s.name === `k-create-${i}`)) expect((await t.docker(['start', `k-create-${i}`])).code).toBe(0);
      else expect((await t.docker(['run', '-d', '--name', `k-create-${i}`, 'busybox', ...LOOP])).code).toBe(0);
      expect(await inconsistencies([])).toEqual([]);
    }
    await removeAll();
    expect(storeLeftovers()).toEqual([]);
  });

  it('start: the container runs (exec-able) or is created and starts again', async () => {
    for (const [i, d] of points(3, 400).entries()) {
      expect((await t.docker(['create', '--name', `k-start-${i}`, 'busybox', ...LOOP])).code).toBe(0);
      await killTsdDuring(['start', `k-start-${i}`], d);
      expect(await inconsistencies([])).toEqual([]);
      const s = (await states()).find((x) => x.name === `k-start-${i}`)!;
      if (s.status !== 'running') expect(await t.docker(['start', `k-start-${i}`])).toMatchObject({ code: 0 });
      expect(await inconsistencies([])).toEqual([]);
    }
    await removeAll();
    expect(storeLeftovers()).toEqual([]);
  });

  it('exec: the container keeps running, a new exec returns its exit code', async () => {
    expect((await t.docker(['run', '-d', '--name', 'k-exec', 'busybox', ...LOOP])).code).toBe(0);
    for (const d of points(3, 600)) {
      await killTsdDuring(['exec', 'k-exec', 'sh', '-c', 'sleep 0.3; exit 5'], d);
      expect(await inconsistencies([])).toEqual([]);
      expect((await states())[0].status).toBe('running');
      expect((await t.docker(['exec', 'k-exec', 'sh', '-c', 'exit 5'])).code).toBe(5);
    }
    await removeAll();
  });

  it('stop: the container is running or exited 0 (its TERM trap), and stops again', async () => {
    for (const [i, d] of points(3, 600).entries()) {
      expect((await t.docker(['run', '-d', '--name', `k-stop-${i}`, 'busybox', ...LOOP])).code).toBe(0);
      await killTsdDuring(['stop', `k-stop-${i}`], d);
      expect(await inconsistencies([0])).toEqual([]);
      expect(await t.docker(['stop', `k-stop-${i}`])).toMatchObject({ code: 0 });
      expect((await states()).find((x) => x.name === `k-stop-${i}`)).toMatchObject({ status: 'exited', exitCode: 0 });
    }
    await removeAll();
    expect(storeLeftovers()).toEqual([]);
  });

  it('rm -f: the container is gone or still there and consistent, and rm works again', async () => {
    for (const [i, d] of points(3, 500).entries()) {
      expect((await t.docker(['run', '-d', '--name', `k-rm-${i}`, 'busybox', ...LOOP])).code).toBe(0);
      await killTsdDuring(['rm', '-f', `k-rm-${i}`], d);
      expect(await inconsistencies([0, 137])).toEqual([]);
      if ((await states()).some((s) => s.name === `k-rm-${i}`)) expect(await t.docker(['rm', '-f', `k-rm-${i}`])).toMatchObject({ code: 0 });
      expect(await states()).toEqual([]);
      expect(leftovers(t)).toEqual([]);
      // The name is free again.
      expect((await t.docker(['create', '--name', `k-rm-${i}`, 'busybox', 'true'])).code).toBe(0);
      expect((await t.docker(['rm', `k-rm-${i}`])).code).toBe(0);
    }
    await removeAll();
    expect(storeLeftovers()).toEqual([]);
  });

  it('pull: the pull again succeeds and the image runs; no partial download or active snapshot is left', async () => {
    for (const d of points(3, 700)) {
      await t.docker(['rmi', 'other']);
      await killTsdDuring(['pull', 'other'], d);
      const again = await t.docker(['pull', 'other']);
      expect(again.code, again.stderr).toBe(0);
      expect(await t.docker(['run', '--rm', 'other', 'sh', '-c', 'test -s /data && echo ok'])).toMatchObject({ code: 0, stdout: 'ok\n' });
      expect(storeLeftovers()).toEqual([]);
    }
    // And at a known point: a layer held mid-download, half unpacked into its extract snapshot.
    const proxy = await startProxy({ upstream: t.registry.host, hold: { digest: big.digest, after: 300_000 } });
    try {
      const name = `${proxy.host}/library/other`;
      await t.docker(['rmi', 'other']);
      const op = dockerChild(['pull', name]);
      const held = await Promise.race([proxy.holding.then(() => true), sleep(15_000).then(() => false)]);
      await sleep(200);
      await t.kill9();
      await op.done;
      await t.restart();
      const again = await t.docker(['pull', name]);
      expect(again.code, `${again.stderr}held before the kill: ${held}; proxy requests: ${JSON.stringify(proxy.requests)}`).toBe(0);
      expect(await t.docker(['run', '--rm', name, 'sh', '-c', 'test -s /data && echo ok'])).toMatchObject({ code: 0, stdout: 'ok\n' });
      expect(storeLeftovers()).toEqual([]);
      expect((await t.docker(['rmi', name])).code).toBe(0);
    } finally {
      proxy.release();
      await proxy.close();
    }
    expect(leftovers(t)).toEqual([]);
  });

  it('build: no build container or context is left, the build again succeeds and its image runs', async () => {
    for (const [i, d] of points(3, 1500).entries()) {
      const dockerfile = `FROM busybox\nRUN echo ${i} > /f && sleep 0.5\nRUN cat /f > /g\n`;
      await killTsdDuring(['build', '-t', `built-${i}`, '-'], d, dockerfile);
      expect(await inconsistencies([0])).toEqual([]);
      const again = dockerChild(['build', '-t', `built-${i}`, '-'], dockerfile);
      expect(await again.done, again.out()).toBe(0);
      expect(await t.docker(['run', '--rm', `built-${i}`, 'cat', '/g'])).toMatchObject({ code: 0, stdout: `${i}\n` });
      expect(await states()).toEqual([]);
      expect(leftovers(t)).toEqual([]);
      expect(storeLeftovers()).toEqual([]);
    }
  });
});

describe('kill -9 of a container\'s shim', FLAKY, () => {
  it('the container is recorded as stopped with a reason, its process is gone, a die is reported, --restart always brings it back', async () => {
    const since = Math.floor(Date.now() / 1000) - 1;
    const plain = (await t.docker(['run', '-d', '--name', 'shim-plain', 'busybox', ...LOOP])).stdout.trim();
    const always = (await t.docker(['run', '-d', '--name', 'shim-always', '--restart', 'always', 'busybox', ...LOOP])).stdout.trim();
    const before = await states();
    for (const id of [plain, always]) process.kill(Number(readFileSync(join(t.execRoot, id, 'shim.pid'), 'utf8')), 'SIGKILL');
    let s: State[] = [];
    for (const end = Date.now() + 15_000; Date.now() < end; await sleep(100)) {
      s = await states();
      const p = s.find((x) => x.id === plain)!;
      const a = s.find((x) => x.id === always)!;
      if (p.status !== 'running' && a.status === 'running' && a.pid !== before.find((x) => x.id === always)!.pid) break;
    }
    const p = s.find((x) => x.id === plain)!;
    const why = () => `${JSON.stringify(p)}\n${t.log().split('\n').filter((l) => l.includes(plain.slice(0, 12)) || /warn|error/i.test(l)).slice(-30).join('\n')}`;
    expect(p.status, why()).toBe('exited');
    expect(p.error).toMatch(/shim/);
    // The container's process went with its shim: nothing of it runs unwatched.
    expect(alive(before.find((x) => x.id === plain)!.pid)).toBe(false);
    expect(alive(before.find((x) => x.id === always)!.pid)).toBe(false);
    expect(await inconsistencies([137])).toEqual([]);
    expect(s.find((x) => x.id === always)!.status).toBe('running');
    const ev = await t.docker(['events', '--since', String(since), '--until', String(Math.floor(Date.now() / 1000) + 1), '--filter', `container=${plain}`, '--format', '{{.Action}}']);
    expect(ev.stdout.trim().split('\n')).toEqual(['create', 'start', 'die']);
    // It starts again.
    expect((await t.docker(['start', plain])).code).toBe(0);
    expect(await inconsistencies([137])).toEqual([]);
    await removeAll();
  });
});

describe('SIGTERM of tsd during 20 concurrent docker run -d', FLAKY, () => {
  it('tsd exits, and after a restart each container runs or is created or gone; rm -f leaves nothing', async () => {
    const runs = Array.from({ length: 20 }, (_, i) => dockerChild(['run', '-d', '--name', `conc-${i}`, 'busybox', ...LOOP]));
    await sleep(400);
    const t0 = Date.now();
    await t.stop();
    const stopMs = Date.now() - t0;
    console.log(`tsd stopped ${stopMs} ms after SIGTERM`);
    const codes = await Promise.all(runs.map((r) => r.done));
    await t.restart();
    const s = await states();
    console.log(`after restart: ${codes.filter((c) => c === 0).length} runs succeeded; ${s.filter((x) => x.status === 'running').length} running, ${s.filter((x) => x.status === 'created').length} created, ${20 - s.length} never made`);
    expect(await inconsistencies([])).toEqual([]);
    // Every docker run that said it succeeded has its container running.
    for (const [i, c] of codes.entries()) if (c === 0) expect(s.find((x) => x.name === `conc-${i}`)?.status).toBe('running');
    await removeAll();
    expect(storeLeftovers()).toEqual([]);
  }, 60_000);
});

describe('a registry that stalls mid-layer', () => {
  it('the pull fails after the stall timeout naming the blob, the retry succeeds and runs', async () => {
    await t.docker(['rmi', 'other']);
    const proxy = await startProxy({ upstream: t.registry.host, hold: { digest: big.digest, after: 100_000 } });
    try {
      const name = `${proxy.host}/library/other`;
      const t0 = Date.now();
      const stalled = await t.docker(['pull', name], { timeoutMs: 40_000 });
      console.log(`stalled pull failed after ${Date.now() - t0} ms`);
      expect(stalled.code).not.toBe(0);
      expect(stalled.stderr).toContain(`${proxy.host}/v2/library/other/blobs/${big.digest}`);
      expect(stalled.stderr).toMatch(new RegExp(`sent nothing for ${STALL_S} s \\(registry stall timeout\\)`));
      expect(existsSync(join(t.dataRoot, 'content', 'blobs', 'sha256', big.digest.slice(7)))).toBe(false);
      expect((await t.docker(['images', '-q', name])).stdout).toBe('');
      // The retry (the proxy stalls once) resumes the partial download and runs.
      const retry = await t.docker(['pull', name]);
      expect(retry.code, retry.stderr).toBe(0);
      expect(proxy.requests.filter((r) => r.url.endsWith(big.digest)).map((r) => r.range ?? 'none')).toEqual(['none', expect.stringMatching(/^bytes=[1-9]\d*-$/)]);
      expect(await t.docker(['run', '--rm', name, 'sh', '-c', 'test -s /data && echo ok'])).toMatchObject({ code: 0, stdout: 'ok\n' });
      expect(storeLeftovers()).toEqual([]);
      expect((await t.docker(['rmi', name])).code).toBe(0);
    } finally {
      proxy.release();
      await proxy.close();
    }
  }, 60_000);
});
