// The content store: blobs addressed by sha256 under <root>/content. A blob
// becomes visible only by rename after its size and digest were checked, so a
// partial or wrong download is never read as content. Partial downloads stay
// in ingest/ (named by their digest) so that the next pull resumes them.
import { createHash, type Hash } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, writeSync, ftruncateSync, createReadStream } from 'node:fs';
import { join } from 'node:path';
import { RuntimeError } from '../../common/errors.js';
import { lock } from '../../common/lock.js';
import { isDigest } from '../reference.js';
import type { Descriptor } from '../mediaTypes.js';

export const sha256 = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** A source the store pulls a blob from, starting at `offset` (resume) when it can. */
export type BlobOpener = (offset: number) => Promise<{ offset: number; body: AsyncIterable<Uint8Array> }>;

export interface IngestOptions {
  /** Sees every byte of the blob, from the first, in order (a streaming unpacker). */
  tap?: (chunk: Buffer) => Promise<void> | void;
  /** Progress in bytes of the whole blob. */
  progress?: (done: number, total: number) => void;
  /** Where the bytes come from, for error messages. */
  source: string;
}

/** An ingest that resumed a partial download and found it did not add up; the partial was removed. */
export const isFailedResume = (e: unknown): boolean => (e as { failedResume?: boolean } | undefined)?.failedResume === true;

export class ContentStore {
  readonly blobsDir: string;
  readonly ingestDir: string;

  constructor(readonly root: string) {
    this.blobsDir = join(root, 'content', 'blobs', 'sha256');
    this.ingestDir = join(root, 'content', 'ingest');
  }

  blobPath(digest: string): string {
    if (!isDigest(digest)) throw new RuntimeError({ step: 'content store', detail: `not a sha256 digest: ${JSON.stringify(digest)}` });
    return join(this.blobsDir, digest.slice(7));
  }

  has(digest: string): boolean {
    return existsSync(this.blobPath(digest));
  }

  size(digest: string): number | undefined {
    try {
      return statSync(this.blobPath(digest)).size;
    } catch {
      return undefined;
    }
  }

  /** Reads a (small) blob and checks its digest again: a manifest is never trusted unverified. */
  read(digest: string): Buffer {
    let data: Buffer;
    try {
      data = readFileSync(this.blobPath(digest));
    } catch (e) {
      throw RuntimeError.fromSystem(`read blob ${digest}`, e);
    }
    const actual = sha256(data);
    if (actual !== digest) throw new RuntimeError({ step: 'verify blob', path: this.blobPath(digest), detail: `content is ${actual}, expected ${digest} (the store was modified)` });
    return data;
  }

  readJson<T>(digest: string): T {
    return JSON.parse(this.read(digest).toString('utf8')) as T;
  }

  /** Writes an in-memory blob (manifests, configs); checks `expected` when given. */
  write(data: Buffer, expected?: string): string {
    const digest = sha256(data);
    if (expected && expected !== digest) throw new RuntimeError({ step: 'verify blob', detail: `content is ${digest}, expected ${expected}` });
    if (this.has(digest)) return digest;
    mkdirSync(this.blobsDir, { recursive: true });
    mkdirSync(this.ingestDir, { recursive: true });
    const tmp = join(this.ingestDir, `${digest.slice(7)}.${process.pid}.tmp`);
    try {
      writeFileSync(tmp, data);
      renameSync(tmp, this.blobPath(digest));
    } catch (e) {
      rmSync(tmp, { force: true });
      throw RuntimeError.fromSystem(`write blob ${digest}`, e);
    }
    return digest;
  }

