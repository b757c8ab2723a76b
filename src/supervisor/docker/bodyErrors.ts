// A request body refused by its build-time validator (src/supervisor/schemas,
// compiled by scripts/generate.mjs) as dockerd refuses it: a 400 whose message
// is Go's encoding/json type error, naming the field by its path from the body
// and the Go type it decodes into (the schema's x-go-type).
import type { ErrorObject } from 'ajv';
import { BadRequest } from '../http/errors.js';
import type { BodyValidator } from '../generated/bodyValidators.js';

/** Go's name for a JSON value's kind ("number 1.5" as Go writes a number that did not fit). */
function jsonKind(v: unknown): string {
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return Number.isInteger(v) ? 'number' : `number ${v}`;
  if (Array.isArray(v)) return 'array';
  return v === null ? 'null' : 'object';
}

/** The field path as Go reports it: JSON pointer segments joined by dots, array indices left out. */
export function fieldPath(instancePath: string): string {
  return instancePath.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~')).filter((s) => !/^\d+$/.test(s)).join('.');
}

export function refusal(e: ErrorObject, struct: string): BadRequest {
  const path = fieldPath(e.instancePath);
  const goType = (e.parentSchema as { 'x-go-type'?: string } | undefined)?.['x-go-type'];
  if (e.keyword === 'type' && goType) {
    const where = path ? `Go struct field ${struct}.${path}` : 'Go value';
    return new BadRequest(`json: cannot unmarshal ${jsonKind(e.data)} into ${where} of type ${path ? goType : `${goType}`}`);
  }
  // Not a type error (a bound, an array length): the field and what the schema says.
  return new BadRequest(`${path || 'request body'}: ${e.message ?? 'invalid'}`);
}

/** Checks `body` against `validate`; the first problem is thrown as Docker's 400. */
export function checkBody<T>(validate: BodyValidator, body: unknown, struct: string): T {
  if (!validate(body)) throw refusal(validate.errors![0], struct);
  return body as T;
}
