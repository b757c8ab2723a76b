// The engine's side of tsrun-shim (docs/shim.md): starting one per container
// and speaking its control socket. Everything is async: the socket is watched
// on the event loop (the addon's seqpacket watch), the shim is an ordinary
// child process until it has daemonized.
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RuntimeError } from '../common/errors.js';
import { decodeFields, encodeMessage, type RecordArg } from '../common/messageCodec.js';
import { SHIM } from '../common/generated/shimProtocol.js';
import { addon } from '../native/addon.js';

/** build/Release/tsrun-shim of the checkout this module belongs to. */
export const defaultShimBinary = () => join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'build', 'Release', 'tsrun-shim');

export interface ShimOptions {
  binary: string;
  id: string;
  bundle: string;
  runtime: string;
  runtimeRoot: string;
  /** The shim's own directory, made by the caller (mode 0700). */
  dir: string;
  tty: boolean;
  stdin: boolean;
  logMaxSize?: number;
  logMaxFile?: number;
  /** Seconds each runtime call may take (the shim's --runtime-timeout); default 60. */
  runtimeTimeout?: number;
}

/** The limit of one runtime call (create, start, kill, exec, delete) in the shim, unless tsd's --runtime-timeout says otherwise. */
export const DEFAULT_RUNTIME_TIMEOUT_S = 60;

export interface ExitRecord {
  code: number;
  /** RFC 3339 with nanoseconds. */
  time: string;
  oom: boolean;
}

/**
 * Starts a shim, which creates the container; resolves to the init's pid once
 * the first process reported `OK <pid>` and exited, or fails with the
 * runtime's message (the shim left nothing running then).
 */