  /**
   * Downloads a blob into the store. Bytes go to ingest/<hex>.partial while the
   * digest is computed; on a size or digest mismatch the partial is deleted,
   * on a network error it is kept and the next ingest resumes from its end.
   */
  async ingest(desc: Descriptor, open: BlobOpener, opts: IngestOptions): Promise<void> {
    const final = this.blobPath(desc.digest);
    mkdirSync(this.blobsDir, { recursive: true });
    mkdirSync(this.ingestDir, { recursive: true });
    const partial = join(this.ingestDir, `${desc.digest.slice(7)}.partial`);
    const unlock = await this.lockIngest(desc.digest);
    try {
      if (existsSync(final)) {
        // Already here (another pull, or an earlier one): the tap still gets every byte.
        if (opts.tap) await this.replay(final, statSync(final).size, undefined, opts.tap);
        unlock(true);
        return;
      }
      let have = existsSync(partial) ? statSync(partial).size : 0;
      if (have > desc.size) have = 0;
      const { offset, body } = await open(have);
      const resumed = offset === have && have > 0;
      const fd = openSync(partial, resumed ? 'r+' : 'w');
      const hash = createHash('sha256');
      let done = 0;
      // A resumed download that does not add up: the partial is gone, so the caller may fetch it all again.
      const failedResume = <E>(e: E): E => (resumed ? Object.assign(e as object, { failedResume: true }) as E : e);
      // The unpacker could not read what it was given: on a resume, the partial's bytes may be why.
      let tapFailed = false;
      const tap = opts.tap && (async (b: Buffer) => {
        try {
          await opts.tap!(b);
        } catch (e) {
          tapFailed = true;
          throw e;
        }
      });
      try {
        if (resumed) {
          // Resuming: the bytes already here feed the digest and the tap first.
          await this.replay(partial, have, hash, tap);
          done = have;
        } else ftruncateSync(fd, 0);
        opts.progress?.(done, desc.size);
        try {
          for await (const chunk of body) {
            const buf = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
            if (done + buf.length > desc.size) {
              rmSync(partial, { force: true });
              throw new RuntimeError({ step: `download ${desc.digest}`, path: opts.source, detail: `the registry sent more than the ${desc.size} bytes the manifest gives` });
            }
            writeAll(fd, buf, done);
            hash.update(buf);
            done += buf.length;
            if (tap) await tap(buf);
            opts.progress?.(done, desc.size);
          }
        } catch (e) {
          if (e instanceof RuntimeError) throw e;
          const err = e as NodeJS.ErrnoException;
          if (err.code === 'ENOSPC' || err.syscall === 'write') {
            rmSync(partial, { force: true });
            throw RuntimeError.fromSystem(`write blob ${desc.digest}`, e, { path: partial });
          }
          throw new RuntimeError({ step: `download ${desc.digest}`, path: opts.source, errno: err.code, detail: `interrupted after ${done} of ${desc.size} bytes (${err.cause ? String((err.cause as Error).message ?? err.cause) : err.message}); the partial download is kept and the next pull resumes it` });
        }
        if (done !== desc.size) {
          // A short body with a clean end: the registry's copy is truncated.
          rmSync(partial, { force: true });
          throw failedResume(new RuntimeError({ step: `download ${desc.digest}`, path: opts.source, detail: `got ${done} bytes${resumed ? ` (resumed at ${have})` : ''}, the manifest says ${desc.size} (truncated blob)` }));
        }
        const actual = `sha256:${hash.digest('hex')}`;
        if (actual !== desc.digest) {
          rmSync(partial, { force: true });
          throw failedResume(new RuntimeError({ step: `verify ${desc.digest}`, path: opts.source, detail: `the registry sent content with digest ${actual}${resumed ? ` (resumed at ${have})` : ''}` }));
        }
        fsyncSync(fd);
      } catch (e) {
        if (resumed && tapFailed) {
          rmSync(partial, { force: true });
          throw failedResume(e);
        }
        throw e;
      } finally {
        closeSync(fd);
      }
      renameSync(partial, final);
      unlock(true);
    } finally {
      unlock(false);
    }
  }

  /** Stores a stream whose digest is not known in advance (a docker-save layer.tar). */
  async ingestStream(body: AsyncIterable<Uint8Array>): Promise<{ digest: string; size: number }> {
    mkdirSync(this.blobsDir, { recursive: true });
    mkdirSync(this.ingestDir, { recursive: true });
    const tmp = join(this.ingestDir, `stream-${process.pid}-${Date.now()}-${Math.random().toString(16).slice(2)}.tmp`);
    const hash = createHash('sha256');
    let size = 0;
    const fd = openSync(tmp, 'w');
    try {
      for await (const chunk of body) {
        const buf = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
        writeAll(fd, buf, size);
        hash.update(buf);
        size += buf.length;
      }
      fsyncSync(fd);
    } catch (e) {
      closeSync(fd);
      rmSync(tmp, { force: true });
      throw RuntimeError.fromSystem('store blob', e, { path: tmp });
    }
    closeSync(fd);
    const digest = `sha256:${hash.digest('hex')}`;
    renameSync(tmp, this.blobPath(digest));
    return { digest, size };
  }

  list(): string[] {
    try {
      return readdirSync(this.blobsDir).filter((n) => /^[a-f0-9]{64}$/.test(n)).map((n) => `sha256:${n}`);
    } catch {
      return [];
    }
  }

  remove(digest: string): void {
    rmSync(this.blobPath(digest), { force: true });
  }

  /** Leftover partial downloads (prune removes them). */
  ingests(): string[] {
    try {
      return readdirSync(this.ingestDir).map((n) => join(this.ingestDir, n));
    } catch {
      return [];
    }
  }

  /** Feeds the first `end` bytes of a file to the digest and the tap (either may be absent). */
  private async replay(file: string, end: number, hash: Hash | undefined, tap?: (b: Buffer) => Promise<void> | void) {
    if (end <= 0) return;
    for await (const chunk of createReadStream(file, { start: 0, end: end - 1 })) {
      hash?.update(chunk as Buffer);
      if (tap) await tap(chunk as Buffer);
    }
  }

  /** Two pulls of one blob: the second waits, then finds the blob done. */
  private async lockIngest(digest: string): Promise<(done: boolean) => void> {
    const path = join(this.ingestDir, `${digest.slice(7)}.lock`);
    const fd = await lock(path, true, `lock the download of ${digest}`);
    // Unlinked only once the blob is in place: a waiter holding the old inode
    // then finds the blob and stops. After a failure it stays (prune removes it).
    let closed = false;
    return (done) => {
      if (closed) return;
      closed = true;
      if (done) rmSync(path, { force: true });
      closeSync(fd);
    };
  }
}

function writeAll(fd: number, buf: Buffer, position: number): void {
  let off = 0;
  while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off, position + off);
}
