// config-linux.md#seccomp -> a profile in libseccomp's numbers (compiled into
// BPF by the addon in the parent) plus the kernel flags for seccomp(2).
import type { Seccomp } from '../spec/types.js';
import type { SeccompProgramSpec } from '../native/addon.js';
import { RuntimeError } from '../common/errors.js';

const EPERM = 1;

export const ARCHES: Record<string, string> = {
  SCMP_ARCH_X86: 'x86', SCMP_ARCH_X86_64: 'x86_64', SCMP_ARCH_X32: 'x32', SCMP_ARCH_ARM: 'arm',
  SCMP_ARCH_AARCH64: 'aarch64', SCMP_ARCH_MIPS: 'mips', SCMP_ARCH_MIPS64: 'mips64', SCMP_ARCH_MIPS64N32: 'mips64n32',
  SCMP_ARCH_MIPSEL: 'mipsel', SCMP_ARCH_MIPSEL64: 'mipsel64', SCMP_ARCH_MIPSEL64N32: 'mipsel64n32', SCMP_ARCH_PPC: 'ppc',
  SCMP_ARCH_PPC64: 'ppc64', SCMP_ARCH_PPC64LE: 'ppc64le', SCMP_ARCH_S390: 's390', SCMP_ARCH_S390X: 's390x',
  SCMP_ARCH_PARISC: 'parisc', SCMP_ARCH_PARISC64: 'parisc64', SCMP_ARCH_RISCV64: 'riscv64',
};

const OPS: Record<string, number> = {
  SCMP_CMP_NE: 1, SCMP_CMP_LT: 2, SCMP_CMP_LE: 3, SCMP_CMP_EQ: 4, SCMP_CMP_GE: 5, SCMP_CMP_GT: 6, SCMP_CMP_MASKED_EQ: 7,
};

/** Kernel flags for seccomp(SECCOMP_SET_MODE_FILTER). TSYNC is moot: the init is single-threaded. */
const FLAGS: Record<string, number> = {
  SECCOMP_FILTER_FLAG_TSYNC: 0,
  SECCOMP_FILTER_FLAG_LOG: 2,
  SECCOMP_FILTER_FLAG_SPEC_ALLOW: 4,
  SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV: 32,
};

export function seccompAction(name: string, errnoRet: number | undefined, pointer: string): number {
  const low16 = (n: number) => (n & 0xffff) >>> 0;
  switch (name) {
    case 'SCMP_ACT_KILL':
    case 'SCMP_ACT_KILL_THREAD':
      return 0x00000000;
    case 'SCMP_ACT_KILL_PROCESS':
      return 0x80000000;
    case 'SCMP_ACT_TRAP':
      return 0x00030000;
    case 'SCMP_ACT_ERRNO':
      return (0x00050000 | low16(errnoRet ?? EPERM)) >>> 0;
    case 'SCMP_ACT_TRACE':
      return (0x7ff00000 | low16(errnoRet ?? EPERM)) >>> 0;
    case 'SCMP_ACT_LOG':
      return 0x7ffc0000;
    case 'SCMP_ACT_ALLOW':
      return 0x7fff0000;
    case 'SCMP_ACT_NOTIFY':
      return 0x7fc00000;
    default:
      throw new RuntimeError({ step: 'build the seccomp filter', pointer, detail: `unknown seccomp action ${JSON.stringify(name)}` });
  }
}

export interface SeccompPlan {
  program: SeccompProgramSpec;
  flags: number;
  /** Rules use SCMP_ACT_NOTIFY: the init sends the listener fd to the runtime, which hands it to listenerPath. */
  notify: boolean;
}

export const SECCOMP_FILTER_FLAG_NEW_LISTENER = 8;

export function seccompProgram(s: Seccomp): SeccompPlan {
  const ptr = '/linux/seccomp';
  const program: SeccompProgramSpec = {
    defaultAction: seccompAction(s.defaultAction, s.defaultErrnoRet, `${ptr}/defaultAction`),
    architectures: (s.architectures ?? []).map((a, i) => {
      const name = ARCHES[a];
      if (!name) throw new RuntimeError({ step: 'build the seccomp filter', pointer: `${ptr}/architectures/${i}`, detail: `unknown architecture ${JSON.stringify(a)}` });
      return name;
    }),
    rules: (s.syscalls ?? []).map((rule, i) => ({
      names: rule.names,
      action: seccompAction(rule.action, rule.errnoRet, `${ptr}/syscalls/${i}/action`),
      args: (rule.args ?? []).map((a, j) => {
        const op = OPS[a.op];
        if (!op) throw new RuntimeError({ step: 'build the seccomp filter', pointer: `${ptr}/syscalls/${i}/args/${j}/op`, detail: `unknown operator ${JSON.stringify(a.op)}` });
        return { index: a.index, op, value: BigInt(a.value).toString(), valueTwo: BigInt(a.valueTwo ?? 0).toString() };
      }),
    })),
  };
  let flags = 0;
  (s.flags ?? []).forEach((f, i) => {
    if (!(f in FLAGS)) throw new RuntimeError({ step: 'build the seccomp filter', pointer: `${ptr}/flags/${i}`, detail: `unknown flag ${JSON.stringify(f)}` });
    flags |= FLAGS[f];
  });
  const notify = program.defaultAction === 0x7fc00000 || program.rules.some((r) => r.action === 0x7fc00000);
  if (notify && !s.listenerPath)
    throw new RuntimeError({ step: 'build the seccomp filter', pointer: `${ptr}/listenerPath`, detail: 'SCMP_ACT_NOTIFY needs a listenerPath' });
  if (notify && program.defaultAction === 0x7fc00000)
    throw new RuntimeError({ step: 'build the seccomp filter', pointer: `${ptr}/defaultAction`, detail: 'SCMP_ACT_NOTIFY cannot be the default action' });
  // The kernel hands the notify fd out only with SECCOMP_FILTER_FLAG_NEW_LISTENER.
  if (notify) flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
  return { program, flags, notify };
}
