import { describe, expect, it } from 'vitest';
import { policies, waitUntil, waitUntilSync } from '../../src/common/wait.js';

/** A check that passes on its `passOn`-th call (never when undefined), counting its calls. */
function counter(passOn?: number) {
  const c = { calls: 0, check: () => ++c.calls === passOn };
  return c;
}

describe('waitUntilSync', () => {
  it('checks once without pausing when the condition already holds', () => {
    const c = counter(1);
    const retries: number[] = [];
    expect(waitUntilSync(c.check, { attempts: 5, intervalMs: 1000 }, (a) => retries.push(a))).toBe(true);
    expect(c.calls).toBe(1);
    expect(retries).toEqual([]);
  });

  it('runs the check at most `attempts` times, calling onRetry before each pause', () => {
    const c = counter();
    const retries: number[] = [];
    expect(waitUntilSync(c.check, { attempts: 4, intervalMs: 1 }, (a) => retries.push(a))).toBe(false);
    expect(c.calls).toBe(4);
    expect(retries).toEqual([0, 1, 2]);
  });

  it('stops as soon as the check passes', () => {
    const c = counter(3);
    expect(waitUntilSync(c.check, { attempts: 10, intervalMs: 1 })).toBe(true);
    expect(c.calls).toBe(3);
  });

  it('gives up at the timeout, however many attempts are left', () => {
    const c = counter();
    const started = Date.now();
    expect(waitUntilSync(c.check, { intervalMs: 5, timeoutMs: 40 })).toBe(false);
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(38);
    expect(took).toBeLessThan(1000);
    expect(c.calls).toBeGreaterThan(2);
  });

  it('grows the pauses by the backoff, up to the longest', () => {
    const c = counter();
    const started = Date.now();
    // 10 + 20 + 40 + 40 ms of pauses.
    expect(waitUntilSync(c.check, { attempts: 5, intervalMs: 10, backoff: 2, maxIntervalMs: 40 })).toBe(false);
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(105);
    expect(took).toBeLessThan(1000);
  });

  it('lets an exception of the check through', () => {
    expect(() => waitUntilSync(() => { throw new Error('init gone'); }, policies.execFifo)).toThrow('init gone');
  });
});

describe('waitUntil (async)', () => {
  it('keeps the event loop running between checks', async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    const c = counter(6);
    try {
      expect(await waitUntil(c.check, { attempts: 10, intervalMs: 5 })).toBe(true);
    } finally {
      clearInterval(timer);
    }
    expect(c.calls).toBe(6);
    expect(ticks).toBeGreaterThan(0);
  });

  it('accepts an async check and reports a policy that ran out', async () => {
    let calls = 0;
    const retries: number[] = [];
    expect(await waitUntil(async () => (++calls, false), { attempts: 3, intervalMs: 1 }, (a) => retries.push(a))).toBe(false);
    expect(calls).toBe(3);
    expect(retries).toEqual([0, 1]);
  });
});

describe('policies', () => {
  it('grant the totals the runtime always had', () => {
    const total = (p: { attempts?: number; intervalMs: number }) => ((p.attempts ?? Infinity) - 1) * p.intervalMs;
    expect(total(policies.cgroupEmpty)).toBe(5000);
    expect(total(policies.failedCreateEmpty)).toBe(1000);
    expect(total(policies.cgroupRemove)).toBe(2000);
    expect(total(policies.frozen)).toBe(1000);
    expect(total(policies.execFifo)).toBe(Infinity);
  });
});
