// Durability with the real docker CLI: restart policies (on-failure:N with
// Docker's backoff and RestartCount, always stopped by docker stop,
// unless-stopped and always across a tsd restart), the event log persisted
// across restarts, and recovery after kill -9 of tsd with a container writing
// a counter the whole time.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeAndCheck, startTsd, type Tsd } from './tsd.js';

let t: Tsd;

beforeAll(async () => {
  t = await startTsd();
  expect((await t.docker(['pull', IMAGE])).code).toBe(0);
}, 60_000);

afterAll(async () => {
  expect(await closeAndCheck(t)).toEqual([]);
});

const IMAGE = 'busybox';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const nowS = () => Math.floor(Date.now() / 1000);

async function state(id: string): Promise<string> {
  return (await t.docker(['inspect', id, '--format', '{{.State.Status}} {{.State.ExitCode}} {{.RestartCount}}'])).stdout.trim();
}

/** Polls until the container's "status exitCode restartCount" is `want`. */
async function until(id: string, want: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  let got = '';
  while (Date.now() < end) {
    got = await state(id);
    if (got === want) return;
    await sleep(50);
  }
  expect(got).toBe(want);
}

async function events(id: string, since: number): Promise<string[]> {
  const r = await t.docker(['events', '--since', String(since), '--until', String(nowS() + 1), '--filter', `container=${id}`, '--format', '{{.Action}}{{if eq .Action "die"}} {{index .Actor.Attributes "exitCode"}}{{end}}']);
  return r.stdout.trim().split('\n').filter(Boolean);
}

