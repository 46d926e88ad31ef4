/**
 * Query parsing as moby's httputils does it: pure functions over URLSearchParams, used by the
 * request object (request.ts) and testable on their own.
 */
import { BerthError } from '../common/errors.js';

/** httputils.BoolValue: false for "", 0, no, false, none (any case); anything else is true. */
export function parseBool(query: URLSearchParams, name: string, dflt = false): boolean {
  const raw = query.get(name);
  if (raw === null) return dflt;
  const s = raw.trim().toLowerCase();
  return !(s === '' || s === '0' || s === 'no' || s === 'false' || s === 'none');
}

/** An integer parameter; absent or empty gives the default; anything else not an integer is a 400. */
export function parseInteger(query: URLSearchParams, name: string, dflt?: number): number | undefined {
  const raw = query.get(name);
  if (raw === null || raw.trim() === '') return dflt;
  const s = raw.trim();
  if (!/^[+-]?[0-9]+$/.test(s)) {
    throw new BerthError('invalid-argument', `invalid value for ${name}: ${JSON.stringify(raw)} is not an integer`);
  }
  const n = Number(s);
  if (!Number.isSafeInteger(n)) throw new BerthError('invalid-argument', `invalid value for ${name}: ${raw} is out of range`);
  return n;
}

const invalidFilter = (why: string) => new BerthError('invalid-argument', `invalid filter: ${why}`);

/**
 * `filters` in either of moby's JSON forms: `{"name":{"c7":true}}` (current; every key of the
 * inner map counts, as filters.Args.Get returns them) or the legacy `{"name":["c7"]}`.
 */
export function parseFilters(raw: string | null): Map<string, string[]> {
  const out = new Map<string, string[]>();
  if (raw === null || raw.trim() === '') return out;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (err) {
    throw invalidFilter((err as Error).message);
  }
  if (parsed === null) return out;
  if (typeof parsed !== 'object' || Array.isArray(parsed)) throw invalidFilter('expected a JSON object');
  for (const [key, value] of Object.entries(parsed as Record<string, unknown>)) {
    let values: string[];
    if (Array.isArray(value)) {
      if (!value.every((v) => typeof v === 'string')) throw invalidFilter(`the values of '${key}' must be strings`);
      values = value as string[];
    } else if (value !== null && typeof value === 'object') {
      if (!Object.values(value).every((v) => typeof v === 'boolean')) {
        throw invalidFilter(`the values of '${key}' must map to booleans`);
      }
      values = Object.keys(value);
    } else if (value === null) {
      values = [];
    } else {
      throw invalidFilter(`'${key}' must be an object or an array`);
    }
    out.set(key, values);
  }
  return out;
}
