/**
 * Sizes, durations and times as the docker CLI prints and parses them: docker/go-units
 * (HumanSize, BytesSize, HumanDuration, FromHumanSize, RAMInBytes), Go's time.ParseDuration
 * and Duration.String, and the container status texts the daemon builds ("Up 3 seconds",
 * "Exited (0) 5 minutes ago").
 */
import { formatFloat, quote } from './template/gofmt.js';

const decimalAbbrs = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'];
const binaryAbbrs = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB', 'ZiB', 'YiB'];

function sizeAndUnit(size: number, base: number, units: string[]): [number, string] {
  let i = 0;
  while (size >= base && i < units.length - 1) {
    size /= base;
    i++;
  }
  return [size, units[i] as string];
}

/** units.HumanSizeWithPrecision: decimal units, `%.*g` (ps, images, history use precision 3: "1.23MB"). */
export function humanSizeWithPrecision(size: number, precision: number): string {
  const [s, unit] = sizeAndUnit(size, 1000, decimalAbbrs);
  return formatFloat(s, 'g', precision) + unit;
}

/** units.HumanSize: decimal units with 4 significant digits ("1.235MB", "5.2kB"). */
export function humanSize(size: number): string {
  return humanSizeWithPrecision(size, 4);
}

/** units.BytesSize: binary units with 4 significant digits ("1.5MiB"). */
export function bytesSize(size: number): string {
  const [s, unit] = sizeAndUnit(size, 1024, binaryAbbrs);
  return formatFloat(s, 'g', 4) + unit;
}

