// The cgroup v2 device filter as data: device rules -> the instructions of a
// BPF_PROG_TYPE_CGROUP_DEVICE program. Pure and unit-tested; the addon only
// loads and attaches the bytes `encodeBpfProgram` makes of them.
//
// The program checks the rules last to first and returns at the first match,
// so the last matching rule wins, as with v1's lists (and runc). When nothing
// matches it allows: v1's default for a new cgroup.
import { endianness } from 'node:os';

/** A device rule as the program takes it (see `bpfDeviceRules`). */
export interface DeviceProgramRule {
  allow: boolean;
  /** 0 any, 1 block, 2 char (BPF_DEVCG_DEV_*). */
  type: number;
  /** -1: any. */
  major: number;
  /** -1: any. */
  minor: number;
  /** Bits: 1 mknod, 2 read, 4 write (BPF_DEVCG_ACC_*). */
  access: number;
}

/** One struct bpf_insn. */
export interface BpfInsn {
  code: number;
  dst: number;
  src: number;
  off: number;
  imm: number;
}

// Opcode parts from linux/bpf_common.h and linux/bpf.h.
const BPF_LDX = 0x01, BPF_ALU = 0x04, BPF_JMP = 0x05, BPF_ALU64 = 0x07;
const BPF_W = 0x00, BPF_MEM = 0x60;
const BPF_K = 0x00, BPF_X = 0x08;
const BPF_AND = 0x50, BPF_RSH = 0x70, BPF_MOV = 0xb0;
const BPF_JEQ = 0x10, BPF_JSET = 0x40, BPF_JNE = 0x50, BPF_EXIT = 0x90;

// Registers: r0 is the verdict, r1 the struct bpf_cgroup_dev_ctx
// { access_type, major, minor }; the prologue loads it into r2..r6.
const R0 = 0, R1 = 1, ACCESS_TYPE = 2, TYPE = 3, ACCESS = 4, MAJOR = 5, MINOR = 6, SCRATCH = 7;

const ALL_ACCESS = 7;

const insn = (code: number, dst: number, src: number, off: number, imm: number): BpfInsn => ({ code, dst, src, off, imm });

const prologue = (): BpfInsn[] => [
  insn(BPF_LDX | BPF_W | BPF_MEM, ACCESS_TYPE, R1, 0, 0),
  // access_type: the device type in the low 16 bits, the access in the high 16.
  insn(BPF_ALU64 | BPF_MOV | BPF_X, TYPE, ACCESS_TYPE, 0, 0),
  insn(BPF_ALU | BPF_AND | BPF_K, TYPE, 0, 0, 0xffff),
  insn(BPF_ALU64 | BPF_MOV | BPF_X, ACCESS, ACCESS_TYPE, 0, 0),
  insn(BPF_ALU | BPF_RSH | BPF_K, ACCESS, 0, 0, 16),
  insn(BPF_LDX | BPF_W | BPF_MEM, MAJOR, R1, 4, 0),
  insn(BPF_LDX | BPF_W | BPF_MEM, MINOR, R1, 8, 0),
];

const verdict = (allow: boolean): BpfInsn[] => [insn(BPF_ALU64 | BPF_MOV | BPF_K, R0, 0, 0, allow ? 1 : 0), insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)];

/** The checks of one rule, then its verdict; `conditional` is false when it matches every request. */
function ruleBlock(rule: DeviceProgramRule): { block: BpfInsn[]; conditional: boolean } {
  const block: BpfInsn[] = [];
  // Each check jumps past the verdict when the rule does not match; the offsets are set once the block is complete.
  const skips: number[] = [];
  const skipUnless = (check: BpfInsn) => {
    skips.push(block.length);
    block.push(check);
  };
  if (rule.type) skipUnless(insn(BPF_JMP | BPF_JNE | BPF_K, TYPE, 0, 0, rule.type));
  if (rule.allow) {
    // An allow rule matches when every requested access bit is allowed.
    const denied = ~rule.access & ALL_ACCESS;
    if (denied) skipUnless(insn(BPF_JMP | BPF_JSET | BPF_K, ACCESS, 0, 0, denied));
  } else {
    // A deny rule matches when any requested access bit is denied.
    block.push(insn(BPF_ALU64 | BPF_MOV | BPF_X, SCRATCH, ACCESS, 0, 0));
    block.push(insn(BPF_ALU | BPF_AND | BPF_K, SCRATCH, 0, 0, rule.access & ALL_ACCESS));
    skipUnless(insn(BPF_JMP | BPF_JEQ | BPF_K, SCRATCH, 0, 0, 0));
  }
  if (rule.major >= 0) skipUnless(insn(BPF_JMP | BPF_JNE | BPF_K, MAJOR, 0, 0, rule.major));
  if (rule.minor >= 0) skipUnless(insn(BPF_JMP | BPF_JNE | BPF_K, MINOR, 0, 0, rule.minor));
  block.push(...verdict(rule.allow));
  for (const at of skips) block[at].off = block.length - at - 1;
  return { block, conditional: skips.length > 0 };
}

export function deviceProgram(rules: readonly DeviceProgramRule[]): BpfInsn[] {
  const program = prologue();
  for (let i = rules.length - 1; i >= 0; i--) {
    const { block, conditional } = ruleBlock(rules[i]);
    program.push(...block);
    // A rule that matches every request ends the program: the verifier refuses unreachable code.
    if (!conditional) return program;
  }
  program.push(...verdict(true));
  return program;
}

const INSN_SIZE = 8;

/** The program as an array of struct bpf_insn (u8 code, u8 dst_reg:4 src_reg:4, s16 off, s32 imm) in this host's byte order. */
export function encodeBpfProgram(program: readonly BpfInsn[]): Buffer {
  const little = endianness() === 'LE';
  const out = Buffer.alloc(program.length * INSN_SIZE);
  program.forEach((i, n) => {
    const at = n * INSN_SIZE;
    out.writeUInt8(i.code, at);
    // The register bitfields are allocated from the low bits on little-endian hosts, from the high bits on big-endian ones.
    out.writeUInt8(little ? (i.src << 4) | i.dst : (i.dst << 4) | i.src, at + 1);
    if (little) {
      out.writeInt16LE(i.off, at + 2);
      out.writeInt32LE(i.imm, at + 4);
    } else {
      out.writeInt16BE(i.off, at + 2);
      out.writeInt32BE(i.imm, at + 4);
    }
  });
  return out;
}
