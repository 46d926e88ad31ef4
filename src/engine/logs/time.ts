/**
 * The `since`, `until` and `tail` query parameters of `GET /containers/{id}/logs` as dockerd
 * reads them (moby daemon/logs.go, api/types/time ParseTimestamps), and the time Docker prints
 * before a line with `timestamps=1` (jsonmessage.RFC3339NanoFixed). Pure.
 *
 * The CLIs turn durations (`10m`) and RFC3339 times into `<seconds>.<nanoseconds>` before
 * sending, so dockerd accepts only numbers; we accept numbers exactly as it does, and
 * RFC3339 / RFC3339Nano as well (what a hand-written curl would send).
 */
import { BerthError } from '../../common/errors.js';
import { parseRfc3339 } from './entry.js';

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** Go's strconv.ParseInt(s, 10, 64), with its error text. */
function parseInt64(s: string): bigint {
  if (!/^[+-]?\d+$/.test(s)) throw new BerthError('invalid-argument', `strconv.ParseInt: parsing ${JSON.stringify(s)}: invalid syntax`);
  const n = BigInt(s);
  if (n < INT64_MIN || n > INT64_MAX)
    throw new BerthError('invalid-argument', `strconv.ParseInt: parsing ${JSON.stringify(s)}: value out of range`);
  return n;
}

/**
 * A `since` / `until` value in nanoseconds since the epoch: `<seconds>[.<fraction>]` as moby's
 * parseTimestamp reads it (the fraction scaled to nanoseconds by its length, so `.5` is half a
 * second), or an RFC3339 time. Throws an invalid-argument BerthError otherwise.
 */
export function parseTimestamp(value: string): bigint {
  if (value.includes('-') && value.includes('T')) {
    const ns = parseRfc3339(value);
    if (ns !== undefined) return ns;
  }
  const dot = value.indexOf('.');
  const sec = parseInt64(dot < 0 ? value : value.slice(0, dot));
  if (dot < 0) return sec * 1_000_000_000n;
  const fracText = value.slice(dot + 1);
  const frac = parseInt64(fracText);
  // moby: int64(float64(n) * 10^(9-len(n))); exact for up to 9 digits, float beyond, as there.
  const nsec =
    fracText.length <= 9 ? frac * 10n ** BigInt(9 - fracText.length) : BigInt(Math.trunc(Number(frac) * 10 ** (9 - fracText.length)));
  return sec * 1_000_000_000n + nsec;
}

/** The query's `since`: none when absent or empty. */
export function parseSince(value: string | undefined): bigint | undefined {
  return value === undefined || value === '' ? undefined : parseTimestamp(value);
}

/** The query's `until`: none when absent, empty or "0" (moby treats "0" as no limit). */
export function parseUntil(value: string | undefined): bigint | undefined {
  return value === undefined || value === '' || value === '0' ? undefined : parseTimestamp(value);
}

/**
 * The query's `tail`: a count of entries, or -1 for all. Like dockerd (strconv.Atoi, -1 on any
 * error), anything that is not an integer — `all`, empty, garbage — means all, and so does a
 * negative number.
 */
export function parseTail(value: string | undefined): number {
  if (value === undefined || !/^[+-]?\d+$/.test(value)) return -1;
  const n = BigInt(value);
  if (n < 0n || n > INT64_MAX) return -1;
  return n > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(n);
}

/** Go's `time.Format(RFC3339NanoFixed)` in UTC: always nine fraction digits, `Z`. */
export function formatDockerTime(ns: bigint): string {
  let sec = ns / 1_000_000_000n;
  let frac = ns % 1_000_000_000n;
  if (frac < 0n) {
    frac += 1_000_000_000n;
    sec -= 1n;
  }
  const iso = new Date(Number(sec) * 1000).toISOString(); // 2026-11-29T08:31:11.000Z
  return `${iso.slice(0, iso.length - 5)}.${frac.toString().padStart(9, '0')}Z`;
}
