import { describe, expect, it } from 'vitest';
import { drainedOnStop, InFlight } from '../../src/supervisor/http/drain.js';

describe('drainedOnStop', () => {
  it('lets the quick changes finish, with or without the API version, whatever the query', () => {
    for (const [m, u] of [
      ['POST', '/v1.41/containers/create?name=web'],
      ['POST', '/containers/abc/start'],
      ['POST', '/v1.41/containers/abc/stop?t=3'],
      ['DELETE', '/v1.41/containers/abc?force=1&v=1'],
      ['POST', '/v1.41/networks/create'],
      ['POST', '/v1.41/networks/n1/connect'],
      ['DELETE', '/v1.41/volumes/data'],
      ['POST', '/v1.41/containers/abc/exec'],
    ]) expect(drainedOnStop(m, u), `${m} ${u}`).toBe(true);
  });

  it('not reads, streams, or long transfers', () => {
    for (const [m, u] of [
      ['GET', '/v1.41/containers/json'],
      ['GET', '/v1.41/containers/abc/logs?follow=1'],
      ['GET', '/v1.41/events'],
      ['POST', '/v1.41/containers/abc/wait'],
      ['POST', '/v1.41/containers/abc/attach?stream=1'],
      ['POST', '/v1.41/images/create?fromImage=busybox'],
      ['POST', '/v1.41/build'],
      ['POST', '/v1.41/images/busybox/push'],
      ['POST', '/v1.41/exec/e1/start'],
      ['DELETE', '/v1.41/containers/abc/extra'],
      ['GET', '/v1.41/containers/create'],
    ]) expect(drainedOnStop(m, u), `${m} ${u}`).toBe(false);
  });
});

describe('InFlight', () => {
  it('settles when the tracked requests end, or after the bound with how many are left', async () => {
    const f = new InFlight();
    let end!: () => void;
    f.track(new Promise<void>((r) => (end = r)));
    f.track(new Promise<void>(() => {}));
    expect(f.size).toBe(2);
    setTimeout(end, 10);
    expect(await f.settle(100)).toBe(1);
    const g = new InFlight();
    g.track(new Promise<void>((r) => setTimeout(r, 10)));
    expect(await g.settle(5_000)).toBe(0);
  });
});
