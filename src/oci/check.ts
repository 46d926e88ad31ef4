/**
 * Small combinators that check the shape of parsed JSON and name the field that is wrong:
 * `process.args[1]: expected string, got number`. Pure. Used for config.json, process.json
 * and resources given to `update`.
 */
import { invalid } from '../common/errors.js';

export type Check = (v: unknown, at: string) => void;

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

export function fail(at: string, want: string, v: unknown): never {
  // An empty path is the document itself: say so rather than name no field at all.
  if (at === '') throw invalid(`the top level must be ${want === 'object' ? 'an object' : want}, got ${typeName(v)}`);
  throw invalid(`${at}: expected ${want}, got ${typeName(v)}`, at);
}

const join = (at: string, key: string) => (at ? `${at}.${key}` : key);

export const str: Check = (v, at) => {
  if (typeof v !== 'string') fail(at, 'string', v);
};
export const bool: Check = (v, at) => {
  if (typeof v !== 'boolean') fail(at, 'boolean', v);
};
export const int: Check = (v, at) => {
  if (typeof v !== 'number' || !Number.isInteger(v)) fail(at, 'integer', v);
};
export const uint: Check = (v, at) => {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) fail(at, 'non-negative integer', v);
};
export const uintBelow =
  (limit: number): Check =>
  (v, at) => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v >= limit) fail(at, `integer in 0..${limit - 1}`, v);
  };
export const arrayOf =
  (item: Check): Check =>
  (v, at) => {
    if (!Array.isArray(v)) fail(at, 'array', v);
    for (const [i, x] of v.entries()) item(x, `${at}[${i}]`);
  };
export const mapOf =
  (item: Check): Check =>
  (v, at) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(at, 'object', v);
    for (const [k, x] of Object.entries(v)) item(x, join(at, k));
  };
export const oneOf =
  (...allowed: string[]): Check =>
  (v, at) => {
    str(v, at);
    if (!allowed.includes(v as string)) throw invalid(`${at}: unknown value '${String(v)}' (expected one of ${allowed.join(', ')})`, at);
  };
export const nullable =
  (c: Check): Check =>
  (v, at) => {
    if (v !== null) c(v, at);
  };

/** An object with the given field checks; `required` fields must be present. Unknown fields pass. */
export function obj(fields: Record<string, Check>, required: string[] = []): Check {
  return (v, at) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(at, 'object', v);
    const o = v as Record<string, unknown>;
    for (const r of required) if (o[r] === undefined) throw invalid(`${join(at, r)}: required field is missing`, join(at, r));
    for (const [k, check] of Object.entries(fields)) if (o[k] !== undefined) check(o[k], join(at, k));
  };
}

/** Runs a check and prefixes its message with the file it is about (`config.json: …`). */
export function checkIn(file: string, check: Check, value: unknown, at = ''): void {
  try {
    check(value, at);
  } catch (err) {
    throw invalid(`${file}: ${(err as Error).message}`, (err as { object?: string }).object);
  }
}