/** units.HumanDuration of a duration in milliseconds: "Less than a second", "About a minute", "3 hours". */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  if (seconds < 1) return 'Less than a second';
  if (seconds === 1) return '1 second';
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.trunc(ms / 60_000);
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.trunc(ms / 3_600_000 + 0.5);
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.trunc(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.trunc(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24 / 30)} months`;
  return `${Math.trunc(Math.trunc(ms / 3_600_000) / 24 / 365)} years`;
}

/** "3 hours ago", from a Unix time in seconds (the CLI's CREATED column: RunningFor, CreatedSince). */
export function timeAgo(unixSeconds: number, nowMs = Date.now()): string {
  return `${humanDuration(nowMs - unixSeconds * 1000)} ago`;
}

/** A size parse failure, with go-units' or strconv's message. */
export class SizeError extends Error {
  override readonly name = 'SizeError';
}

const decimalMap: Record<string, number> = { k: 1e3, m: 1e6, g: 1e9, t: 1e12, p: 1e15 };
const binaryMap: Record<string, number> = { k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40, p: 2 ** 50 };

/** strconv.ParseFloat's accepted syntax (decimal, with an exponent; inf/nan aside). */
function parseFloatGo(num: string): number {
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(num)) {
    throw new SizeError(`strconv.ParseFloat: parsing ${quote(num)}: invalid syntax`);
  }
  const v = Number(num);
  if (!Number.isFinite(v)) throw new SizeError(`strconv.ParseFloat: parsing ${quote(num)}: value out of range`);
  return v;
}

function parseSize(sizeStr: string, map: Record<string, number>): number {
  let sep = -1;
  for (let i = sizeStr.length - 1; i >= 0; i--) {
    if ('01234567890. '.includes(sizeStr[i] as string)) {
      sep = i;
      break;
    }
  }
  if (sep === -1) throw new SizeError(`invalid size: '${sizeStr}'`);
  const num = sizeStr[sep] !== ' ' ? sizeStr.slice(0, sep + 1) : sizeStr.slice(0, sep);
  let sfx = sizeStr.slice(sep + 1);
  let size = parseFloatGo(num);
  if (size < 0) throw new SizeError(`invalid size: '${sizeStr}'`);
  const toInt = (x: number) => (x >= 2 ** 63 ? -(2 ** 63) : Math.trunc(x));
  if (sfx.length === 0) return toInt(size);
  const bad = () => new SizeError(`invalid suffix: '${sfx}'`);
  if (Buffer.byteLength(sfx) > 3) throw bad();
  sfx = sfx.toLowerCase();
  if (sfx[0] === 'b') {
    if (sfx.length > 1) throw bad();
    return toInt(size);
  }
  const mul = map[sfx[0] as string];
  if (mul === undefined || !Object.hasOwn(map, sfx[0] as string)) throw bad();
  size *= mul;
  if ((sfx.length === 2 && sfx[1] !== 'b') || (sfx.length === 3 && sfx.slice(1) !== 'ib')) throw bad();
  return toInt(size);
}

/** units.FromHumanSize: "32kb" → 32000 (decimal). Throws SizeError with go-units' text. */
export function fromHumanSize(size: string): number {
  return parseSize(size, decimalMap);
}

/** units.RAMInBytes: "64m" → 67108864 (binary), as --memory, --shm-size parse. */
export function ramInBytes(size: string): number {
  return parseSize(size, binaryMap);
}

// ---- Go durations ----

const durationUnits: Record<string, number> = {
  ns: 1,
  us: 1e3,
  µs: 1e3, // U+00B5
  μs: 1e3, // U+03BC
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

/** A time.ParseDuration failure, with Go's text (`time: invalid duration "x"`). */
export class DurationError extends Error {
  override readonly name = 'DurationError';
}

/** time.ParseDuration: "1h30m", "10s", "1.5s", "-2m" → nanoseconds. */
export function parseDuration(orig: string): number {
  let s = orig;
  let neg = false;
  const invalid = () => new DurationError(`time: invalid duration ${quote(orig)}`);
  if (s !== '' && (s[0] === '-' || s[0] === '+')) {
    neg = s[0] === '-';
    s = s.slice(1);
  }
  if (s === '0') return 0;
  if (s === '') throw invalid();
  let d = 0n;
  const max = 1n << 63n;
  while (s !== '') {
    if (!(s[0] === '.' || ((s[0] as string) >= '0' && (s[0] as string) <= '9'))) throw invalid();
    const intPart = /^\d*/.exec(s)?.[0] ?? '';
    s = s.slice(intPart.length);
    let v = intPart === '' ? 0n : BigInt(intPart);
    if (v > max) throw invalid();
    let frac = '';
    let post = false;
    if (s[0] === '.') {
      s = s.slice(1);
      frac = /^\d*/.exec(s)?.[0] ?? '';
      s = s.slice(frac.length);
      post = frac.length > 0;
    }
    if (intPart === '' && !post) throw invalid();
    let i = 0;
    while (i < s.length && !(s[i] === '.' || ((s[i] as string) >= '0' && (s[i] as string) <= '9'))) i++;
    if (i === 0) throw new DurationError(`time: missing unit in duration ${quote(orig)}`);
    const u = s.slice(0, i);
    s = s.slice(i);
    const unit = durationUnits[u];
    if (unit === undefined || !Object.hasOwn(durationUnits, u)) {
      throw new DurationError(`time: unknown unit ${quote(u)} in duration ${quote(orig)}`);
    }
    const ub = BigInt(unit);
    if (v > max / ub) throw invalid();
    v *= ub;
    // Go's leadingFraction stops adding digits before its integer overflows.
    const f = frac.slice(0, 18);
    if (f.length > 0) {
      v += BigInt(Math.trunc(Number(f) * (unit / 10 ** f.length)));
      if (v > max) throw invalid();
    }
    d += v;
    if (d > max) throw invalid();
  }
  if (neg) return -Number(d);
  if (d > max - 1n) throw invalid();
  return Number(d);
}

/** time.Duration.String: 90e9 → "1m30s", 1.5e6 → "1.5ms", 0 → "0s". */
export function formatDuration(ns: number): string {
  if (ns === 0) return '0s';
  const neg = ns < 0;
  let u = BigInt(Math.abs(Math.round(ns)));
  const sign = neg ? '-' : '';
  const fracStr = (v: bigint, prec: number): [string, bigint] => {
    // The low prec digits of v as a fraction without trailing zeros, and v without them.
    let digits = '';
    let print = false;
    for (let i = 0; i < prec; i++) {
      const digit = v % 10n;
      print = print || digit !== 0n;
      if (print) digits = digit.toString() + digits;
      v /= 10n;
    }
    return [print ? `.${digits}` : '', v];
  };
  if (u < 1_000_000_000n) {
    let prec: number;
    let unit: string;
    if (u < 1000n) return `${sign}${u}ns`;
    if (u < 1_000_000n) {
      prec = 3;
      unit = 'µs';
    } else {
      prec = 6;
      unit = 'ms';
    }
    const [frac, int] = fracStr(u, prec);
    return `${sign}${int}${frac}${unit}`;
  }
  const [frac, secs] = fracStr(u, 9);
  u = secs;
  let out = `${u % 60n}${frac}s`;
  u /= 60n;
  if (u > 0n) {
    out = `${u % 60n}m${out}`;
    u /= 60n;
    if (u > 0n) out = `${u}h${out}`;
  }
  return sign + out;
}

// ---- times ----

const pad2 = (n: number) => String(n).padStart(2, '0');

/** The zone's abbreviation as Intl knows it (Go reads zoneinfo's, e.g. "CET"; Intl may say "GMT+1"). */
function zoneName(d: Date): string {
  const parts = new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' }).formatToParts(d);
  return parts.find((p) => p.type === 'timeZoneName')?.value ?? 'UTC';
}

/**
 * time.Time.String() of a Unix time in the local zone, as CreatedAt columns print it:
 * "2024-01-02 15:04:05 +0000 UTC".
 */
export function goTimeString(unixSeconds: number): string {
  const d = new Date(unixSeconds * 1000);
  const off = -d.getTimezoneOffset();
  const sign = off < 0 ? '-' : '+';
  const a = Math.abs(off);
  const date = `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())}`;
  const time = `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
  const zone = off === 0 && !process.env.TZ ? 'UTC' : zoneName(d);
  return `${date} ${time} ${sign}${pad2(Math.trunc(a / 60))}${pad2(a % 60)} ${zone}`;
}

