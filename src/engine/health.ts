// HEALTHCHECK as Docker runs it (moby daemon/health.go): while a container
// runs, its check is exec'd in it every Interval through the shim (as any
// docker exec), bounded by Timeout; the last 5 results are kept with their
// first 4096 bytes of output; Retries consecutive failures make it
// unhealthy, a success healthy; failures inside StartPeriod do not count
// while it is still starting. A change of status is a `health_status:
// <status>` event. The rules are pure functions (nextHealth); HealthMonitor
// holds one timer per running container and is stopped at its exit.

/** Docker's HealthConfig (durations in nanoseconds; 0 or absent: the default). */
export interface HealthConfig {
  Test?: string[] | null;
  Interval?: number | null;
  Timeout?: number | null;
  StartPeriod?: number | null;
  Retries?: number | null;
}

export interface HealthResult {
  Start: string;
  End: string;
  ExitCode: number;
  Output: string;
}

export interface HealthState {
  Status: 'starting' | 'healthy' | 'unhealthy';
  FailingStreak: number;
  Log: HealthResult[];
}

const NS_PER_MS = 1_000_000;
export const DEFAULT_INTERVAL_MS = 30_000;
export const DEFAULT_TIMEOUT_MS = 30_000;
export const DEFAULT_RETRIES = 3;
const MAX_LOG = 5;
export const MAX_OUTPUT = 4096;

/** What is wrong with an untrusted HealthConfig (an API body, a record), or undefined. */
export function healthConfigProblem(v: unknown): string | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'not an object';
  const h = v as Record<string, unknown>;
  if (h.Test !== undefined && h.Test !== null && !(Array.isArray(h.Test) && h.Test.every((x) => typeof x === 'string'))) return 'Test: want a list of strings';
  for (const k of ['Interval', 'Timeout', 'StartPeriod', 'Retries']) {
    const n = h[k];
    if (n !== undefined && n !== null && !(Number.isInteger(n) && (n as number) >= 0)) return `${k}: want a non-negative integer`;
  }
  // dockerd's checks (daemon/container.go validateHealthCheck), in its words.
  for (const k of ['Interval', 'Timeout', 'StartPeriod']) {
    const n = h[k] as number | undefined | null;
    if (n && n < NS_PER_MS) return `${k} in Healthcheck cannot be less than 1ms`;
  }
  return undefined;
}

/** The check a container runs: its own, else its image's; undefined for none or NONE. */
export function effectiveHealthcheck(own: HealthConfig | null | undefined, image: HealthConfig | null | undefined): HealthConfig | undefined {
  // The container's fields fill in from the image's where unset (Docker merges them the same way at create).
  const merged: HealthConfig = { ...(image ?? {}), ...Object.fromEntries(Object.entries(own ?? {}).filter(([, v]) => v !== null && v !== undefined && v !== 0 && !(Array.isArray(v) && !v.length))) };
  const test = merged.Test;
  if (!test?.length || test[0] === 'NONE') return undefined;
  return merged;
}

/** The argv a check runs: CMD's arguments, or CMD-SHELL's command under `shell` (Docker's default /bin/sh -c). */
export function checkArgv(test: string[], shell: string[] = ['/bin/sh', '-c']): string[] {
  if (test[0] === 'CMD') return test.slice(1);
  if (test[0] === 'CMD-SHELL') return [...shell, test.slice(1).join(' ')];
  // The API's other form: a bare string list is a shell command (docker-py sends "CMD-SHELL" itself).
  return [...shell, test.join(' ')];
}

export function timing(h: HealthConfig): { intervalMs: number; timeoutMs: number; startPeriodMs: number; retries: number } {
  return {
    intervalMs: h.Interval ? h.Interval / NS_PER_MS : DEFAULT_INTERVAL_MS,
    timeoutMs: h.Timeout ? h.Timeout / NS_PER_MS : DEFAULT_TIMEOUT_MS,
    startPeriodMs: h.StartPeriod ? h.StartPeriod / NS_PER_MS : 0,
    retries: h.Retries && h.Retries > 0 ? h.Retries : DEFAULT_RETRIES,
  };
}

/** The state after one result; `inStartPeriod`: the container started less than StartPeriod ago. */
export function nextHealth(s: HealthState, r: HealthResult, retries: number, inStartPeriod: boolean): HealthState {
  const Log = [...s.Log, r].slice(-MAX_LOG);
  if (r.ExitCode === 0) return { Status: 'healthy', FailingStreak: 0, Log };
  // A failure while starting inside the start period is recorded but not counted.
  if (inStartPeriod && s.Status === 'starting') return { ...s, Log };
  const FailingStreak = s.FailingStreak + 1;
  return { Status: FailingStreak >= retries ? 'unhealthy' : s.Status, FailingStreak, Log };
}

/** What a probe needs from the engine: run argv in the container, bounded; its exit code and output. */
export interface Prober {
  probe(containerId: string, argv: string[], timeoutMs: number): Promise<{ exitCode: number; output: string }>;
  /** Whether a probe may run now (running, not paused). */
  runnable(containerId: string): boolean;
  onStatus(containerId: string, status: HealthState['Status']): void;
}

interface Watch {
  timer?: NodeJS.Timeout;
  state: HealthState;
  startedAt: number;
  stopped: boolean;
}

export class HealthMonitor {
  private readonly watches = new Map<string, Watch>();

  constructor(private readonly prober: Prober) {}

  /** The container started with `check` (undefined: none; any earlier watch ends). */
  started(id: string, check: HealthConfig | undefined, shell?: string[]): void {
    this.stopped(id);
    if (!check) return;
    const t = timing(check);
    const argv = checkArgv(check.Test!, shell);
    const w: Watch = { state: { Status: 'starting', FailingStreak: 0, Log: [] }, startedAt: Date.now(), stopped: false };
    this.watches.set(id, w);
    const tick = async () => {
      if (w.stopped) return;
      if (this.prober.runnable(id)) {
        const start = new Date();
        const r = await this.prober.probe(id, argv, t.timeoutMs).catch((e: Error) => ({ exitCode: -1, output: e.message }));
        if (w.stopped) return;
        const before = w.state.Status;
        w.state = nextHealth(w.state, { Start: start.toISOString(), End: new Date().toISOString(), ExitCode: r.exitCode, Output: r.output.slice(0, MAX_OUTPUT) }, t.retries, Date.now() - w.startedAt < t.startPeriodMs);
        if (w.state.Status !== before) this.prober.onStatus(id, w.state.Status);
      }
      if (!w.stopped) w.timer = setTimeout(tick, t.intervalMs);
    };
    w.timer = setTimeout(tick, t.intervalMs);
  }

  /** Its exit or removal: no more probes; the last state stays for inspect until the next start. */
  stopped(id: string): void {
    const w = this.watches.get(id);
    if (!w) return;
    w.stopped = true;
    clearTimeout(w.timer);
  }

  forget(id: string): void {
    this.stopped(id);
    this.watches.delete(id);
  }

  state(id: string): HealthState | undefined {
    return this.watches.get(id)?.state;
  }

  close(): void {
    for (const id of this.watches.keys()) this.stopped(id);
  }
}
