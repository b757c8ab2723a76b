// A streaming tar reader: ustar, GNU long names (L/K) and PAX headers (x/g)
// with path, linkpath, size, uid, gid, mtime and SCHILY.xattr.*. Entries come
// out one at a time; an entry's body must be read (or is skipped) before the next.

export type TarEntryType = 'file' | 'hardlink' | 'symlink' | 'char' | 'block' | 'dir' | 'fifo';

export interface TarHeader {
  path: string;
  type: TarEntryType;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  linkname: string;
  devmajor: number;
  devminor: number;
  xattrs: Record<string, Buffer>;
}

export interface TarEntry extends TarHeader {
  body: AsyncIterable<Buffer>;
}

export class TarFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TarFormatError';
  }
}

const BLOCK = 512;

/** Exact reads from a chunk stream. */
class ByteReader {
  private chunks: Buffer[] = [];
  private length = 0;
  private done = false;
  constructor(private readonly it: AsyncIterator<Uint8Array>) {}

  private async fill(n: number): Promise<boolean> {
    while (this.length < n && !this.done) {
      const r = await this.it.next();
      if (r.done) this.done = true;
      else if (r.value.byteLength) {
        const b = Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength);
        this.chunks.push(b);
        this.length += b.length;
      }
    }
    return this.length >= n;
  }

  /** n bytes, or null at a clean end of stream before the first byte. */
  async read(n: number): Promise<Buffer | null> {
    if (!(await this.fill(n))) {
      if (this.length === 0) return null;
      throw new TarFormatError(`unexpected end of archive (wanted ${n} bytes, ${this.length} left)`);
    }
    const all = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
    const out = all.subarray(0, n);
    const rest = all.subarray(n);
    this.chunks = rest.length ? [rest] : [];
    this.length = rest.length;
    return out;
  }

  /** Up to n bytes as they arrive. */
  async *take(n: number): AsyncGenerator<Buffer> {
    let left = n;
    while (left > 0) {
      if (this.length === 0 && !(await this.fill(1))) throw new TarFormatError(`unexpected end of archive inside an entry (${left} bytes missing)`);
      const head = this.chunks[0];
      if (head.length <= left) {
        this.chunks.shift();
        this.length -= head.length;
        left -= head.length;
        yield head;
      } else {
        this.chunks[0] = head.subarray(left);
        this.length -= left;
        const out = head.subarray(0, left);
        left = 0;
        yield out;
      }
    }
  }

  async skip(n: number): Promise<void> {
    for await (const _ of this.take(n)) { /* discard */ }
  }

  /** Drains what follows the end-of-archive blocks (tar pads to a record size). */
  async drain(): Promise<void> {
    while (await this.fill(this.length + 1)) {
      this.chunks = [];
      this.length = 0;
    }
  }
}

function cstring(b: Buffer, start: number, len: number): string {
  const field = b.subarray(start, start + len);
  const nul = field.indexOf(0);
  return field.subarray(0, nul < 0 ? len : nul).toString('utf8');
}

function number(b: Buffer, start: number, len: number): number {
  const field = b.subarray(start, start + len);
  if (field[0] & 0x80) {
    // base-256 (GNU) for values that do not fit in octal
    let v = field[0] & 0x7f;
    for (let i = 1; i < len; i++) v = v * 256 + field[i];
    return v;
  }
  const s = cstring(b, start, len).trim();
  if (!s) return 0;
  if (!/^[0-7]+$/.test(s)) throw new TarFormatError(`bad numeric field ${JSON.stringify(s)} in a tar header`);
  return parseInt(s, 8);
}

function checksumOk(h: Buffer): boolean {
  const want = number(h, 148, 8);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : h[i];
  return sum === want;
}

