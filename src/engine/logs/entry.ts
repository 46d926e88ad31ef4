/**
 * One entry of a json-file log (docs/shim-protocol.md "The log"): the line as berth-shim (or
 * dockerd) wrote it, decoded. Pure.
 */

export type LogStream = 'stdout' | 'stderr';

export interface LogEntry {
  stream: LogStream;
  /** The `time` field exactly as written (RFC3339Nano, nanoseconds kept). */
  time: string;
  /** The same instant in nanoseconds since the epoch. */
  timeNs: bigint;
  /** The output bytes of the entry: a whole line with its '\n', or a partial one without. */
  line: Buffer;
}

const RFC3339 = /^(\d{4})-(\d\d)-(\d\d)[Tt](\d\d):(\d\d):(\d\d)(?:\.(\d+))?(?:([Zz])|([+-])(\d\d):(\d\d))$/;

/**
 * Nanoseconds since the epoch of an RFC3339 / RFC3339Nano time (Go's time.Parse with either
 * layout: a fraction of any length is accepted and cut to nanoseconds), or undefined.
 */
export function parseRfc3339(s: string): bigint | undefined {
  const m = RFC3339.exec(s);
  if (!m) return undefined;
  const [y, mo, d, h, mi, sec] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || sec > 59) return undefined;
  // setUTCFullYear, not Date.UTC: Date.UTC maps years 0..99 to 1900..1999.
  const date = new Date(0);
  date.setUTCFullYear(y, mo - 1, d);
  if (date.getUTCDate() !== d) return undefined; // 2026-02-30
  const days = BigInt(Math.round(date.getTime() / 86_400_000));
  const frac = BigInt(((m[7] ?? '') + '000000000').slice(0, 9));
  let ns = ((days * 24n + BigInt(h)) * 60n + BigInt(mi)) * 60n + BigInt(sec);
  ns = ns * 1_000_000_000n + frac;
  if (m[9]) {
    const oh = Number(m[10]);
    const om = Number(m[11]);
    if (oh > 23 || om > 59) return undefined;
    const off = BigInt(oh * 60 + om) * 60_000_000_000n;
    ns = m[9] === '+' ? ns - off : ns + off;
  }
  return ns;
}

/** Decodes one line of the file (without its '\n'); undefined for anything that is not an entry. */
export function decodeEntry(raw: Buffer): LogEntry | undefined {
  let v: unknown;
  try {
    v = JSON.parse(raw.toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null) return undefined;
  const { log, stream, time } = v as Record<string, unknown>;
  if (typeof log !== 'string' || (stream !== 'stdout' && stream !== 'stderr') || typeof time !== 'string') return undefined;
  const timeNs = parseRfc3339(time);
  if (timeNs === undefined) return undefined;
  return { stream, time, timeNs, line: Buffer.from(log, 'utf8') };
}
