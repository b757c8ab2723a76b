// The one error shape used from the native helper up to the CLI and the --log JSON:
// what was attempted (step), by which syscall, with which errno, on what path,
// and which config field (JSON pointer) led there. Messages show the pointer
// as a dotted path: `mount proc on "/proc" (config .mounts[0]): mount: EPERM: ...`.
import { pointerToPath } from '../spec/jsonPointer.js';

export interface RuntimeErrorFields {
  step: string;
  syscall?: string;
  errno?: string;
  path?: string;
  pointer?: string;
  detail?: string;
}

export class RuntimeError extends Error {
  readonly step: string;
  readonly syscall?: string;
  readonly errno?: string;
  readonly path?: string;
  readonly pointer?: string;
  readonly detail?: string;

  constructor(fields: RuntimeErrorFields) {
    super(formatRuntimeError(fields));
    this.name = 'RuntimeError';
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
