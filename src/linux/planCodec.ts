// The TypeScript half of the wire format in addon/init/plan.h: a record is
// u32 argc, then argc × (u32 len, bytes, NUL). A plan is "TSP1", u32 count, records.

export type PlanArg = string | Buffer;

export interface PlanStep {
  op: string;
  /** JSON pointer of the config field that asked for this step ('' if none). */
  pointer: string;
  args: PlanArg[];
}

function encodeRecord(args: PlanArg[], chunks: Buffer[]): void {
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

export function encodePlan(steps: PlanStep[]): Buffer {
  const head = Buffer.alloc(8);
  head.write('TSP1', 0, 'latin1');
  head.writeUInt32LE(steps.length, 4);
  const chunks: Buffer[] = [head];
  for (const s of steps) encodeRecord([s.op, s.pointer, ...s.args], chunks);
  return Buffer.concat(chunks);
}

export function encodeMessage(args: string[]): Buffer {
  const chunks: Buffer[] = [];
  encodeRecord(args, chunks);
  return Buffer.concat(chunks);
}

export function decodeMessage(buf: Buffer): string[] {
  const argc = buf.readUInt32LE(0);
  const out: string[] = [];
  let off = 4;
  for (let i = 0; i < argc; i++) {
    const len = buf.readUInt32LE(off);
    off += 4;
    out.push(buf.toString('utf8', off, off + len));
    off += len + 1;
  }
  return out;
}

/** Decodes a whole plan back into steps (for tests and `--debug` dumps). */
export function decodePlan(buf: Buffer): PlanStep[] {
  if (buf.toString('latin1', 0, 4) !== 'TSP1') throw new Error('bad plan header');
  const count = buf.readUInt32LE(4);
  const steps: PlanStep[] = [];
  let off = 8;
  for (let i = 0; i < count; i++) {
    const argc = buf.readUInt32LE(off);
    off += 4;
    const args: string[] = [];
    for (let j = 0; j < argc; j++) {
      const len = buf.readUInt32LE(off);
      off += 4;
      args.push(buf.toString('utf8', off, off + len));
      off += len + 1;
    }
    steps.push({ op: args[0], pointer: args[1], args: args.slice(2) });
  }
  return steps;
}
