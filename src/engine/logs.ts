// Reading a container's logs as the shim writes them (docs/shim.md): Docker's
// json-file lines in DIR/json.log, older ones in json.log.1, .2, ... Reads
// stream through the file (a tail keeps only its last N entries), and a
// follow polls for what is appended, across a rotation, until the container
// has exited and the file is drained.
import { open, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export interface LogEntry {
  stream: 'stdout' | 'stderr';
  /** The bytes the container wrote (a line with its newline, or part of a long one). */
  data: Buffer;
  /** RFC 3339 with nanoseconds. */
  time: string;
}

export interface LogQuery {
  stdout: boolean;
  stderr: boolean;
  /** The last N entries of what is there (undefined: all). */
  tail?: number;
  /** Unix seconds (fractions allowed); entries before it are skipped. */
  since?: number;
  until?: number;
  follow: boolean;
}

const FOLLOW_POLL_MS = 100;

function parseLine(line: string): LogEntry | undefined {
  try {
    const v = JSON.parse(line) as { log?: unknown; stream?: unknown; time?: unknown };
    if (typeof v.log !== 'string' || typeof v.time !== 'string' || (v.stream !== 'stdout' && v.stream !== 'stderr')) return undefined;
    return { stream: v.stream, data: Buffer.from(v.log, 'utf8'), time: v.time };
  } catch {
    return undefined; // a line cut by a full disk or a crash
  }
}

interface LogFile { path: string; ino: number }

/** The log files by name, oldest first, with their inodes (json.log may not exist yet). */
async function scan(dir: string): Promise<LogFile[]> {
  const out: LogFile[] = [];
  for (let n = 1; ; n++) {
    try {
      out.unshift({ path: join(dir, `json.log.${n}`), ino: (await stat(join(dir, `json.log.${n}`))).ino });
    } catch {
      break;
    }
  }
  try {
    out.push({ path: join(dir, 'json.log'), ino: (await stat(join(dir, 'json.log'))).ino });
  } catch { /* not written yet */ }
  return out;
}

const same = (a: LogFile[], b: LogFile[]) => a.length === b.length && a.every((f, i) => f.path === b[i].path && f.ino === b[i].ino);

/**
 * The log files, oldest first, each open: a rotation renames them all while we look,
 * so names are scanned until two scans agree and each file opened is checked to be
 * the inode its name had (a few tries; then what the last try opened).
 */
async function openChain(dir: string): Promise<{ fh: FileHandle; ino: number }[]> {
  let opened: { fh: FileHandle; ino: number }[] = [];
  for (let attempt = 0; attempt < 10; attempt++) {
    let chain = await scan(dir);
    for (let k = 0; k < 10; k++) {
      const again = await scan(dir);
      if (same(chain, again)) break;
      chain = again;
    }
    for (const f of opened) await f.fh.close();
    opened = [];
    let ok = true;
    for (const f of chain) {
      try {
        const fh = await open(f.path, 'r');
        const ino = (await fh.stat()).ino;
        opened.push({ fh, ino });
        if (ino !== f.ino) ok = false;
      } catch {
        ok = false;
      }
    }
    if (ok) break;
  }
  return opened;
}

/**
 * The file that follows the one with inode `ino` (0: none read yet) in the rotation,
 * open; undefined while `ino` is still the newest. A follower that fell more than one
 * rotation behind finds its file under json.log.N, not json.log: the next is json.log.(N-1).
 */
async function successor(dir: string, ino: number): Promise<{ fh: FileHandle; ino: number } | undefined> {
  // The common case, no rotation since the last look: one stat.
  try {
    if (ino !== 0 && (await stat(join(dir, 'json.log'))).ino === ino) return undefined;
  } catch { /* not written yet, or removed with the container */ }
  const chain = await openChain(dir);
  const at = chain.findIndex((f) => f.ino === ino);
  // Not found: ours was rotated out past max-file (or none was read): the oldest left follows.
  const next = at < 0 ? 0 : at + 1;
  for (const [i, f] of chain.entries()) if (i !== next) await f.fh.close();
  return chain[next];
}

function wanted(e: LogEntry, q: LogQuery): boolean {
  if (e.stream === 'stdout' ? !q.stdout : !q.stderr) return false;
  const t = Date.parse(e.time) / 1000;
  if (q.since !== undefined && t < q.since) return false;
  if (q.until !== undefined && t > q.until) return false;
  return true;
}

export type LogSink = (e: LogEntry) => void | Promise<void>;

/**
 * Sends the entries `q` asks for to `sink`, in order; a sink that returns a promise
 * (a reader slower than the file: its socket's buffer is full) is waited for, so what
 * tsd holds stays bounded whatever the log's size. With `follow`, keeps going until
 * `exited` resolved and what was written before it is read, or until `cancelled()`
 * says the reader went away.
 */
export async function readLogs(dir: string, q: LogQuery, sink: LogSink, exited: Promise<unknown>, cancelled: () => boolean): Promise<void> {
  const files = await openChain(dir);
  const kept: LogEntry[] = [];
  const take = (line: string) => {
    const e = parseLine(line);
    if (!e || !wanted(e, q)) return;
    if (q.tail === undefined) return sink(e);
    else {
      kept.push(e);
      if (kept.length > q.tail) kept.shift();
    }
  };
  // The newest file stays open: the follow continues in it after its size before it was read.
  let fh: FileHandle | undefined;
  let offset = 0;
  let ino = 0;
  try {
    for (const [i, f] of files.entries()) {
      if (i === files.length - 1) {
        fh = f.fh;
        ino = f.ino;
        offset = (await f.fh.stat()).size;
        await readPrefix(f.fh, offset, take);
      } else {
        await readPrefix(f.fh, Infinity, take);
        await f.fh.close();
      }
    }
  } catch (e) {
    for (const f of files) await f.fh.close().catch(() => {});
    throw e;
  }
  if (q.tail !== undefined) for (const e of q.tail === 0 ? [] : kept) await sink(e);
  if (!q.follow) {
    await fh?.close();
    return;
  }
  let done = false;
  exited.then(() => (done = true), () => (done = true));
  let partial = '';
  const buf = Buffer.alloc(1 << 16);
  const readToEnd = async (h: FileHandle) => {
    for (;;) {
      const { bytesRead } = await h.read(buf, 0, buf.length, offset);
      if (bytesRead === 0) return;
      offset += bytesRead;
      partial += buf.toString('utf8', 0, bytesRead);
      const lines = partial.split('\n');
      partial = lines.pop()!;
      for (const l of lines) {
        const e = parseLine(l);
        if (!e || !wanted(e, q)) continue;
        const wait = sink(e);
        if (wait) await wait;
      }
    }
  };
  const drain = async () => {
    for (;;) {
      if (fh) await readToEnd(fh);
      // At the end of this file: a rotation put the next one after it.
      const next = await successor(dir, ino).catch(() => undefined);
      if (!next) return;
      // Ours is final once it was rotated: what the shim wrote before the rename is read first.
      if (fh) {
        await readToEnd(fh);
        await fh.close();
      }
      fh = next.fh;
      ino = next.ino;
      offset = 0;
      partial = '';
    }
  };
  try {
    while (!cancelled()) {
      const finished = done;
      await drain();
      if (finished) break;
      await new Promise((r) => setTimeout(r, FOLLOW_POLL_MS));
    }
  } finally {
    await fh?.close();
  }
}

/** The first `size` bytes of an open file, line by line; the handle stays open. */
async function readPrefix(fh: FileHandle, size: number, onLine: (line: string) => void | Promise<void>): Promise<void> {
  if (size === 0) return;
  const input = fh.createReadStream({ encoding: 'utf8', start: 0, end: size === Infinity ? undefined : size - 1, autoClose: false });
  const lines = createInterface({ input, crlfDelay: Infinity });
  for await (const line of lines) {
    const wait = onLine(line);
    if (wait) await wait;
  }
}
