// The OCI runtime the engine's containers run with: any runc-compatible binary
// (tsrun by default), always a separate process. The engine never loads
// src/runtime: what it knows of a container's life is what the binary answers.
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../common/argv.js';
import { RuntimeError } from '../common/errors.js';

/** bin/tsrun of the checkout this module belongs to. */
export const defaultRuntimeBinary = () => join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'tsrun');

export class OciRuntime {
  /** `binary`: the runtime's path; `root`: its --root (where it keeps container state). */
  constructor(readonly binary: string, readonly root: string) {}

  /**
   * `<binary> --root <root> ARGS...`; its exit code (128+n for a signal).
   * With 'inherit' the runtime owns this process's terminal and signals reach it directly.
   */
  call(args: string[], stdio: 'inherit' | 'ignore'): Promise<number> {
    const child = spawn(this.binary, ['--root', this.root, ...args], { stdio });
    return new Promise((resolve, reject) => {
      child.on('error', (e) => reject(new UsageError(`cannot run the runtime ${this.binary}: ${e.message}`)));
      child.on('exit', (code, signal) => resolve(code ?? 128 + (signal ? constants.signals[signal] : 0)));
    });
  }

  /**
   * `<binary> --root <root> ARGS...` with stdout and stderr to `output` as they come; its exit
   * code. `signal` kills it (a cancelled build step: the caller deletes what it left).
   */
  captured(args: string[], output: (data: Buffer) => void, signal?: AbortSignal): Promise<number> {
    const child = spawn(this.binary, ['--root', this.root, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', output);
    child.stderr.on('data', output);
    const kill = () => child.kill('SIGKILL');
    signal?.addEventListener('abort', kill, { once: true });
    return new Promise<number>((resolve, reject) => {
      child.on('error', (e) => reject(new UsageError(`cannot run the runtime ${this.binary}: ${e.message}`)));
      child.on('close', (code, sig) => resolve(code ?? 128 + (sig ? constants.signals[sig] : 0)));
    }).finally(() => signal?.removeEventListener('abort', kill));
  }

  /** The runtime's status of `id` (created, running, ...), or undefined when it has no such container. */
  async status(id: string): Promise<string | undefined> {
    return (await this.state(id)).status;
  }

  /**
   * `state id`: the status the runtime answered, or none with `answer` saying why (its
   * message, or what it printed), for records that say what the runtime was asked and said.
   */
  state(id: string): Promise<{ status?: string; answer: string }> {
    return new Promise((resolve) => {
      const child = spawn(this.binary, ['--root', this.root, 'state', id], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (err += d));
      child.on('error', (e) => resolve({ answer: `${this.binary} state could not run: ${e.message}` }));
      // 'close', not 'exit': exit can be seen before the last of stdout is read, and a state
      // document cut short would read as "no such container".
      child.on('close', (code, signal) => {
        const said = err.trim().split('\n').pop() || out.trim().slice(0, 200);
        if (code !== 0) return resolve({ answer: `${this.binary} state exited with ${code ?? signal}${said ? `: ${said}` : ''}` });
        try {
          const status = (JSON.parse(out) as { status?: unknown }).status;
          if (typeof status === 'string') return resolve({ status, answer: `${this.binary} state said "${status}"` });
        } catch { /* said below */ }
        resolve({ answer: `${this.binary} state printed no state document: ${JSON.stringify(out.slice(0, 200))}` });
      });
    });
  }

  /** Stops and deletes whatever the runtime still has of `id` (succeeds for an id it does not know). */
  async forceDelete(id: string): Promise<void> {
    // A binary that cannot be run holds no container of ours: nothing to delete, and the
    // caller goes on to remove the rootfs (a failed create must leave nothing behind).
    await this.call(['delete', '--force', id], 'ignore').catch(() => {});
  }

  /** `<binary> --root <root> ARGS...` with its output captured; a failure is an error with its message. */
  output(step: string, args: string[]): Promise<string> {
    const child = spawn(this.binary, ['--root', this.root, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    return new Promise((resolve, reject) => {
      child.on('error', (e) => reject(RuntimeError.fromSystem(step, e, { kind: 'system', path: this.binary })));
      child.on('close', (code) => {
        if (code === 0) return resolve(out);
        reject(new RuntimeError({ step, path: args[args.length - 1], detail: err.trim().split('\n').pop() || `${this.binary} ${args[0]} exited with status ${code}` }));
      });
    });
  }

  /** Freezes every process of `id` (the runtime's pause). */
  async pause(id: string): Promise<void> {
    await this.output('pause the container', ['pause', id]);
  }

  async resume(id: string): Promise<void> {
    await this.output('unpause the container', ['resume', id]);
  }

  /** The host pids of `id`'s processes (`ps --format json`). */
  async pids(id: string): Promise<number[]> {
    const out = await this.output('list the container\'s processes', ['ps', '--format', 'json', id]);
    const v = JSON.parse(out || '[]') as unknown;
    if (!Array.isArray(v) || !v.every((p) => Number.isInteger(p))) throw new RuntimeError({ step: 'list the container\'s processes', path: id, detail: `the runtime answered ${JSON.stringify(out.slice(0, 200))}` });
    return v as number[];
  }

  /**
   * `events --stats <id>`: one stats document, the `data` of runc's event
   * (types.Stats: cpu, memory, pids, blkio; tsrun prints the same shape). Returned
   * unread: stats.ts takes out the numbers it knows and checks each one.
   */
  async stats(id: string): Promise<unknown> {
    const step = 'read the container\'s stats';
    const out = await this.output(step, ['events', '--stats', id]);
    try {
      const event = JSON.parse(out) as { type?: unknown; data?: unknown } | null;
      if (event && event.type === 'stats' && typeof event.data === 'object' && event.data !== null) return event.data;
    } catch { /* reported below */ }
    throw new RuntimeError({ step, path: id, detail: `the runtime answered ${JSON.stringify(out.slice(0, 200))}` });
  }
}