export function startShim(o: ShimOptions): Promise<number> {
  const args = ['--id', o.id, '--bundle', o.bundle, '--runtime', o.runtime, '--runtime-root', o.runtimeRoot, '--dir', o.dir];
  if (o.tty) args.push('--tty');
  if (o.stdin) args.push('--stdin');
  if (o.logMaxSize !== undefined) args.push('--log-max-size', String(o.logMaxSize));
  if (o.logMaxFile !== undefined) args.push('--log-max-file', String(o.logMaxFile));
  args.push('--runtime-timeout', String(o.runtimeTimeout ?? DEFAULT_RUNTIME_TIMEOUT_S));
  const child = spawn(o.binary, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  return new Promise((resolve, reject) => {
    child.on('error', (e) => reject(RuntimeError.fromSystem('start the shim', e, { kind: 'system', path: o.binary })));
    child.on('close', (code) => {
      const m = /^OK (\d+)\n?$/.exec(out);
      if (code === 0 && m) return resolve(Number(m[1]));
      const detail = err.trim().split('\n').pop() || `the shim exited with status ${code}${out ? `: ${out.trim()}` : ''}`;
      // A command that is no executable is the caller's mistake (dockerd answers it with 400 too).
      const kind = /find the executable/.test(detail) ? 'invalid-argument' as const : undefined;
      reject(new RuntimeError({ kind, step: 'create the container', path: o.id, detail }));
    });
  });
}

/** An ERR record (step syscall errno path pointer detail) as the error it describes. */
function errorFromRecord(fields: string[]): RuntimeError {
  const [step, syscall, errno, path, pointer, detail] = fields;
  return new RuntimeError({ step: step || 'shim request', syscall: syscall || undefined, errno: errno || undefined, path: path || undefined, pointer: pointer || undefined, detail: detail || undefined });
}

/** One connection to a shim's control socket. Requests on it are answered in order. */
export class ShimConnection {
  private readonly fd: number;
  private readonly closeWatch: () => void;
  private readonly queue: (Buffer[] | null)[] = [];
  private readonly waiters: ((m: Buffer[] | null) => void)[] = [];
  private ended = false;
  private streamHandler?: (m: Buffer[] | null) => void;

  private constructor(readonly dir: string) {
    const path = join(dir, 'shim.sock');
    try {
      this.fd = addon().seqpacketConnect(path);
    } catch (e) {
      throw RuntimeError.fromSystem('connect to the shim', e, { kind: 'unavailable', path });
    }
    this.closeWatch = addon().seqpacketWatch(this.fd, (msg) => this.deliver(msg));
  }

  static open(dir: string): ShimConnection {
    return new ShimConnection(dir);
  }

  private deliver(msg: Buffer | null): void {
    let fields: Buffer[] | null = null;
    if (msg) {
      try {
        fields = decodeFields(msg);
      } catch {
        fields = null; // a malformed message ends the conversation
      }
    }
    if (!fields) this.ended = true;
    if (this.streamHandler) return this.streamHandler(fields);
    const w = this.waiters.shift();
    if (w) w(fields);
    else this.queue.push(fields);
    if (!fields) for (const rest of this.waiters.splice(0)) rest(null);
  }

  private next(): Promise<Buffer[] | null> {
    if (this.queue.length) return Promise.resolve(this.queue.shift()!);
    if (this.ended) return Promise.resolve(null);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Sends one record; a full socket buffer is retried on a timer (the shim reads as it can). */
  async send(args: RecordArg[]): Promise<void> {
    const msg = encodeMessage(args);
    for (let delay = 1; ; delay = Math.min(delay * 2, 50)) {
      try {
        if (addon().seqpacketSend(this.fd, msg)) return;
      } catch (e) {
        throw RuntimeError.fromSystem('send to the shim', e, { kind: 'unavailable', path: this.dir });
      }
      await new Promise((r) => setTimeout(r, delay));
    }
  }

  /** A request answered by OK (its values) or ERR (thrown). */
  async request(args: string[]): Promise<string[]> {
    await this.send(args);
    const answer = await this.next();
    if (!answer) throw new RuntimeError({ kind: 'unavailable', step: `shim ${args[0]}`, path: this.dir, detail: 'the shim closed the connection' });
    const [name, ...rest] = answer.map((b) => b.toString('utf8'));
    if (name === SHIM.OK) return rest;
    if (name === SHIM.ERR) throw errorFromRecord(rest);
    throw new RuntimeError({ step: `shim ${args[0]}`, path: this.dir, detail: `unexpected answer ${JSON.stringify(name)}` });
  }

  /** WAIT: resolves when that process has exited. */
  async wait(execId = ''): Promise<ExitRecord> {
    await this.send([SHIM.WAIT, execId]);
    const answer = await this.next();
    if (!answer) throw new RuntimeError({ kind: 'unavailable', step: 'wait for the container', path: this.dir, detail: 'the shim closed the connection' });
    const [name, ...rest] = answer.map((b) => b.toString('utf8'));
    if (name === SHIM.ERR) throw errorFromRecord(rest);
    if (name !== SHIM.EXIT) throw new RuntimeError({ step: 'wait for the container', path: this.dir, detail: `unexpected answer ${JSON.stringify(name)}` });
    return { code: Number(rest[0]), time: rest[1], oom: rest[2] === '1' };
  }

  /**
   * ATTACH: the connection becomes a stream. `onOutput` gets each OUT record,
   * `onEnd` once, with the exit code when the shim sent EXIT, or null when the
   * connection ended without one.
   */
  async attach(execId: string, stdin: boolean, onOutput: (stream: 1 | 2, data: Buffer) => void, onEnd: (code: number | null) => void): Promise<void> {
    let done = false;
    const finish = (code: number | null) => {
      if (done) return;
      done = true;
      this.close();
      onEnd(code);
    };
    this.streamHandler = (fields) => {
      if (!fields) return finish(null);
      const name = fields[0].toString('utf8');
      if (name === SHIM.OUT) onOutput(fields[1].toString('utf8') === '2' ? 2 : 1, fields[2]);
      else if (name === SHIM.EXIT) finish(Number(fields[1].toString('utf8')));
      else if (name === SHIM.ERR) finish(null);
    };
    await this.send([SHIM.ATTACH, execId, stdin ? '1' : '0']);
  }

  /** Closes the connection (a no-op after EOF, where the watch closed it). */
  close(): void {
    this.ended = true;
    this.closeWatch();
  }
}

/** One request on a connection of its own. */
export async function shimRequest(dir: string, args: string[]): Promise<string[]> {
  const c = ShimConnection.open(dir);
  try {
    return await c.request(args);
  } finally {
    c.close();
  }
}

/** The shim's exit record of the container (DIR/exit), or undefined when it has none. */
export async function readExitRecord(dir: string): Promise<ExitRecord | undefined> {
  let text: string;
  try {
    text = await readFile(join(dir, 'exit'), 'utf8');
  } catch {
    return undefined;
  }
  try {
    const v = JSON.parse(text) as Partial<ExitRecord>;
    if (typeof v.code !== 'number' || typeof v.time !== 'string' || typeof v.oom !== 'boolean') return undefined;
    return { code: v.code, time: v.time, oom: v.oom };
  } catch {
    return undefined;
  }
}
