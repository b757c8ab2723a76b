// Reading a container's logs as the shim writes them (docs/shim.md): Docker's
// json-file lines in DIR/json.log, older ones in json.log.1, .2, ... Reads
// stream through the file (a tail keeps only its last N entries), and a
// follow polls for what is appended, across a rotation, until the container
// has exited and the file is drained.
import { createReadStream } from 'node:fs';
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

/** The log files, oldest first. */
async function logFiles(dir: string): Promise<string[]> {
  const rotated: string[] = [];
  for (let n = 1; ; n++) {
    const p = join(dir, `json.log.${n}`);
    try {
      await stat(p);
      rotated.unshift(p);
    } catch {
      break;
    }
  }
  return [...rotated, join(dir, 'json.log')];
}

function wanted(e: LogEntry, q: LogQuery): boolean {
  if (e.stream === 'stdout' ? !q.stdout : !q.stderr) return false;
  const t = Date.parse(e.time) / 1000;
  if (q.since !== undefined && t < q.since) return false;
  if (q.until !== undefined && t > q.until) return false;
  return true;
}

async function readWhole(path: string, onLine: (line: string) => void): Promise<void> {
  const input = createReadStream(path, { encoding: 'utf8' });
  const lines = createInterface({ input, crlfDelay: Infinity });
  try {
    for await (const line of lines) onLine(line);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}

/**
 * Sends the entries `q` asks for to `sink`, in order. With `follow`, keeps
 * going until `exited` resolved and what was written before it is read, or
 * until `cancelled()` says the reader went away.
 */
export async function readLogs(dir: string, q: LogQuery, sink: (e: LogEntry) => void, exited: Promise<unknown>, cancelled: () => boolean): Promise<void> {
  const files = await logFiles(dir);
  const current = files[files.length - 1];
  const kept: LogEntry[] = [];
  const take = (line: string) => {
    const e = parseLine(line);
    if (!e || !wanted(e, q)) return;
    if (q.tail === undefined) sink(e);
    else {
      kept.push(e);
      if (kept.length > q.tail) kept.shift();
    }
  };
  // Where the follow continues: the current file's size before it is read.
  let offset = 0;
  let ino = 0;
  for (const f of files) {
    if (f === current) {
      try {
        const st = await stat(f);
        offset = st.size;
        ino = st.ino;
      } catch { /* not written yet */ }
      await readPrefix(f, offset, take);
    } else await readWhole(f, take);
  }
  if (q.tail !== undefined) for (const e of q.tail === 0 ? [] : kept) sink(e);
  if (!q.follow) return;
  let done = false;
  exited.then(() => (done = true), () => (done = true));
  let partial = '';
  let fh: FileHandle | undefined;
  const buf = Buffer.alloc(1 << 16);
  const drain = async () => {
    for (;;) {
      if (!fh) {
        try {
          fh = await open(current, 'r');
          const st = await fh.stat();
          if (st.ino !== ino) {
            offset = 0;
            ino = st.ino;
          }
        } catch {
          return;
        }
      }
      const { bytesRead } = await fh.read(buf, 0, buf.length, offset);
      if (bytesRead > 0) {
        offset += bytesRead;
        partial += buf.toString('utf8', 0, bytesRead);
        const lines = partial.split('\n');
        partial = lines.pop()!;
        for (const l of lines) {
          const e = parseLine(l);
          if (e && wanted(e, q)) sink(e);
        }
        continue;
      }
      // At the end of this file: a rotation started a new one under the name.
      try {
        const st = await stat(current);
        if (st.ino !== ino) {
          await fh.close();
          fh = undefined;
          offset = 0;
          ino = st.ino;
          partial = '';
          continue;
        }
      } catch { /* removed with the container */ }
      return;
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

/** The first `size` bytes of a file, line by line (what a follow continues after). */
async function readPrefix(path: string, size: number, onLine: (line: string) => void): Promise<void> {
  if (size === 0) return;
  const input = createReadStream(path, { encoding: 'utf8', start: 0, end: size - 1 });
  const lines = createInterface({ input, crlfDelay: Infinity });
  try {
    for await (const line of lines) onLine(line);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}
