// Docker's restart policies as data: whether an exit is followed by a start,
// and how long to wait first (moby's restartmanager: 100 ms, doubled at each
// restart up to a minute, back to 100 ms once a run lasted 10 s). Pure, so it
// is unit-tested; Containers keeps the timer and the count.

export type RestartPolicyName = 'no' | 'always' | 'unless-stopped' | 'on-failure';

export interface RestartPolicy {
  Name: RestartPolicyName;
  /** on-failure only: at most this many restarts (0: no limit). */
  MaximumRetryCount: number;
}

export const NO_RESTART: RestartPolicy = { Name: 'no', MaximumRetryCount: 0 };

export const BACKOFF_START_MS = 100;
export const BACKOFF_MAX_MS = 60_000;
/** A run at least this long resets the backoff. */
export const BACKOFF_RESET_AFTER_MS = 10_000;

export interface ExitFacts {
  exitCode: number;
  /** Restarts so far (the record's RestartCount). */
  restartCount: number;
  /** docker stop/kill: no policy restarts the container until a start. */
  manuallyStopped: boolean;
}

/** Whether `policy` restarts a container after this exit. */
export function shouldRestart(policy: RestartPolicy, f: ExitFacts): boolean {
  if (f.manuallyStopped) return false;
  switch (policy.Name) {
    case 'always':
    case 'unless-stopped':
      return true;
    case 'on-failure':
      return f.exitCode !== 0 && (policy.MaximumRetryCount === 0 || f.restartCount < policy.MaximumRetryCount);
    default:
      return false;
  }
}

/** The wait before the next restart, given the previous one (0 for none yet) and how long the run lasted. */
export function nextBackoff(previousMs: number, ranMs: number): number {
  if (ranMs >= BACKOFF_RESET_AFTER_MS || previousMs === 0) return BACKOFF_START_MS;
  return Math.min(previousMs * 2, BACKOFF_MAX_MS);
}

/** Whether a container found stopped when the daemon starts is started again (Docker: always, and unless-stopped unless it was stopped by the user). */
export function restartsAtDaemonStart(policy: RestartPolicy, manuallyStopped: boolean, everStarted: boolean): boolean {
  if (!everStarted) return false;
  return policy.Name === 'always' || (policy.Name === 'unless-stopped' && !manuallyStopped);
}

/**
 * HostConfig.RestartPolicy from a request, or a message naming what is wrong
 * (Docker's own words where it has them). A missing or empty name is `no`.
 */
export function parseRestartPolicy(v: unknown): RestartPolicy | string {
  if (v === undefined || v === null) return NO_RESTART;
  if (typeof v !== 'object' || Array.isArray(v)) return 'HostConfig.RestartPolicy: want an object {Name, MaximumRetryCount}';
  const o = v as Record<string, unknown>;
  const name = o.Name ?? '';
  if (typeof name !== 'string') return 'HostConfig.RestartPolicy.Name: want a string';
  const count = o.MaximumRetryCount ?? 0;
  if (typeof count !== 'number' || !Number.isInteger(count)) return 'HostConfig.RestartPolicy.MaximumRetryCount: want an integer';
  if (count < 0) return 'HostConfig.RestartPolicy.MaximumRetryCount: maximum retry count cannot be negative';
  const n = name === '' ? 'no' : name;
  if (!['no', 'always', 'unless-stopped', 'on-failure'].includes(n)) return `HostConfig.RestartPolicy.Name: invalid restart policy '${name}' (want no, always, unless-stopped or on-failure)`;
  if (n !== 'on-failure' && count !== 0) return `HostConfig.RestartPolicy.MaximumRetryCount: maximum retry count cannot be used with restart policy '${n}'`;
  return { Name: n as RestartPolicyName, MaximumRetryCount: count };
}