function parsePax(data: Buffer, into: Record<string, string | Buffer>): void {
  let off = 0;
  while (off < data.length) {
    const sp = data.indexOf(0x20, off);
    if (sp < 0) break;
    const len = parseInt(data.subarray(off, sp).toString('ascii'), 10);
    if (!len || len < 0 || off + len > data.length) throw new TarFormatError('bad PAX record length');
    const rec = data.subarray(sp + 1, off + len - 1); // without the trailing newline
    const eq = rec.indexOf(0x3d);
    if (eq > 0) {
      const key = rec.subarray(0, eq).toString('utf8');
      const value = rec.subarray(eq + 1);
      into[key] = key.startsWith('SCHILY.xattr.') ? Buffer.from(value) : value.toString('utf8');
    }
    off += len;
  }
}

const TYPES: Record<string, TarEntryType> = { '0': 'file', '\0': 'file', '7': 'file', '1': 'hardlink', '2': 'symlink', '3': 'char', '4': 'block', '5': 'dir', '6': 'fifo' };

export async function* readTar(source: AsyncIterable<Uint8Array>): AsyncGenerator<TarEntry> {
  const r = new ByteReader(source[Symbol.asyncIterator]());
  let longName: string | undefined;
  let longLink: string | undefined;
  let pax: Record<string, string | Buffer> = {};
  const globalPax: Record<string, string | Buffer> = {};
  for (;;) {
    const h = await r.read(BLOCK);
    if (h === null) return; // no end blocks: accepted, as GNU tar does
    if (h.every((x) => x === 0)) {
      await r.drain();
      return;
    }
    if (!checksumOk(h)) throw new TarFormatError('tar header checksum mismatch (not a tar stream, or corrupt)');
    const flag = String.fromCharCode(h[156]);
    const size = number(h, 124, 12);
    const padded = Math.ceil(size / BLOCK) * BLOCK;
    if (flag === 'L' || flag === 'K' || flag === 'x' || flag === 'g') {
      const data = (await r.read(padded)) ?? Buffer.alloc(0);
      const body = data.subarray(0, size);
      if (flag === 'L') longName = cstring(body, 0, body.length);
      else if (flag === 'K') longLink = cstring(body, 0, body.length);
      else parsePax(body, flag === 'x' ? pax : globalPax);
      continue;
    }
    const type = TYPES[flag];
    const merged = { ...globalPax, ...pax };
    const str = (k: string) => (typeof merged[k] === 'string' ? (merged[k] as string) : undefined);
    const magic = h.subarray(257, 263).toString('latin1');
    const prefix = magic === 'ustar\0' ? cstring(h, 345, 155) : '';
    const path = str('path') ?? longName ?? (prefix ? `${prefix}/${cstring(h, 0, 100)}` : cstring(h, 0, 100));
    const entrySize = str('size') !== undefined ? Number(str('size')) : size;
    const xattrs: Record<string, Buffer> = {};
    for (const [k, v] of Object.entries(merged)) if (k.startsWith('SCHILY.xattr.')) xattrs[k.slice(13)] = v as Buffer;
    const header: TarHeader = {
      path,
      type: type ?? 'file',
      mode: number(h, 100, 8) & 0o7777,
      uid: str('uid') !== undefined ? Number(str('uid')) : number(h, 108, 8),
      gid: str('gid') !== undefined ? Number(str('gid')) : number(h, 116, 8),
      size: type === 'file' || type === undefined ? entrySize : 0,
      mtime: str('mtime') !== undefined ? Number(str('mtime')) : number(h, 136, 12),
      linkname: str('linkpath') ?? longLink ?? cstring(h, 157, 100),
      devmajor: number(h, 329, 8),
      devminor: number(h, 337, 8),
      xattrs,
    };
    longName = longLink = undefined;
    pax = {};
    const dataSize = str('size') !== undefined ? entrySize : size;
    const dataPadded = Math.ceil(dataSize / BLOCK) * BLOCK;
    if (type === undefined) {
      // Unknown entry types (sparse, volume labels) are skipped, not guessed at.
      await r.skip(dataPadded);
      continue;
    }
    let consumed = 0;
    const body = (async function* () {
      for await (const c of r.take(header.size)) {
        consumed += c.length;
        yield c;
      }
    })();
    yield { ...header, body };
    // Whatever the consumer did not read, and the padding.
    await r.skip(header.size - consumed);
    await r.skip(dataPadded - header.size);
  }
}
