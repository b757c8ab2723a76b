import { describe, expect, it } from 'vitest';
import { nextBackoff, parseRestartPolicy, restartsAtDaemonStart, shouldRestart } from '../../src/engine/restartPolicy.js';

describe('restart policies', () => {
  const exit = (exitCode: number, restartCount = 0, manuallyStopped = false) => ({ exitCode, restartCount, manuallyStopped });

  it('no never, always and unless-stopped always, on-failure on a failure up to the count', () => {
    expect(shouldRestart({ Name: 'no', MaximumRetryCount: 0 }, exit(1))).toBe(false);
    expect(shouldRestart({ Name: 'always', MaximumRetryCount: 0 }, exit(0))).toBe(true);
    expect(shouldRestart({ Name: 'unless-stopped', MaximumRetryCount: 0 }, exit(0))).toBe(true);
    const onFailure2 = { Name: 'on-failure', MaximumRetryCount: 2 } as const;
    expect(shouldRestart(onFailure2, exit(0))).toBe(false);
    expect(shouldRestart(onFailure2, exit(1, 0))).toBe(true);
    expect(shouldRestart(onFailure2, exit(1, 1))).toBe(true);
    expect(shouldRestart(onFailure2, exit(1, 2))).toBe(false);
    expect(shouldRestart({ Name: 'on-failure', MaximumRetryCount: 0 }, exit(1, 1000))).toBe(true);
  });

  it('a container the user stopped is not restarted by any policy', () => {
    for (const Name of ['always', 'unless-stopped', 'on-failure'] as const) expect(shouldRestart({ Name, MaximumRetryCount: 0 }, exit(1, 0, true))).toBe(false);
  });

  it('at daemon start: always comes back, unless-stopped only when not stopped by the user', () => {
    expect(restartsAtDaemonStart({ Name: 'always', MaximumRetryCount: 0 }, true, true)).toBe(true);
    expect(restartsAtDaemonStart({ Name: 'unless-stopped', MaximumRetryCount: 0 }, true, true)).toBe(false);
    expect(restartsAtDaemonStart({ Name: 'unless-stopped', MaximumRetryCount: 0 }, false, true)).toBe(true);
    expect(restartsAtDaemonStart({ Name: 'always', MaximumRetryCount: 0 }, false, false)).toBe(false);
    expect(restartsAtDaemonStart({ Name: 'on-failure', MaximumRetryCount: 0 }, false, true)).toBe(false);
  });

  it('backoff: 100 ms, doubling to a minute, reset after a 10 s run', () => {
    expect(nextBackoff(0, 5)).toBe(100);
    expect(nextBackoff(100, 5)).toBe(200);
    expect(nextBackoff(200, 5)).toBe(400);
    expect(nextBackoff(40_000, 5)).toBe(60_000);
    expect(nextBackoff(60_000, 5)).toBe(60_000);
    expect(nextBackoff(6400, 10_000)).toBe(100);
  });

  it('parses HostConfig.RestartPolicy as Docker does', () => {
    expect(parseRestartPolicy(undefined)).toEqual({ Name: 'no', MaximumRetryCount: 0 });
    expect(parseRestartPolicy({ Name: '', MaximumRetryCount: 0 })).toEqual({ Name: 'no', MaximumRetryCount: 0 });
    expect(parseRestartPolicy({ Name: 'on-failure', MaximumRetryCount: 3 })).toEqual({ Name: 'on-failure', MaximumRetryCount: 3 });
    expect(parseRestartPolicy({ Name: 'sometimes' })).toMatch(/invalid restart policy 'sometimes'/);
    expect(parseRestartPolicy({ Name: 'always', MaximumRetryCount: 2 })).toMatch(/cannot be used with restart policy 'always'/);
    expect(parseRestartPolicy({ Name: 'on-failure', MaximumRetryCount: -1 })).toMatch(/negative/);
    expect(parseRestartPolicy({ Name: 3 })).toMatch(/Name: want a string/);
  });
});
