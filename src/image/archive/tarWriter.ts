// A small ustar writer for the archives tsctl writes (export): directories and
// regular files, names longer than 100 bytes through a PAX header.
import { createReadStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { once } from 'node:events';

const BLOCK = 512;

function octal(n: number, len: number): string {
  return n.toString(8).padStart(len - 1, '0') + '\0';
}

function header(name: string, type: '0' | '5' | 'x', size: number, mode: number, mtime: number): Buffer {
  const h = Buffer.alloc(BLOCK);
  h.write(name.slice(0, 100), 0, 'utf8');
  h.write(octal(mode, 8), 100, 'ascii');
  h.write(octal(0, 8), 108, 'ascii');
  h.write(octal(0, 8), 116, 'ascii');
  h.write(octal(size, 12), 124, 'ascii');
  h.write(octal(mtime, 12), 136, 'ascii');
  h.write('        ', 148, 'ascii');
  h.write(type, 156, 'ascii');
  h.write('ustar\x0000', 257, 'latin1');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(octal(sum, 7) + ' ', 148, 'ascii');
  return h;
}

export class TarWriter {
  constructor(private readonly out: Writable, private readonly mtime = 0) {}

  private async put(b: Buffer): Promise<void> {
    if (!this.out.write(b)) await once(this.out, 'drain');
  }

  private async name(name: string, type: '0' | '5'): Promise<string> {
    if (Buffer.byteLength(name) <= 100) return name;
    const rec = (len: number) => `${len} path=${name}\n`;
    let len = Buffer.byteLength(rec(0));
    while (Buffer.byteLength(rec(len)) !== len) len = Buffer.byteLength(rec(len));
    const body = Buffer.from(rec(len));
    await this.put(header(`PaxHeader/${type}`, 'x', body.length, 0o644, this.mtime));
    await this.put(Buffer.concat([body, Buffer.alloc((BLOCK - (body.length % BLOCK)) % BLOCK)]));
    return name.slice(0, 100);
  }

  async dir(name: string): Promise<void> {
    await this.put(header(await this.name(name.endsWith('/') ? name : `${name}/`, '5'), '5', 0, 0o755, this.mtime));
  }

  async file(name: string, data: Buffer): Promise<void> {
    await this.put(header(await this.name(name, '0'), '0', data.length, 0o644, this.mtime));
    await this.put(data);
    await this.pad(data.length);
  }

  async fileFrom(name: string, path: string, size: number): Promise<void> {
    await this.put(header(await this.name(name, '0'), '0', size, 0o644, this.mtime));
    for await (const chunk of createReadStream(path)) await this.put(chunk as Buffer);
    await this.pad(size);
  }

  async finish(): Promise<void> {
    await this.put(Buffer.alloc(BLOCK * 2));
    this.out.end();
    await once(this.out, 'finish');
  }

  private async pad(size: number): Promise<void> {
    const n = (BLOCK - (size % BLOCK)) % BLOCK;
    if (n) await this.put(Buffer.alloc(n));
  }
}
