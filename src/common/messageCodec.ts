// The record framing of addon/init/plan.h, shared by the sync socket with
// tsrun-init (src/linux/planCodec.ts) and the shim's control socket
// (src/engine/shimClient.ts): u32 argc, then argc × (u32 len, bytes, NUL),
// little-endian as the C side writes it.

export type RecordArg = string | Buffer;

export function encodeRecord(args: RecordArg[], chunks: Buffer[]): void {
  const head = Buffer.alloc(4);
  head.writeUInt32LE(args.length);
  chunks.push(head);
  for (const a of args) {
    const bytes = typeof a === 'string' ? Buffer.from(a, 'utf8') : a;
    const len = Buffer.alloc(4);
    len.writeUInt32LE(bytes.length);
    chunks.push(len, bytes, Buffer.alloc(1));
  }
}

/** One record as one message. */
export function encodeMessage(args: RecordArg[]): Buffer {
  const chunks: Buffer[] = [];
  encodeRecord(args, chunks);
  return Buffer.concat(chunks);
}

/** A message's fields as bytes (output data is not text); a malformed message throws. */
export function decodeFields(buf: Buffer): Buffer[] {
  if (buf.length < 4) throw new Error('short message');
  const argc = buf.readUInt32LE(0);
  const out: Buffer[] = [];
  let off = 4;
  for (let i = 0; i < argc; i++) {
    if (off + 4 > buf.length) throw new Error('short message');
    const len = buf.readUInt32LE(off);
    off += 4;
    if (off + len + 1 > buf.length) throw new Error('short message');
    out.push(buf.subarray(off, off + len));
    off += len + 1;
  }
  return out;
}

/** A message's fields as text. */
export function decodeMessage(buf: Buffer): string[] {
  return decodeFields(buf).map((b) => b.toString('utf8'));
}