describe('restart policies and recovery', () => {
  it('on-failure:2: restarted twice after an exit 1, with a growing backoff, then left exited', async () => {
    const since = nowS() - 1;
    const run = await t.docker(['run', '-d', '--restart', 'on-failure:2', IMAGE, 'sh', '-c', 'exit 1']);
    expect(run.stderr).toBe('');
    const id = run.stdout.trim();
    expect((await t.docker(['inspect', id, '--format', '{{.HostConfig.RestartPolicy.Name}} {{.HostConfig.RestartPolicy.MaximumRetryCount}}'])).stdout.trim()).toBe('on-failure 2');
    await until(id, 'exited 1 2');
    await sleep(1000);
    expect(await state(id)).toBe('exited 1 2');
    // Docker's order: each die is followed by a start (no restart event).
    expect(await events(id, since)).toEqual(['create', 'start', 'die 1', 'start', 'die 1', 'start', 'die 1']);
    // The backoff doubles: at least 100 ms before the first restart, 200 ms before the second.
    const timed = (await t.docker(['events', '--since', String(since), '--until', String(nowS() + 1), '--filter', `container=${id}`, '--format', '{{.Action}} {{.TimeNano}}'])).stdout.trim().split('\n').map((l) => l.split(' '));
    const at = (action: string, n: number) => Number(timed.filter(([a]) => a === action)[n][1]) / 1e6;
    expect(at('start', 1) - at('die', 0)).toBeGreaterThanOrEqual(100);
    expect(at('start', 2) - at('die', 1)).toBeGreaterThanOrEqual(200);
    // A start by the user counts from 0 again.
    await t.docker(['start', id]);
    await until(id, 'exited 1 2');
    expect(await t.docker(['rm', id])).toMatchObject({ code: 0, stderr: '' });
  });

  it('a bad policy is a 400 naming the parameter', async () => {
    const bad = await t.docker(['create', '--restart', 'always:3', IMAGE, 'true']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/RestartPolicy|maximum retry count/);
    expect((await t.docker(['ps', '-aq'])).stdout).toBe('');
  });

  it('always: restarted after every exit until docker stop, which stops it for good', async () => {
    const id = (await t.docker(['run', '-d', '--restart', 'always', IMAGE, 'sh', '-c', 'sleep 0.2; exit 3'])).stdout.trim();
    const end = Date.now() + 10_000;
    while (Number((await state(id)).split(' ')[2]) < 2 && Date.now() < end) await sleep(50);
    expect(Number((await state(id)).split(' ')[2])).toBeGreaterThanOrEqual(2);
    // Between an exit and its restart, inspect says restarting (the backoff is 400 ms and more by now).
    let seen = '';
    while (!seen.startsWith('restarting') && Date.now() < end) seen = await state(id);
    expect(seen).toMatch(/^restarting 3 /);
    let ps = '';
    while (!ps.startsWith('Restarting') && Date.now() < end) ps = (await t.docker(['ps', '-a', '--filter', `id=${id}`, '--format', '{{.Status}}'])).stdout.trim();
    expect(ps).toMatch(/^Restarting \(3\) .* ago$/);
    expect((await t.docker(['stop', id])).code).toBe(0);
    const stopped = await state(id);
    expect(stopped).toMatch(/^exited /);
    await sleep(1500);
    expect(await state(id)).toBe(stopped);
    expect(await t.docker(['rm', id])).toMatchObject({ code: 0, stderr: '' });
  });

  it('across a tsd restart: always comes back after docker stop, unless-stopped stays stopped', async () => {
    const loop = ['sh', '-c', 'trap "exit 0" TERM; while true; do sleep 0.1; done'];
    const always = (await t.docker(['run', '-d', '--restart', 'always', IMAGE, ...loop])).stdout.trim();
    const unless = (await t.docker(['run', '-d', '--restart', 'unless-stopped', IMAGE, ...loop])).stdout.trim();
    const running = (await t.docker(['run', '-d', '--restart', 'unless-stopped', IMAGE, ...loop])).stdout.trim();
    expect((await t.docker(['stop', always, unless])).code).toBe(0);
    await until(always, 'exited 0 0');
    await until(unless, 'exited 0 0');
    await t.stop();
    await t.restart();
    await until(always, 'running 0 0');
    await sleep(500);
    expect(await state(unless)).toBe('exited 0 0');
    expect(await state(running)).toBe('running 0 0');
    expect(await t.docker(['rm', '-f', always, unless, running])).toMatchObject({ code: 0, stderr: '' });
  });

  it('a restart waiting out its backoff when tsd is killed is made when tsd is back', async () => {
    const id = (await t.docker(['run', '-d', '--restart', 'on-failure:5', IMAGE, 'sh', '-c', 'exit 1'])).stdout.trim();
    // After the third restart the next one waits 800 ms: kill tsd inside that wait.
    let seen = '';
    const end = Date.now() + 10_000;
    while (seen !== 'restarting 1 3' && Date.now() < end) seen = await state(id);
    expect(seen).toBe('restarting 1 3');
    await t.kill9();
    await t.restart();
    await until(id, 'exited 1 5');
    expect(await t.docker(['rm', id])).toMatchObject({ code: 0, stderr: '' });
  });

  it('kill -9 of tsd: the counter is logged without a gap, the missed die is reported once, policies apply at start', async () => {
    const since = nowS() - 1;
    const counter = (await t.docker(['run', '-d', IMAGE, 'sh', '-c', 'trap "exit 0" TERM; i=0; while true; do i=$((i+1)); echo $i; sleep 0.1; done'])).stdout.trim();
    const dies = (await t.docker(['run', '-d', IMAGE, 'sh', '-c', 'sleep 1; exit 7'])).stdout.trim();
    const retried = (await t.docker(['run', '-d', '--restart', 'on-failure:1', IMAGE, 'sh', '-c', 'sleep 1; exit 6'])).stdout.trim();
    await sleep(300);
    await t.kill9();
    await sleep(2500);
    await t.restart();
    expect(existsSync(join(t.dataRoot, 'events.log'))).toBe(true);
    expect(await state(dies)).toBe('exited 7 0');
    // The events from before the kill come from the persisted log, the die from the recovery.
    expect(await events(dies, since)).toEqual(['create', 'start', 'die 7']);
    // on-failure:1 is applied to the exit found at start: one more run, then exited.
    await until(retried, 'exited 6 1');
    expect(await events(retried, since)).toEqual(['create', 'start', 'die 6', 'start', 'die 6']);
    await sleep(500);
    expect(await state(counter)).toBe('running 0 0');
    expect((await t.docker(['stop', counter])).code).toBe(0);
    expect(await state(counter)).toBe('exited 0 0');
    const logs = await t.docker(['logs', '-t', counter]);
    const lines = logs.stdout.trim().split('\n');
    const values = lines.map((l) => Number(l.split(' ')[1]));
    expect(values.length).toBeGreaterThan(25);
    expect(values).toEqual(values.map((_, i) => i + 1));
    // No stall: the counter went on while tsd was down.
    const times = lines.map((l) => Date.parse(l.split(' ')[0]));
    const maxStep = Math.max(...times.slice(1).map((v, i) => v - times[i]));
    expect(maxStep).toBeLessThan(1000);
    // The die was reported once: not again after another restart.
    await t.stop();
    await t.restart();
    expect(await events(dies, since)).toEqual(['create', 'start', 'die 7']);
    expect(await t.docker(['rm', counter, dies, retried])).toMatchObject({ code: 0, stderr: '' });
  });
});
