// HEALTHCHECK with the real docker CLI: --health-cmd and friends (and an
// image-less default of none), starting → healthy → unhealthy as the check
// passes and fails, inspect's State.Health with its log, `docker ps` showing
// "(healthy)", the health_status events, a check that runs past its timeout
// (exit -1, Docker's message), and no probe after the container stopped.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeAndCheck, startTsd, type Tsd } from './tsd.js';

let t: Tsd;
const IMAGE = 'busybox';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  t = await startTsd();
  expect((await t.docker(['pull', IMAGE])).code).toBe(0);
}, 60_000);

afterAll(async () => {
  expect(await closeAndCheck(t)).toEqual([]);
});

const health = async (id: string) => JSON.parse((await t.docker(['inspect', id, '--format', '{{json .State.Health}}'])).stdout);

async function until(id: string, status: string, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  let got = '';
  while (Date.now() < end) {
    got = (await health(id))?.Status;
    if (got === status) return;
    await sleep(100);
  }
  expect(got).toBe(status);
}

describe('HEALTHCHECK', () => {
  it('starting (failures in --health-start-period not counted), then healthy when the check passes, unhealthy after --health-retries failures, healthy again; ps, inspect and events show it', async () => {
    const since = Math.floor(Date.now() / 1000);
    const r = await t.docker(['run', '-d', '--health-cmd', 'test -e /tmp/ok && echo fine', '--health-interval', '300ms', '--health-retries', '2', '--health-timeout', '2s', '--health-start-period', '5s',
      IMAGE, 'sh', '-c', 'sleep 1.5; touch /tmp/ok; exec sleep 1000']);
    expect(r.stderr).toBe('');
    const id = r.stdout.trim();
    expect((await health(id)).Status).toBe('starting');
    expect((await t.docker(['ps', '--format', '{{.Status}}', '--filter', `id=${id}`])).stdout).toMatch(/^Up .* \(health: starting\)\n$/);
    await until(id, 'healthy');
    const h = await health(id);
    expect(h.FailingStreak).toBe(0);
    expect(h.Log.at(-1)).toMatchObject({ ExitCode: 0, Output: 'fine\n' });
    expect(h.Log.length).toBeLessThanOrEqual(5);
    expect((await t.docker(['ps', '--format', '{{.Status}}', '--filter', `id=${id}`])).stdout).toMatch(/^Up .* \(healthy\)\n$/);
    expect(await t.docker(['inspect', id, '--format', '{{json .Config.Healthcheck}}'])).toMatchObject({ stdout: '{"Test":["CMD-SHELL","test -e /tmp/ok && echo fine"],"Interval":300000000,"Timeout":2000000000,"StartPeriod":5000000000,"Retries":2}\n' });
    expect((await t.docker(['exec', id, 'rm', '/tmp/ok'])).code).toBe(0);
    await until(id, 'unhealthy');
    expect((await health(id)).FailingStreak).toBeGreaterThanOrEqual(2);
    expect((await t.docker(['exec', id, 'touch', '/tmp/ok'])).code).toBe(0);
    await until(id, 'healthy');
    const ev = (await t.docker(['events', '--since', String(since), '--until', String(Math.floor(Date.now() / 1000) + 1), '--filter', `container=${id}`, '--format', '{{.Action}}'])).stdout
      .split('\n').filter((a) => a.startsWith('health_status'));
    expect(ev).toEqual(['health_status: healthy', 'health_status: unhealthy', 'health_status: healthy']);
    // Stopped: no more probes (no exec events after the die).
    expect((await t.docker(['stop', '-t', '0', id])).code).toBe(0);
    const stoppedAt = Math.floor(Date.now() / 1000);
    await sleep(1200);
    const after = (await t.docker(['events', '--since', String(stoppedAt + 1), '--until', String(Math.floor(Date.now() / 1000) + 1), '--filter', `container=${id}`, '--format', '{{.Action}}'])).stdout;
    expect(after).not.toContain('exec_');
    expect((await t.docker(['rm', id])).code).toBe(0);
  });

  it('a check past --health-timeout counts as a failure with exit -1 and Docker\'s message; --no-healthcheck and none configured: no Health', async () => {
    const id = (await t.docker(['run', '-d', '--health-cmd', 'sleep 5', '--health-interval', '200ms', '--health-timeout', '300ms', '--health-retries', '1', IMAGE, 'sleep', '1000'])).stdout.trim();
    await until(id, 'unhealthy');
    expect((await health(id)).Log[0]).toMatchObject({ ExitCode: -1, Output: 'Health check exceeded timeout (0.3s)' });
    const plain = (await t.docker(['run', '-d', IMAGE, 'sleep', '1000'])).stdout.trim();
    expect((await t.docker(['inspect', plain, '--format', '{{json .State.Health}}'])).stdout.trim()).toBe('null');
    const none = (await t.docker(['run', '-d', '--no-healthcheck', IMAGE, 'sleep', '1000'])).stdout.trim();
    expect((await t.docker(['inspect', none, '--format', '{{json .State.Health}}'])).stdout.trim()).toBe('null');
    expect((await t.docker(['rm', '-f', id, plain, none])).code).toBe(0);
  });
});
