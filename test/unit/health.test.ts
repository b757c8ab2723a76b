// HEALTHCHECK's rules as data (src/engine/health.ts): which check runs, its argv, the defaults, and each result's effect.
import { describe, expect, it } from 'vitest';
import { checkArgv, effectiveHealthcheck, healthConfigProblem, nextHealth, timing, type HealthState } from '../../src/engine/health.js';

const r = (code: number) => ({ Start: 's', End: 'e', ExitCode: code, Output: `out ${code}` });
const starting: HealthState = { Status: 'starting', FailingStreak: 0, Log: [] };

describe('health', () => {
  it('the container\'s check over the image\'s, field by field; NONE or no test: none', () => {
    const image = { Test: ['CMD-SHELL', 'true'], Interval: 5e9, Retries: 5 };
    expect(effectiveHealthcheck(undefined, image)).toEqual(image);
    expect(effectiveHealthcheck({ Interval: 1e9 }, image)).toEqual({ ...image, Interval: 1e9 });
    expect(effectiveHealthcheck({ Test: ['CMD', 'x'], Interval: 0, Retries: null }, image)).toEqual({ ...image, Test: ['CMD', 'x'] });
    expect(effectiveHealthcheck({ Test: ['NONE'] }, image)).toBeUndefined();
    expect(effectiveHealthcheck(undefined, undefined)).toBeUndefined();
  });

  it('CMD runs its arguments, CMD-SHELL its command under the shell', () => {
    expect(checkArgv(['CMD', 'wget', '-q', 'http://x/'])).toEqual(['wget', '-q', 'http://x/']);
    expect(checkArgv(['CMD-SHELL', 'test -e /ok || exit 1'])).toEqual(['/bin/sh', '-c', 'test -e /ok || exit 1']);
  });

  it('Docker\'s defaults: 30 s interval and timeout, 3 retries, no start period', () => {
    expect(timing({ Test: ['CMD', 'x'] })).toEqual({ intervalMs: 30_000, timeoutMs: 30_000, startPeriodMs: 0, retries: 3 });
    expect(timing({ Interval: 2e8, Timeout: 1e9, StartPeriod: 3e9, Retries: 1 })).toEqual({ intervalMs: 200, timeoutMs: 1000, startPeriodMs: 3000, retries: 1 });
  });

  it('a success is healthy; Retries failures in a row unhealthy; failures while starting in the start period do not count; the log keeps the last 5', () => {
    expect(nextHealth(starting, r(0), 3, false)).toMatchObject({ Status: 'healthy', FailingStreak: 0 });
    let s = nextHealth(starting, r(1), 2, false);
    expect(s).toMatchObject({ Status: 'starting', FailingStreak: 1 });
    s = nextHealth(s, r(1), 2, false);
    expect(s).toMatchObject({ Status: 'unhealthy', FailingStreak: 2 });
    expect(nextHealth(s, r(0), 2, false)).toMatchObject({ Status: 'healthy', FailingStreak: 0 });
    expect(nextHealth(starting, r(1), 1, true)).toMatchObject({ Status: 'starting', FailingStreak: 0 });
    const healthy = nextHealth(starting, r(0), 1, true);
    expect(nextHealth(healthy, r(1), 1, true)).toMatchObject({ Status: 'unhealthy', FailingStreak: 1 });
    let many = starting;
    for (let i = 0; i < 7; i++) many = nextHealth(many, r(i === 6 ? 0 : 1), 100, false);
    expect(many.Log.map((l) => l.ExitCode)).toEqual([1, 1, 1, 1, 0]);
  });

  it('untrusted configs: wrong types and dockerd\'s sub-millisecond refusal named', () => {
    expect(healthConfigProblem({ Test: ['CMD', 'x'], Interval: 1e9 })).toBeUndefined();
    expect(healthConfigProblem({ Test: 'CMD x' })).toBe('Test: want a list of strings');
    expect(healthConfigProblem({ Retries: -1 })).toBe('Retries: want a non-negative integer');
    expect(healthConfigProblem({ Interval: 500 })).toBe('Interval in Healthcheck cannot be less than 1ms');
    expect(healthConfigProblem([])).toBe('not an object');
  });
});
