// An engine seccomp profile (the format of Docker's default profile and of
// containers-common's /usr/share/containers/seccomp.json: archMap, and rules
// with includes/excludes on capabilities, architectures and kernel versions)
// into the OCI `linux.seccomp` of one container, as dockerd does before it
// calls the runtime. The profile is a file from disk or a client's request,
// so it is checked field by field before use. Pure functions.
import { RuntimeError } from '../common/errors.js';
import type { Seccomp } from '../spec/types.js';

interface Condition {
  caps?: string[];
  arches?: string[];
  minKernel?: string;
}

interface Rule {
  names: string[];
  action: string;
  errnoRet?: number;
  args?: { index: number; value: number; valueTwo?: number; op: string }[];
  includes?: Condition;
  excludes?: Condition;
}

export interface EngineProfile {
  defaultAction: string;
  defaultErrnoRet?: number;
  archMap?: { architecture: string; subArchitectures?: string[] }[];
  /** Docker's older form: the architectures listed directly. */
  architectures?: string[];
  syscalls: Rule[];
}

/** Where a profile came from, for errors: its path, or `HostConfig.SecurityOpt`. */
function invalid(source: string, field: string, detail: string): RuntimeError {
  return new RuntimeError({ kind: 'invalid-argument', step: `read the seccomp profile ${source}`, detail: `${field}: ${detail}` });
}

const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function checkCondition(v: unknown, field: string, source: string): Condition | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isObject(v)) throw invalid(source, field, 'want an object');
  for (const k of ['caps', 'arches'] as const) if (v[k] !== undefined && v[k] !== null && !isStrings(v[k])) throw invalid(source, `${field}.${k}`, 'want an array of strings');
  if (v.minKernel !== undefined && v.minKernel !== null && (typeof v.minKernel !== 'string' || !/^\d+\.\d+/.test(v.minKernel))) throw invalid(source, `${field}.minKernel`, 'want a kernel version such as "5.8"');
  return { caps: (v.caps as string[] | null) ?? undefined, arches: (v.arches as string[] | null) ?? undefined, minKernel: (v.minKernel as string | null) ?? undefined };
}

/** The profile's JSON, checked: every field this conversion reads has its type, or the error names it. */
export function parseEngineProfile(text: string, source: string): EngineProfile {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw invalid(source, '(document)', `invalid JSON: ${(e as Error).message}`);
  }
  if (!isObject(doc)) throw invalid(source, '(document)', 'want a JSON object');
  if (typeof doc.defaultAction !== 'string' || !doc.defaultAction.startsWith('SCMP_ACT_')) throw invalid(source, 'defaultAction', 'want an SCMP_ACT_* action');
  if (doc.defaultErrnoRet !== undefined && doc.defaultErrnoRet !== null && !Number.isInteger(doc.defaultErrnoRet)) throw invalid(source, 'defaultErrnoRet', 'want an integer');
  const archMap = doc.archMap ?? undefined;
  if (archMap !== undefined && archMap !== null && !(Array.isArray(archMap) && archMap.every((a, i) => {
    if (!isObject(a) || typeof a.architecture !== 'string') throw invalid(source, `archMap[${i}].architecture`, 'want a string');
    if (a.subArchitectures !== undefined && a.subArchitectures !== null && !isStrings(a.subArchitectures)) throw invalid(source, `archMap[${i}].subArchitectures`, 'want an array of strings');
    return true;
  }))) throw invalid(source, 'archMap', 'want an array');
  if (doc.architectures !== undefined && doc.architectures !== null && !isStrings(doc.architectures)) throw invalid(source, 'architectures', 'want an array of strings');
  if (!Array.isArray(doc.syscalls)) throw invalid(source, 'syscalls', 'want an array');
  const syscalls = doc.syscalls.map((r: unknown, i: number): Rule => {
    const f = `syscalls[${i}]`;
    if (!isObject(r)) throw invalid(source, f, 'want an object');
    // Docker's older profiles name one syscall in `name`.
    const names = isStrings(r.names) ? r.names : typeof r.name === 'string' ? [r.name] : undefined;
    if (!names) throw invalid(source, `${f}.names`, 'want an array of strings');
    if (typeof r.action !== 'string' || !r.action.startsWith('SCMP_ACT_')) throw invalid(source, `${f}.action`, 'want an SCMP_ACT_* action');
    if (r.errnoRet !== undefined && r.errnoRet !== null && !Number.isInteger(r.errnoRet)) throw invalid(source, `${f}.errnoRet`, 'want an integer');
    const args = r.args ?? undefined;
    if (args !== undefined && args !== null) {
      if (!Array.isArray(args)) throw invalid(source, `${f}.args`, 'want an array');
      args.forEach((a, j) => {
        if (!isObject(a) || !Number.isInteger(a.index) || typeof a.value !== 'number' || typeof a.op !== 'string' || (a.valueTwo !== undefined && typeof a.valueTwo !== 'number')) {
          throw invalid(source, `${f}.args[${j}]`, 'want {index, value, valueTwo?, op}');
        }
      });
    }
    return {
      names, action: r.action,
      ...(typeof r.errnoRet === 'number' ? { errnoRet: r.errnoRet } : {}),
      ...(Array.isArray(args) && args.length ? { args: (args as Rule['args'])!.map((a) => ({ index: a.index, value: a.value, ...(a.valueTwo !== undefined ? { valueTwo: a.valueTwo } : {}), op: a.op })) } : {}),
      ...(checkCondition(r.includes, `${f}.includes`, source) ? { includes: checkCondition(r.includes, `${f}.includes`, source) } : {}),
      ...(checkCondition(r.excludes, `${f}.excludes`, source) ? { excludes: checkCondition(r.excludes, `${f}.excludes`, source) } : {}),
    };
  });
  return {
    defaultAction: doc.defaultAction,
    ...(typeof doc.defaultErrnoRet === 'number' ? { defaultErrnoRet: doc.defaultErrnoRet } : {}),
    ...(Array.isArray(archMap) ? { archMap: archMap as EngineProfile['archMap'] } : {}),
    ...(isStrings(doc.architectures) ? { architectures: doc.architectures } : {}),
    syscalls,
  };
}

