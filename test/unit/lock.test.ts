// The flock helpers: a held lock makes tryLock answer at once and lock wait
// on timers (the event loop keeps running), within one process as across two.
import { closeSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { lock, lockFileSync, tryLock, withLockAsync } from '../../src/common/lock.js';

let dir: string;
beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'lock-')); });
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('common/lock', () => {
  it('tryLock refuses a conflicting mode and shares a shared one', () => {
    const path = join(dir, 'gc.lock');
    const held = lockFileSync(path, false, 'test');
    const shared = tryLock(path, false, 'test');
    expect(shared).toBeTypeOf('number');
    expect(tryLock(path, true, 'test')).toBeUndefined();
    closeSync(held);
    closeSync(shared!);
    const exclusive = tryLock(path, true, 'test');
    expect(exclusive).toBeTypeOf('number');
    closeSync(exclusive!);
  });

  it('lock waits for the holder without blocking the event loop', async () => {
    const path = join(dir, 'x.lock');
    const held = lockFileSync(path, true, 'test');
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 1);
    setTimeout(() => closeSync(held), 30);
    const fd = await lock(path, true, 'test');
    clearInterval(ticker);
    expect(ticks).toBeGreaterThan(3);
    closeSync(fd);
  });

  it('withLockAsync runs one holder at a time, even with async bodies', async () => {
    const order: string[] = [];
    const body = (name: string) => async () => {
      order.push(`${name} in`);
      await new Promise((r) => setTimeout(r, 10));
      order.push(`${name} out`);
    };
    await Promise.all([withLockAsync(dir, body('a')), withLockAsync(dir, body('b'))]);
    expect(order).toEqual(['a in', 'a out', 'b in', 'b out']);
  });

  it('names the step and the path when the lock file cannot be opened', () => {
    expect(() => tryLock(join(dir, 'missing', 'x.lock'), true, 'lock the thing')).toThrow(/lock the thing.*ENOENT/);
  });
});
