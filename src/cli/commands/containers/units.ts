/**
 * go-units' sizes as the docker CLI prints them: HumanSize (decimal, 4 significant digits),
 * HumanSizeWithPrecision, BytesSize (binary, KiB…). Go's `%.Ng` is reproduced exactly:
 * trailing zeros dropped, exponent form with two digits (`1e+03`).
 */

/** Go's fmt `%.{precision}g`. */
export function goG(x: number, precision: number): string {
  if (x === 0) return '0';
  if (!Number.isFinite(x)) return x > 0 ? '+Inf' : x < 0 ? '-Inf' : 'NaN';
  const s = x.toPrecision(precision);
  const e = s.indexOf('e');
  const strip = (m: string) => (m.includes('.') ? m.replace(/0+$/, '').replace(/\.$/, '') : m);
  if (e < 0) return strip(s);
  const mant = strip(s.slice(0, e));
  const exp = Number(s.slice(e + 1));
  return `${mant}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
}

const DECIMAL = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'];
const BINARY = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB', 'ZiB', 'YiB'];

function scale(size: number, base: number, units: string[]): [number, string] {
  let i = 0;
  while (size >= base && i < units.length - 1) {
    size /= base;
    i++;
  }
  return [size, units[i]!];
}

export function humanSizeWithPrecision(size: number, precision: number): string {
  const [n, u] = scale(size, 1000, DECIMAL);
  return `${goG(n, precision)}${u}`;
}

/** `2.05kB`, `0B`, `1.5MB`. */
export function humanSize(size: number): string {
  return humanSizeWithPrecision(size, 4);
}

/** `1.5MiB`, `7.656GiB`. */
export function bytesSize(size: number): string {
  const [n, u] = scale(size, 1024, BINARY);
  return `${goG(n, 4)}${u}`;
}
