// Layer bytes → tar bytes. The compression is read from the stream's first
// bytes (media types lie: Docker's say gzip for every layer), so gzip, zstd
// and plain tar are all accepted whatever the descriptor claims.
import { spawn } from 'node:child_process';
import { PassThrough, Readable } from 'node:stream';
import * as zlib from 'node:zlib';
import { RuntimeError } from '../../common/errors.js';

type Compression = 'gzip' | 'zstd' | 'none';

function sniff(head: Buffer): Compression {
  if (head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) return 'zstd';
  return 'none';
}

/** Returns the decompressed stream of `input`; errors name the layer. */
export function decompress(input: Readable, what: string): Readable {
  const out = new PassThrough();
  let started = false;
  let pending: Buffer[] = [];
  let size = 0;
  const start = () => {
    started = true;
    const head = Buffer.concat(pending);
    const kind = sniff(head);
    const rest = new PassThrough();
    rest.write(head);
    input.off('data', onData);
    input.off('end', onEnd);
    input.pipe(rest);
    input.on('error', (e) => out.destroy(e));
    let stage: Readable;
    if (kind === 'gzip') stage = rest.pipe(zlib.createGunzip());
    else if (kind === 'zstd') stage = zstdStream(rest, what);
    else stage = rest;
    stage.on('error', (e) => out.destroy(new RuntimeError({ step: `decompress ${what}`, detail: `${kind}: ${(e as Error).message}` })));
    stage.pipe(out);
    input.resume();
  };
  const onData = (c: Buffer) => {
    pending.push(c);
    size += c.length;
    if (size >= 4) {
      input.pause();
      start();
    }
  };
  const onEnd = () => {
    if (!started) {
      out.end(Buffer.concat(pending));
      pending = [];
    }
  };
  input.on('data', onData);
  input.on('end', onEnd);
  input.on('error', (e) => { if (!started) out.destroy(e); });
  return out;
}

function zstdStream(input: Readable, what: string): Readable {
  const native = (zlib as unknown as { createZstdDecompress?: () => NodeJS.ReadWriteStream }).createZstdDecompress;
  if (native) return input.pipe(native()) as unknown as Readable;
  // Node 20 has no zstd: the zstd program does it (Debian: apt install zstd).
  const child = spawn('zstd', ['-d', '-c', '-q'], { stdio: ['pipe', 'pipe', 'pipe'] });
  const out = new PassThrough();
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  child.on('error', (e) => out.destroy(new RuntimeError({ step: `decompress ${what}`, syscall: 'execve', errno: (e as NodeJS.ErrnoException).code, path: 'zstd', detail: 'a zstd layer needs the zstd program (apt install zstd)' })));
  child.on('close', (code) => {
    if (code !== 0 && !out.destroyed) out.destroy(new RuntimeError({ step: `decompress ${what}`, path: 'zstd', detail: `zstd exited ${code}: ${stderr.trim()}` }));
  });
  child.stdin.on('error', () => { /* reported through close */ });
  input.pipe(child.stdin);
  child.stdout.pipe(out);
  return out;
}
