// Events as `docker events` shows them, kept in memory (the newest few
// thousand) and fanned out to listeners as they happen.
import { EventEmitter } from 'node:events';

export interface EngineEvent {
  Type: 'container' | 'image';
  /** create, start, die, kill, stop, destroy, pull, tag, untag, delete. */
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  scope: 'local';
  time: number;
  timeNano: number;
}

const KEPT = 4096;

export class EventLog {
  private readonly events: EngineEvent[] = [];
  private readonly emitter = new EventEmitter();

  constructor() {
    this.emitter.setMaxListeners(0);
  }

  emit(type: EngineEvent['Type'], action: string, id: string, attributes: Record<string, string>): void {
    const nowNs = BigInt(Date.now()) * 1_000_000n;
    const e: EngineEvent = { Type: type, Action: action, Actor: { ID: id, Attributes: attributes }, scope: 'local', time: Number(nowNs / 1_000_000_000n), timeNano: Number(nowNs) };
    this.events.push(e);
    if (this.events.length > KEPT) this.events.shift();
    this.emitter.emit('event', e);
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
