// What the launch and exec plans need from this process besides the config:
// the seccomp filter compiled to BPF (libseccomp runs here, never in the
// child) and the host's highest capability number.
import { readFileSync } from 'node:fs';
import type { Spec } from '../spec/types.js';
import { seccompProgram } from '../linux/seccomp.js';
import { addon } from '../native/addon.js';
import { RuntimeError } from '../common/errors.js';

export interface CompiledSeccomp {
  bpf: Buffer;
  flags: number;
  /** The filter has SCMP_ACT_NOTIFY rules: the init sends a listener fd (seccompHandoff.ts). */
  notify: boolean;
}

/** Compiles the config's seccomp filter in this process (libseccomp), or undefined. */
export function compileSeccomp(spec: Spec, onWarning?: (m: string) => void): CompiledSeccomp | undefined {
  if (!spec.linux?.seccomp) return undefined;
  const { program, flags, notify } = seccompProgram(spec.linux.seccomp);
  let compiled;
  try {
    compiled = addon().compileSeccomp(program);
  } catch (e) {
    throw RuntimeError.fromSystem('compile the seccomp filter', e, { pointer: '/linux/seccomp' });
  }
  // Like runc: a syscall this libseccomp does not know is skipped, and said.
  if (compiled.skipped.length) onWarning?.(`seccomp: syscalls unknown to libseccomp were skipped: ${[...new Set(compiled.skipped)].join(', ')}`);
  return { bpf: compiled.bpf, flags, notify };
}

/** The kernel's last capability (40 when /proc does not say). */
export function capLastCap(): number {
  try {
    return Number(readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8').trim());
  } catch {
    return 40;
  }
}
