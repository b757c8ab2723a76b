// What a stopping tsd waits for. SIGTERM closes the socket at once, but a request that
// changes a container, a network or a volume and is already under way (a create that has
// made half of its container, a start between its CNI ADD and its runtime start) is let
// finish, up to a bound, so that the client hears how it ended instead of a reset and the
// next start has nothing to undo. Reads and streams (logs -f, events, wait, attach, pull,
// build, push, save, load) end with the daemon, as they do with dockerd.
import { splitDockerUrl } from './router.js';

/** Changes that end in seconds and are worth finishing: Docker's paths (no /v1.xx prefix). */
const QUICK_CHANGES: Array<[string, RegExp]> = [
  ['POST', /^\/containers\/create$/],
  ['POST', /^\/containers\/[^/]+\/(start|stop|restart|kill|pause|unpause|rename|update)$/],
  ['DELETE', /^\/containers\/[^/]+$/],
  ['POST', /^\/(networks|volumes)\/create$/],
  ['POST', /^\/networks\/[^/]+\/(connect|disconnect)$/],
  ['DELETE', /^\/(networks|volumes)\/[^/]+$/],
  ['POST', /^\/containers\/[^/]+\/exec$/],
];

/** Whether a stopping tsd lets a request of `method` on `url` finish. */
export function drainedOnStop(method: string, url: string): boolean {
  const { path } = splitDockerUrl(url);
  return QUICK_CHANGES.some(([m, re]) => m === method && re.test(path));
}

/** The requests under way that a stop waits for. */
export class InFlight {
  private readonly pending = new Set<Promise<void>>();

  /** Counts `done` (the request's answer sent or its connection gone) while it is pending. */
  track(done: Promise<void>): void {
    this.pending.add(done);
    void done.finally(() => this.pending.delete(done));
  }

  get size(): number {
    return this.pending.size;
  }

  /** Resolves when every tracked request has ended, or after `ms`; how many were still under way. */
  async settle(ms: number): Promise<number> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.pending]),
      new Promise((r) => (timer = setTimeout(r, ms))),
    ]);
    clearTimeout(timer);
    return this.pending.size;
  }
}
