// Waiting for a condition, with the retry policy written down as data. The
// short-lived CLI owns its process and may block in a sleep (waitUntilSync);
// a long-running caller must not block its event loop (waitUntil, timers only).

export interface RetryPolicy {
  /** How many times `check` runs at most (the first one included); unbounded when absent. */
  attempts?: number;
  /** The pause before the second check. */
  intervalMs: number;
  /** Each pause is the previous one times this (1 when absent: fixed pauses). */
  backoff?: number;
  /** The longest pause backoff may grow to. */
  maxIntervalMs?: number;
  /** Gives up once this long has passed since the first check; unbounded when absent. */
  timeoutMs?: number;
}

/**
 * The waits of the runtime, each with the total it grants. They count
 * attempts rather than watch a clock; the front binary (addon/fast) counts the
 * same for the rmdir and the exec.fifo read, so both give up at the same point.
 */
export const policies = {
  /** delete: the container's processes gone from its cgroup and the init exited, 5 s. */
  cgroupEmpty: { attempts: 501, intervalMs: 10 },
  /** A failed create: what it started gone from the cgroup it made, 1 s. */
  failedCreateEmpty: { attempts: 101, intervalMs: 10 },
  /** rmdir of a container's own cgroup while its last processes exit (EBUSY), 2 s. */
  cgroupRemove: { attempts: 201, intervalMs: 10 },
  /** pause: the v1 freezer through FREEZING to FROZEN, 1 s (pause reports done either way). */
  frozen: { attempts: 501, intervalMs: 2 },
  /** start: exec.fifo until the init's execve closes it; ends with the init (the check throws). */
  execFifo: { intervalMs: 1 },
} as const satisfies Record<string, RetryPolicy>;

/** Called before each pause with the number of checks done so far minus one (0 before the first pause). */
export type OnRetry = (attempt: number) => void;

/** The pauses a policy grants, in order, for as long as attempts and the timeout allow. */
function* pauses(policy: RetryPolicy, started: number): Generator<number> {
  let interval = policy.intervalMs;
  for (let attempt = 1; policy.attempts === undefined || attempt < policy.attempts; attempt++) {
    if (policy.timeoutMs !== undefined) {
      const left = started + policy.timeoutMs - Date.now();
      if (left <= 0) return;
      yield Math.min(interval, left);
    } else yield interval;
    interval = Math.min(interval * (policy.backoff ?? 1), policy.maxIntervalMs ?? Infinity);
  }
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Blocks this thread between checks: for the short-lived CLI only. True once `check` passed, false when the policy ran out. */
export function waitUntilSync(check: () => boolean, policy: RetryPolicy, onRetry?: OnRetry): boolean {
  const started = Date.now();
  if (check()) return true;
  let attempt = 0;
  for (const pause of pauses(policy, started)) {
    onRetry?.(attempt++);
    sleepSync(pause);
    if (check()) return true;
  }
  return false;
}

/** Between checks the event loop runs (setTimeout). True once `check` passed, false when the policy ran out. */
export async function waitUntil(check: () => boolean | Promise<boolean>, policy: RetryPolicy, onRetry?: OnRetry): Promise<boolean> {
  const started = Date.now();
  if (await check()) return true;
  let attempt = 0;
  for (const pause of pauses(policy, started)) {
    onRetry?.(attempt++);
    await new Promise((done) => setTimeout(done, pause));
    if (await check()) return true;
  }
  return false;
}
