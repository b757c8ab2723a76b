// The TypeScript half of the wire format in addon/init/plan.h: a record is
// u32 argc, then argc × (u32 len, bytes, NUL) (src/common/messageCodec.ts). A
// plan is PLAN_MAGIC, u32 count, records. Which ops exist and how many arguments each takes is declared in
// addon/protocol.def; steps are made with its generated builders (planOp).
import { decodeMessage, encodeMessage, encodeRecord, type RecordArg } from '../common/messageCodec.js';
import { PLAN_MAGIC, PLAN_OPS, type PlanOpName } from './generated/protocol.js';

export type PlanArg = RecordArg;

export interface PlanStep {
  op: PlanOpName;
  /** JSON pointer of the config field that asked for this step ('' if none). */
  pointer: string;
  args: PlanArg[];
}

export function encodePlan(steps: PlanStep[]): Buffer {
  const head = Buffer.alloc(8);
  head.write(PLAN_MAGIC, 0, 'latin1');
  head.writeUInt32LE(steps.length, 4);
  const chunks: Buffer[] = [head];
  for (const s of steps) encodeRecord([s.op, s.pointer, ...s.args], chunks);
  return Buffer.concat(chunks);
}

export { decodeMessage, encodeMessage };

/** Decodes a whole plan back into steps (for tests and `--debug` dumps), checking each against the declaration as the helper does. */
export function decodePlan(buf: Buffer): PlanStep[] {
  if (buf.toString('latin1', 0, 4) !== PLAN_MAGIC) throw new Error('bad plan header');
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
    const [op, pointer, ...rest] = args;
    if (!isPlanOp(op)) throw new Error(`unknown plan step ${JSON.stringify(op)}`);
    const { arity, variadic } = PLAN_OPS[op];
    if (rest.length < arity || (!variadic && rest.length > arity))
      throw new Error(`plan step ${op} has ${rest.length} arguments, declared ${variadic ? 'at least ' : ''}${arity}`);
    steps.push({ op, pointer, args: rest });
  }
  return steps;
}

function isPlanOp(name: string | undefined): name is PlanOpName {
  return name !== undefined && Object.hasOwn(PLAN_OPS, name);
}
