/**
 * The value syntaxes of `docker run`/`create` flags, as the Go libraries the docker CLI uses
 * parse them (go-units RAMInBytes and ParseUlimit, math/big's Rat for --cpus, time.ParseDuration,
 * net.ParseIP/ParseMAC, go-connections/nat port specs, the compose volume-spec parser). Pure;
 * each parser throws a plain Error carrying the Go library's message, which options.ts wraps the
 * way the CLI does (`invalid argument "x" for "-m, --memory" flag: …` or `docker: …`).
 */

/**
 * obj[key] = value as an own data property, even for `__proto__`: the keys come from the command
 * line (`-l __proto__=x` is a label like any other, and must not touch the object's prototype).
 */
export function setKey<T>(obj: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

/** go-units RAMInBytes: `512m`, `1.5g`, `10`, `1KiB`; binary multiples; no negatives. */
export function ramInBytes(size: string): number {
  let sep = -1;
  for (let i = size.length - 1; i >= 0; i--) {
    if ('01234567890. '.includes(size[i] as string)) {
      sep = i;
      break;
    }
  }
  if (sep === -1) throw new Error(`invalid size: '${size}'`);
  let num: string;
  let sfx: string;
  if (size[sep] !== ' ') {
    num = size.slice(0, sep + 1);
    sfx = size.slice(sep + 1);
  } else {
    num = size.slice(0, sep);
    sfx = size.slice(sep + 1);
  }
  let value = parseGoFloat(num);
  if (value < 0) throw new Error(`invalid size: '${size}'`);
  if (sfx.length === 0) return toInt64(value);
  const bad = (): never => {
    throw new Error(`invalid suffix: '${sfx.toLowerCase()}'`);
  };
  if (sfx.length > 3) bad();
  sfx = sfx.toLowerCase();
  if (sfx[0] === 'b') {
    if (sfx.length > 1) bad();
    return toInt64(value);
  }
  const mul = { k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 }[sfx[0] as string];
  if (mul === undefined) return bad();
  value *= mul;
  if ((sfx.length === 2 && sfx[1] !== 'b') || (sfx.length === 3 && sfx.slice(1) !== 'ib')) bad();
  return toInt64(value);
}

/** Go's int64(f) on amd64: truncation, and the minimum int64 when f is out of range. */
function toInt64(f: number): number {
  return f >= 2 ** 63 || f < -(2 ** 63) || Number.isNaN(f) ? -(2 ** 63) : Math.trunc(f);
}

/** strconv.ParseFloat(s, 64) for the decimal forms; Go's message on failure. */
export function parseGoFloat(s: string): number {
  if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s)) {
    const v = Number(s);
    if (!Number.isFinite(v)) throw new Error(`strconv.ParseFloat: parsing ${goQuote(s)}: value out of range`);
    return v;
  }
  if (/^[+-]?(inf|infinity)$/i.test(s)) return s.startsWith('-') ? -Infinity : Infinity;
  if (/^[+-]?nan$/i.test(s)) return Number.NaN;
  throw new Error(`strconv.ParseFloat: parsing ${goQuote(s)}: invalid syntax`);
}

/** strconv.ParseInt(s, 10, 64) / ParseUint with Go's messages; returns a JS number. */
export function parseGoInt(s: string, fn = 'ParseInt', bits = 64, unsigned = false): number {
  const ok = unsigned ? /^\+?[0-9]+$/.test(s) : /^[+-]?[0-9]+$/.test(s);
  if (!ok || (unsigned && s.startsWith('+'))) {
    throw new Error(`strconv.${fn}: parsing ${goQuote(s)}: invalid syntax`);
  }
  const v = BigInt(s);
  const max = unsigned ? (1n << BigInt(bits)) - 1n : (1n << BigInt(bits - 1)) - 1n;
  const min = unsigned ? 0n : -(1n << BigInt(bits - 1));
  if (v > max || v < min) throw new Error(`strconv.${fn}: parsing ${goQuote(s)}: value out of range`);
  return Number(v);
}

/** strconv.Atoi's message (it reports itself as Atoi). */
export function atoi(s: string): number {
  return parseGoInt(s, 'Atoi');
}

/** Go's %q for the ASCII strings flags carry. */
export function goQuote(s: string): string {
  return JSON.stringify(s);
}

/**
 * opts.ParseCPUs: a big.Rat ("1.5", "3/2", "1e2") times 1e9, which must be an integer.
 * Exact: decimals and fractions are held as BigInt numerator/denominator.
 */
