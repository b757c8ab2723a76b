// Events as `docker events` shows them, kept in memory (the newest few
// thousand) and fanned out to listeners as they happen. With `persist` each
// event is also appended as a JSON line to a file (in batches: the events of
// one turn of the event loop in one write, then fdatasync), and the tail of
// that file is loaded back at start, so `--since` reaches across a restart.
// The file is bounded: past MAX_BYTES it becomes <file>.1 (one generation kept).
import { EventEmitter } from 'node:events';
import { open, readFile, rename, type FileHandle } from 'node:fs/promises';

export interface EngineEvent {
  Type: 'container' | 'image' | 'volume' | 'network';
  /** create, start, die, kill, stop, destroy, pull, tag, untag, delete. */
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  scope: 'local';
  time: number;
  timeNano: number;
}

const KEPT = 4096;
/** The log's size at which it is rotated. */
export const MAX_BYTES = 4 * 1024 * 1024;

/** A line of the log read back untrusted: an event, or undefined (a torn last line, another shape). */
function parseLine(line: string): EngineEvent | undefined {
  try {
    const e = JSON.parse(line) as Partial<EngineEvent>;
    if (typeof e.Type !== 'string' || typeof e.Action !== 'string' || typeof e.timeNano !== 'number' || typeof e.time !== 'number') return undefined;
    if (!e.Actor || typeof e.Actor.ID !== 'string' || !e.Actor.Attributes || typeof e.Actor.Attributes !== 'object') return undefined;
    return e as EngineEvent;
  } catch {
    return undefined;
  }
}

export class EventLog {
  private readonly events: EngineEvent[] = [];
  private readonly emitter = new EventEmitter();
  private file?: { path: string; handle: FileHandle; size: number; maxBytes: number };
  private pending: string[] = [];
  private flushing?: Promise<void>;
  private onError: (e: Error) => void = () => {};

  constructor() {
    this.emitter.setMaxListeners(0);
  }

  /**
   * Loads the newest events of `path` (and its rotated predecessor), then
   * appends every event to it. Called once, before anything is emitted.
   */
  async persist(path: string, onError: (e: Error) => void, maxBytes = MAX_BYTES): Promise<void> {
    this.onError = onError;
    const read = (p: string) => readFile(p, 'utf8').catch(() => '');
    const [old, current] = await Promise.all([read(`${path}.1`), read(path)]);
    const loaded = `${old}${old && !old.endsWith('\n') ? '\n' : ''}${current}`.split('\n').slice(-KEPT - 1).map(parseLine).filter((e): e is EngineEvent => !!e);
    this.events.unshift(...loaded.slice(-KEPT));
    const handle = await open(path, 'a', 0o600);
    this.file = { path, handle, size: Buffer.byteLength(current), maxBytes };
    // A line torn by a crash is ended, so the next event is a line of its own.
    if (current && !current.endsWith('\n')) this.pending.push('');
  }

  emit(type: EngineEvent['Type'], action: string, id: string, attributes: Record<string, string>): void {
    const nowNs = BigInt(Date.now()) * 1_000_000n;
    const e: EngineEvent = { Type: type, Action: action, Actor: { ID: id, Attributes: attributes }, scope: 'local', time: Number(nowNs / 1_000_000_000n), timeNano: Number(nowNs) };
    this.events.push(e);
    if (this.events.length > KEPT) this.events.shift();
    this.emitter.emit('event', e);
    if (this.file) {
      this.pending.push(JSON.stringify(e));
      if (!this.flushing) this.flushing = new Promise<void>((r) => setImmediate(r)).then(() => this.writeBatches());
    }
  }

  /** Writes what is pending, batch after batch, until nothing is. */
  private async writeBatches(): Promise<void> {
    try {
      while (this.pending.length && this.file) {
        const f = this.file;
        const text = this.pending.join('\n') + '\n';
        this.pending = [];
        await f.handle.write(text);
        await f.handle.datasync();
        f.size += Buffer.byteLength(text);
        if (f.size >= f.maxBytes) {
          await f.handle.close();
          await rename(f.path, `${f.path}.1`);
          this.file = { ...f, handle: await open(f.path, 'a', 0o600), size: 0 };
        }
      }
    } catch (e) {
      // (A full disk.) The batch is lost to the file, never to memory or to listeners; a
      // write that stopped half-way left a torn line, which the next batch ends first.
      if (this.pending[0] !== '') this.pending.unshift('');
      this.onError(e as Error);
    } finally {
      this.flushing = undefined;
    }
  }

  /** Resolves once what was emitted so far is on disk. */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
  }

  /** Flushes and closes the file (the daemon stops). */
  async close(): Promise<void> {
    await this.flush();
    const f = this.file;
    this.file = undefined;
    await f?.handle.close();
  }

  /** The kept events from `sinceNs` on (unix nanoseconds). */
  since(sinceNs: number): EngineEvent[] {
    return this.events.filter((e) => e.timeNano >= sinceNs);
  }

  /** Calls fn with every new event; the result unsubscribes. */
  subscribe(fn: (e: EngineEvent) => void): () => void {
    this.emitter.on('event', fn);
    return () => this.emitter.off('event', fn);
  }
}
