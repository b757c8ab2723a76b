// The one place an error becomes an HTTP status: by its kind (src/common/errors.ts).
// Docker's body is {"message": ...}.
import type { ErrorKind } from '../../common/errors.js';

const STATUS_BY_KIND: Record<ErrorKind, number> = {
  'not-found': 404,
  exists: 409,
  'invalid-state': 409,
  'invalid-argument': 400,
  forbidden: 403,
  unavailable: 500,
  system: 500,
};

export function statusOf(e: unknown): number {
  const kind = (e as { kind?: ErrorKind } | null)?.kind;
  return kind && STATUS_BY_KIND[kind] ? STATUS_BY_KIND[kind] : 500;
}

export function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** A bad request parameter, named: the client's mistake, answered with 400. */
export class BadRequest extends Error {
  readonly kind = 'invalid-argument' as const;
}