export function parseCPUs(value: string): number {
  const rat = parseRat(value);
  if (!rat) throw new Error(`failed to parse ${value} as a rational number`);
  const num = rat.num * 1_000_000_000n;
  if (num % rat.den !== 0n) throw new Error('value is too precise');
  return Number(BigInt.asIntN(64, num / rat.den));
}

function parseRat(s: string): { num: bigint; den: bigint } | undefined {
  const frac = /^([+-]?\d+)\/(\d+)$/.exec(s);
  if (frac) {
    const den = BigInt(frac[2] as string);
    if (den === 0n) return undefined;
    return { num: BigInt(frac[1] as string), den };
  }
  const dec = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(s);
  if (!dec) return undefined;
  const [, sign, int = '', fr = ''] = dec;
  if (int === '' && fr === '') return undefined;
  const exp = Number(dec[4] ?? 0);
  if (!Number.isSafeInteger(exp) || Math.abs(exp) > 10000) return undefined;
  let num = BigInt(`${int}${fr}` || '0');
  let den = 10n ** BigInt(fr.length);
  if (exp > 0) num *= 10n ** BigInt(exp);
  else if (exp < 0) den *= 10n ** BigInt(-exp);
  if (sign === '-') num = -num;
  return { num, den };
}

const DURATION_UNITS: Record<string, number> = {
  ns: 1,
  us: 1e3,
  µs: 1e3,
  μs: 1e3,
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

/** time.ParseDuration, in nanoseconds: `1h2m3.5s`, `500ms`, `-1s`, `0`. */
export function parseGoDuration(s: string): number {
  const orig = s;
  const bad = (): never => {
    throw new Error(`time: invalid duration ${goQuote(orig)}`);
  };
  let neg = false;
  if (s !== '' && (s[0] === '-' || s[0] === '+')) {
    neg = s[0] === '-';
    s = s.slice(1);
  }
  if (s === '0') return 0;
  if (s === '') bad();
  let total = 0;
  while (s !== '') {
    const m = /^(\d*)(?:\.(\d*))?/.exec(s) as RegExpExecArray;
    const [whole, int = '', frac] = m;
    if (int === '' && (frac === undefined || frac === '')) bad();
    s = s.slice(whole.length);
    const u = /^[^0-9.]*/.exec(s)?.[0] ?? '';
    if (u === '') throw new Error(`time: missing unit in duration ${goQuote(orig)}`);
    const unit = DURATION_UNITS[u];
    if (unit === undefined) {
      throw new Error(`time: unknown unit ${goQuote(u)} in duration ${goQuote(orig)}`);
    }
    s = s.slice(u.length);
    total += Number(int || '0') * unit + (frac ? Math.trunc(Number(`0.${frac}`) * unit) : 0);
  }
  if (total > 2 ** 63) bad();
  return neg ? -total : total;
}

const ULIMITS = new Set([
  'core',
  'cpu',
  'data',
  'fsize',
  'locks',
  'memlock',
  'msgqueue',
  'nice',
  'nofile',
  'nproc',
  'rss',
  'rtprio',
  'rttime',
  'sigpending',
  'stack',
]);

/** go-units ParseUlimit: `nofile=1024:2048`, `nproc=10` (hard = soft). */
export function parseUlimit(val: string): { Name: string; Hard: number; Soft: number } {
  const eq = val.indexOf('=');
  if (eq < 0) throw new Error(`invalid ulimit argument: ${val}`);
  const name = val.slice(0, eq);
  if (!ULIMITS.has(name)) throw new Error(`invalid ulimit type: ${name}`);
  const parts = val.slice(eq + 1).split(':');
  let soft: number;
  let hard: number;
  if (parts.length === 2) {
    hard = parseGoInt(parts[1] as string);
    soft = parseGoInt(parts[0] as string);
  } else if (parts.length === 1) {
    soft = parseGoInt(parts[0] as string);
    hard = soft;
  } else {
    throw new Error(`too many limit value arguments - ${val.slice(eq + 1)}, can only have up to two, \`soft[:hard]\``);
  }
  if (hard !== -1 && soft > hard) {
    throw new Error(`ulimit soft limit must be less than or equal to hard limit: ${soft} > ${hard}`);
  }
  return { Name: name, Hard: hard, Soft: soft };
}

/** net.ParseIP then IP.String(): the canonical text, or undefined. */
export function canonicalIP(s: string): string | undefined {
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(s)) {
    const parts = s.split('.');
    if (parts.some((p) => Number(p) > 255 || (p.length > 1 && p[0] === '0'))) return undefined;
    return s;
  }
  if (!s.includes(':') || s.includes('%')) return undefined;
  const words = parseIPv6(s);
  if (!words) return undefined;
  // IPv4-mapped addresses print as IPv4, as Go does.
  if (words.slice(0, 5).every((w) => w === 0) && words[5] === 0xffff) {
    const w6 = words[6] as number;
    const w7 = words[7] as number;
    return `${w6 >> 8}.${w6 & 255}.${w7 >> 8}.${w7 & 255}`;
  }
  // RFC 5952: the longest run of two or more zero words becomes ::
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = words.map((w) => w.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

function parseIPv6(s: string): number[] | undefined {
  let tail: number[] = [];
  let str = s;
  const v4 = /:(\d{1,3}(?:\.\d{1,3}){3})$/.exec(str);
  if (v4) {
    const ip = canonicalIP(v4[1] as string);
    if (!ip) return undefined;
    const b = ip.split('.').map(Number) as [number, number, number, number];
    tail = [(b[0] << 8) | b[1], (b[2] << 8) | b[3]];
    str = `${str.slice(0, v4.index)}:`;
    if (str.endsWith('::')) str = str.slice(0, -1);
    else str = str.slice(0, -1);
  }
  const halves = str.split('::');
  if (halves.length > 2) return undefined;
  const parse = (h: string): number[] | undefined => {
    if (h === '') return [];
    const out: number[] = [];
    for (const w of h.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(w)) return undefined;
      out.push(Number.parseInt(w, 16));
    }
    return out;
  };
  const head = parse(halves[0] as string);
  if (!head) return undefined;
  if (halves.length === 1) {
    const all = [...head, ...tail];
    return all.length === 8 ? all : undefined;
  }
  const rest = parse(halves[1] as string);
  if (!rest) return undefined;
  const fill = 8 - head.length - rest.length - tail.length;
  if (fill < 1) return undefined;
  return [...head, ...new Array<number>(fill).fill(0), ...rest, ...tail];
}

/** net.ParseMAC for the 6-byte colon/dash forms (and the dotted Cisco form). */
export function isMAC(s: string): boolean {
  return (
    /^[0-9a-fA-F]{2}([:-])[0-9a-fA-F]{2}(\1[0-9a-fA-F]{2}){4}$/.test(s) ||
    /^[0-9a-fA-F]{2}([:-])[0-9a-fA-F]{2}(\1[0-9a-fA-F]{2}){6}$/.test(s) ||
    /^[0-9a-fA-F]{2}([:-])[0-9a-fA-F]{2}(\1[0-9a-fA-F]{2}){18}$/.test(s) ||
    /^[0-9a-fA-F]{4}\.[0-9a-fA-F]{4}\.[0-9a-fA-F]{4}$/.test(s) ||
    /^[0-9a-fA-F]{4}(\.[0-9a-fA-F]{4}){3}$/.test(s) ||
    /^[0-9a-fA-F]{4}(\.[0-9a-fA-F]{4}){9}$/.test(s)
  );
}

/** encoding/csv's Read of one record (quotes, doubled quotes); Go's error on a bare quote. */
export function readCsvRecord(line: string): string[] {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    if (line[i] === '"') {
      let f = '';
      i++;
      for (;;) {
        if (i >= line.length) throw new Error('record on line 1; parse error on line 2, column 0: extraneous or missing " in quoted-field');
        const c = line[i] as string;
        if (c === '"') {
          if (line[i + 1] === '"') {
            f += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        f += c;
        i++;
      }
      if (i < line.length && line[i] !== ',') {
        throw new Error(`parse error on line 1, column ${i + 1}: extraneous or missing " in quoted-field`);
      }
      fields.push(f);
    } else {
      const end = line.indexOf(',', i);
      const f = end < 0 ? line.slice(i) : line.slice(i, end);
      if (f.includes('"')) {
        throw new Error(`parse error on line 1, column ${i + f.indexOf('"') + 1}: bare " in non-quoted-field`);
      }
      fields.push(f);
      i = end < 0 ? line.length : end;
    }
    if (i >= line.length) break;
    i++; // the comma
    if (i >= line.length) {
      fields.push('');
      break;
    }
  }
  return fields;
}

/** nat.ParsePortRange: `80`, `7000-7002`; numbers are ParseUint(…, 10, 16). */
export function parsePortRange(ports: string): [number, number] {
  if (ports === '') throw new Error('empty string specified for ports');
  if (!ports.includes('-')) {
    const p = parseGoInt(ports, 'ParseUint', 16, true);
    return [p, p];
  }
  const parts = ports.split('-');
  const start = parseGoInt(parts[0] as string, 'ParseUint', 16, true);
  const end = parseGoInt(parts[1] as string, 'ParseUint', 16, true);
  if (end < start) throw new Error(`invalid range specified for port: ${ports}`);
  return [start, end];
}

/** nat.SplitProtoPort: `53/udp` → [udp, 53]; no proto is tcp. */
export function splitProtoPort(raw: string): [string, string] {
  const parts = raw.split('/');
  if (raw.length === 0 || (parts[0] as string).length === 0) return ['', ''];
  if (parts.length === 1) return ['tcp', raw];
  if ((parts[1] as string).length === 0) return ['tcp', parts[0] as string];
  return [parts[1] as string, parts[0] as string];
}

export interface PortMapping {
  port: string;
  hostIp: string;
  hostPort: string;
}

/** nat.ParsePortSpec: `[ip:][hostPort:]containerPort[/proto]`, ranges expanded. */
export function parsePortSpec(raw: string): PortMapping[] {
  const parts = raw.split(':');
  const n = parts.length;
  let containerPort = parts[n - 1] as string;
  let ip = '';
  let hostPort = '';
  if (n === 2) hostPort = parts[0] as string;
  else if (n === 3) {
    ip = parts[0] as string;
    hostPort = parts[1] as string;
  } else if (n > 3) {
    ip = parts.slice(0, n - 2).join(':');
    hostPort = parts[n - 2] as string;
  }
  let proto: string;
  [proto, containerPort] = splitProtoPort(containerPort);
  if (ip !== '' && ip[0] === '[') {
    const m = /^\[([^\]]*)\]$/.exec(ip);
    if (!m) throw new Error(`invalid IP address ${ip}: address ${ip}:: missing port in address`);
    ip = m[1] as string;
  }
  if (ip !== '' && canonicalIP(ip) === undefined) throw new Error(`invalid IP address: ${ip}`);
  if (containerPort === '') throw new Error(`no port specified: ${raw}<empty>`);
  let start: number;
  let end: number;
  try {
    [start, end] = parsePortRange(containerPort);
  } catch {
    throw new Error(`invalid containerPort: ${containerPort}`);
  }
  let hStart = 0;
  let hEnd = 0;
  if (hostPort.length > 0) {
    try {
      [hStart, hEnd] = parsePortRange(hostPort);
    } catch {
      throw new Error(`invalid hostPort: ${hostPort}`);
    }
  }
  if (hostPort !== '' && end - start !== hEnd - hStart && end !== start) {
    throw new Error(`invalid ranges specified for container and host Ports: ${containerPort} and ${hostPort}`);
  }
  proto = proto.toLowerCase();
  if (!['tcp', 'udp', 'sctp'].includes(proto)) throw new Error(`invalid proto: ${proto}`);
  const count = end - start + 1;
  const out: PortMapping[] = [];
  for (let i = 0; i < count; i++) {
    let hPort = '';
    if (hostPort !== '') {
      hPort = String(hStart + i);
      if (count === 1 && hStart !== hEnd) hPort += `-${hEnd}`;
    }
    out.push({ port: `${start + i}/${proto}`, hostIp: ip, hostPort: hPort });
  }
  return out;
}

export interface VolumeSpec {
  type: 'bind' | 'volume';
  source: string;
  target: string;
}

/** The compose loader's ParseVolume, as `-v` uses it to tell binds from volumes. */
export function parseVolumeSpec(spec: string): VolumeSpec {
  if (spec.length === 0) throw new Error('invalid empty volume spec');
  if ([...spec].length <= 2) return { type: 'volume', source: '', target: spec };
  let source = '';
  let target = '';
  let buffer: string[] = [];
  const END = '\u0000';
  const isDrive = (buf: string[], c: string) => c === ':' && buf.length === 1 && /^\p{L}$/u.test(buf[0] as string);
  for (const c of [...spec, END]) {
    if (isDrive(buffer, c)) buffer.push(c);
    else if (c === ':' || c === END) {
      const str = buffer.join('');
      let err: string | undefined;
      if (buffer.length === 0) err = 'empty section between colons';
      else if (source === '' && c === END) target = str;
      else if (source === '') source = str;
      else if (target === '') target = str;
      else if (c === ':') err = 'too many colons';
      if (err) throw new Error(`invalid spec: ${spec}: ${err}`);
      buffer = [];
    } else buffer.push(c);
  }
  return { type: isFilePath(source) ? 'bind' : 'volume', source, target };
}

function isFilePath(source: string): boolean {
  if (source === '') return false;
  if ('./~'.includes(source[0] as string)) return true;
  if (source.startsWith('\\\\')) return true;
  const chars = [...source];
  return chars.length > 1 && chars[1] === ':' && /^\p{L}$/u.test(chars[0] as string);
}
