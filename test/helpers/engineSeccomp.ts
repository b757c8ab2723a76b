// Converts an engine's seccomp profile (containers-common / Docker format, with
// archMap and includes/excludes) into the OCI form an engine passes to the
// runtime — what podman and dockerd do before they call tsrun.
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Seccomp } from '../../src/spec/types.js';

export const ENGINE_PROFILE = process.env.TSRUN_ENGINE_SECCOMP ?? resolve(import.meta.dirname, '../../test-work/containers-seccomp.json');
export const haveEngineProfile = existsSync(ENGINE_PROFILE);

interface EngineRule {
  names: string[];
  action: string;
  errnoRet?: number;
  args?: Array<{ index: number; value: number; valueTwo?: number; op: string }>;
  includes?: { caps?: string[]; arches?: string[]; minKernel?: string };
  excludes?: { caps?: string[]; arches?: string[] };
}

export function engineProfileToOci(caps: string[], arch = 'amd64'): Seccomp {
  const doc = JSON.parse(readFileSync(ENGINE_PROFILE, 'utf8'));
  const native = arch === 'amd64' ? 'SCMP_ARCH_X86_64' : `SCMP_ARCH_${arch.toUpperCase()}`;
  const archEntry = (doc.archMap ?? []).find((a: { architecture: string }) => a.architecture === native);
  const has = (c: string) => caps.includes(c);
  const syscalls = (doc.syscalls as EngineRule[]).filter((r) => {
    if (r.includes?.arches?.length && !r.includes.arches.includes(arch)) return false;
    if (r.excludes?.arches?.includes(arch)) return false;
    if (r.includes?.caps?.length && !r.includes.caps.every(has)) return false;
    if (r.excludes?.caps?.some(has)) return false;
    return true;
  }).map((r) => ({ names: r.names, action: r.action, ...(r.errnoRet !== undefined ? { errnoRet: r.errnoRet } : {}), ...(r.args?.length ? { args: r.args } : {}) }));
  return {
    defaultAction: doc.defaultAction,
    ...(doc.defaultErrnoRet !== undefined ? { defaultErrnoRet: doc.defaultErrnoRet } : {}),
    architectures: archEntry ? [archEntry.architecture, ...(archEntry.subArchitectures ?? [])] : [native],
    syscalls,
  };
}