/** Node's process.arch → the names profiles use (Go's GOARCH) and libseccomp's native architecture. */
export const ARCH: Record<string, { go: string; scmp: string }> = {
  x64: { go: 'amd64', scmp: 'SCMP_ARCH_X86_64' },
  arm64: { go: 'arm64', scmp: 'SCMP_ARCH_AARCH64' },
  ia32: { go: 'x86', scmp: 'SCMP_ARCH_X86' },
  arm: { go: 'arm', scmp: 'SCMP_ARCH_ARM' },
  s390x: { go: 's390x', scmp: 'SCMP_ARCH_S390X' },
  ppc64: { go: 'ppc64le', scmp: 'SCMP_ARCH_PPC64LE' },
  riscv64: { go: 'riscv64', scmp: 'SCMP_ARCH_RISCV64' },
};

/** "6.18.0-1-amd64" ≥ "5.8"? */
function kernelAtLeast(release: string, min: string): boolean {
  const [a = 0, b = 0] = release.split(/[.-]/).map(Number);
  const [c = 0, d = 0] = min.split('.').map(Number);
  return a > c || (a === c && b >= d);
}

export interface ProfileTarget {
  /** The container's bounding capabilities. */
  caps: string[];
  /** Node's process.arch. */
  arch: string;
  /** os.release(). */
  kernel: string;
}

/**
 * The OCI seccomp of one container: a rule applies when every capability it
 * includes is in the container's bounding set and none it excludes is, when the
 * architecture and kernel match; architectures from archMap for this machine.
 */
export function profileToOci(p: EngineProfile, t: ProfileTarget): Seccomp {
  const arch = ARCH[t.arch] ?? { go: t.arch, scmp: `SCMP_ARCH_${t.arch.toUpperCase()}` };
  const has = (c: string) => t.caps.includes(c);
  const applies = (r: Rule) => {
    const inc = r.includes;
    const exc = r.excludes;
    if (inc?.arches?.length && !inc.arches.includes(arch.go)) return false;
    if (exc?.arches?.includes(arch.go)) return false;
    if (inc?.caps?.length && !inc.caps.every(has)) return false;
    if (exc?.caps?.some(has)) return false;
    if (inc?.minKernel && !kernelAtLeast(t.kernel, inc.minKernel)) return false;
    if (exc?.minKernel && kernelAtLeast(t.kernel, exc.minKernel)) return false;
    return true;
  };
  const mapped = p.archMap?.find((a) => a.architecture === arch.scmp);
  const architectures = mapped ? [mapped.architecture, ...(mapped.subArchitectures ?? [])] : p.architectures ?? [arch.scmp];
  return {
    defaultAction: p.defaultAction,
    ...(p.defaultErrnoRet !== undefined ? { defaultErrnoRet: p.defaultErrnoRet } : {}),
    architectures,
    syscalls: p.syscalls.filter(applies).map((r) => ({
      names: r.names, action: r.action,
      ...(r.errnoRet !== undefined ? { errnoRet: r.errnoRet } : {}),
      ...(r.args ? { args: r.args } : {}),
    })),
  };
}