/** time.Time.Format(time.RFC3339) of a Unix time in the local zone: "2024-01-02T15:04:05Z". */
export function rfc3339(unixSeconds: number): string {
  const d = new Date(unixSeconds * 1000);
  const off = -d.getTimezoneOffset();
  const date = `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())}`;
  const time = `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
  if (off === 0) return `${date}T${time}Z`;
  const a = Math.abs(off);
  return `${date}T${time}${off < 0 ? '-' : '+'}${pad2(Math.trunc(a / 60))}:${pad2(a % 60)}`;
}

// ---- container status ----

/** The parts of a container's state the status text is built from (the Engine's State object). */
export interface StatusState {
  Running?: boolean;
  Paused?: boolean;
  Restarting?: boolean;
  Dead?: boolean;
  RemovalInProgress?: boolean;
  ExitCode?: number;
  /** RFC 3339; Go's zero time ("0001-01-01T00:00:00Z") or absent means never. */
  StartedAt?: string;
  FinishedAt?: string;
  Health?: { Status?: string } | null;
}

const isZeroTime = (t: string | undefined) => !t || t.startsWith('0001-01-01');

/**
 * The daemon's State.String(): "Up 3 seconds", "Up 2 hours (Paused)", "Up 5 minutes (healthy)",
 * "Restarting (1) 2 seconds ago", "Exited (0) 5 minutes ago", "Created", "Dead",
 * "Removal In Progress". The Engine sends it as the list's Status; berthd builds it with this.
 */
export function containerStatus(s: StatusState, nowMs = Date.now()): string {
  const since = (t: string | undefined) => humanDuration(nowMs - Date.parse(t ?? ''));
  if (s.Running) {
    if (s.Paused) return `Up ${since(s.StartedAt)} (Paused)`;
    if (s.Restarting) return `Restarting (${s.ExitCode ?? 0}) ${since(s.FinishedAt)} ago`;
    const h = s.Health?.Status;
    if (h) return `Up ${since(s.StartedAt)} (${h === 'starting' ? 'health: starting' : h})`;
    return `Up ${since(s.StartedAt)}`;
  }
  if (s.RemovalInProgress) return 'Removal In Progress';
  if (s.Dead) return 'Dead';
  if (isZeroTime(s.StartedAt)) return 'Created';
  if (isZeroTime(s.FinishedAt)) return '';
  return `Exited (${s.ExitCode ?? 0}) ${since(s.FinishedAt)} ago`;
}
