// The one error shape used from the native helper up to the CLI and the --log JSON:
// what was attempted (step), by which syscall, with which errno, on what path,
// and which config field (JSON pointer) led there. Messages show the pointer
// as a dotted path: `mount proc on "/proc" (config .mounts[0]): mount: EPERM: ...`.
// Its `kind` lets a caller (an HTTP API: 404, 409, 400, 503, 500) tell cases
// apart without matching strings.
import { pointerToPath } from './jsonPointer.js';

export type ErrorKind = 'not-found' | 'exists' | 'invalid-state' | 'invalid-argument' | 'unavailable' | 'forbidden' | 'system';

const KIND_BY_ERRNO: Record<string, ErrorKind> = {
  ENOENT: 'not-found', ESRCH: 'not-found',
  EEXIST: 'exists',
  EBUSY: 'invalid-state',
  EINVAL: 'invalid-argument', E2BIG: 'invalid-argument', ENAMETOOLONG: 'invalid-argument', EBADF: 'invalid-argument',
  ECONNREFUSED: 'unavailable', ECONNRESET: 'unavailable', ETIMEDOUT: 'unavailable', EHOSTUNREACH: 'unavailable',
  ENETUNREACH: 'unavailable', EAI_AGAIN: 'unavailable', ENOTFOUND: 'unavailable',
};

/** The kind an error without an explicit one has: from its errno, else a config field means bad input. */
export function inferKind(f: { errno?: string; pointer?: string }): ErrorKind {
  if (f.errno && KIND_BY_ERRNO[f.errno]) return KIND_BY_ERRNO[f.errno];
  if (!f.errno && f.pointer) return 'invalid-argument';
  return 'system';
}

export interface RuntimeErrorFields {
  /** Set where the error is made when errno alone does not tell it (see inferKind). */
  kind?: ErrorKind;
  step: string;
  syscall?: string;
  errno?: string;
  path?: string;
  pointer?: string;
  detail?: string;
}

export class RuntimeError extends Error {
  readonly kind: ErrorKind;
  readonly step: string;
  readonly syscall?: string;
  readonly errno?: string;
  readonly path?: string;
  readonly pointer?: string;
  readonly detail?: string;

  constructor(fields: RuntimeErrorFields) {
    super(formatRuntimeError(fields));
    this.name = 'RuntimeError';
    this.kind = fields.kind ?? inferKind(fields);
    this.step = fields.step;
    this.syscall = fields.syscall;
    this.errno = fields.errno;
    this.path = fields.path;
    this.pointer = fields.pointer;
    this.detail = fields.detail;
  }

  /** Wraps a Node fs/system error, keeping its errno name and path. */
  static fromSystem(step: string, err: unknown, extra: Partial<RuntimeErrorFields> = {}): RuntimeError {
    if (err instanceof RuntimeError) return err;
    const e = err as NodeJS.ErrnoException;
    return new RuntimeError({
      kind: extra.kind,
      step,
      syscall: extra.syscall ?? e?.syscall,
      errno: extra.errno ?? e?.code,
      path: extra.path ?? e?.path,
      pointer: extra.pointer,
      detail: extra.detail ?? (e?.code ? systemMessage(e) : String(e?.message ?? err)),
    });
  }
}

function systemMessage(e: NodeJS.ErrnoException): string {
  // Node's messages repeat code, syscall and path; keep only the strerror part.
  const m = /^[A-Z0-9_]+: ([^,]+)/.exec(e.message ?? '');
  return m ? m[1] : (e.message ?? '');
}

export function formatRuntimeError(f: RuntimeErrorFields): string {
  let s = f.step;
  if (f.path) s += ` ${JSON.stringify(f.path)}`;
  if (f.pointer) s += ` (config ${pointerToPath(f.pointer)})`;
  const cause: string[] = [];
  if (f.syscall) cause.push(f.syscall);
  if (f.errno) cause.push(f.errno);
  if (f.detail) cause.push(f.detail);
  if (cause.length) s += `: ${cause.join(': ')}`;
  return s;
}
