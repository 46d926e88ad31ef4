/**
 * Go's fmt as text/template prints with it: Sprint (an action's value, `print`), Sprintln and
 * Sprintf (`printf`), over the values of values.ts. The texts are Go's: `map[a:b]`, `[a b]`,
 * `<nil>`, floats as `%g` with the shortest digits (`1e+06`), and the `%!d(string=x)` family for
 * bad verbs and arguments.
 */
import { bytesOf, GoStringerInt, isStringSlice, kindOf, mapEntries, numberOf, structType, typeName } from './values.js';

/** A struct (class instance) that prints itself, as a Go fmt.Stringer. */
interface Stringer {
  String(): string;
}
const isStringer = (v: unknown): v is Stringer => kindOf(v) === 'struct' && typeof (v as { String?: unknown }).String === 'function';

// ---- numbers ----

/** The exact decimal expansion of |x| (a finite double): digits and the decimal point's position. */
function exactDecimal(x: number): { d: string; dp: number } {
  const a = Math.abs(x);
  if (a === 0) return { d: '0', dp: 1 };
  const buf = new DataView(new ArrayBuffer(8));
  buf.setFloat64(0, a);
  const hi = buf.getUint32(0);
  const lo = buf.getUint32(4);
  const bexp = (hi >>> 20) & 0x7ff;
  let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let e = bexp - 1075;
  if (bexp === 0) e = -1074;
  else mant |= 1n << 52n;
  let digits: string;
  let frac = 0;
  if (e >= 0) digits = (mant << BigInt(e)).toString();
  else {
    digits = (mant * 5n ** BigInt(-e)).toString();
    frac = -e;
  }
  // value = digits × 10^-frac
  const dp = digits.length - frac;
  const d = digits.replace(/0+$/, '');
  return { d, dp };
}

/** Rounds exact digits to n digits (n may be <= 0) half to even, as Go's decimal.Round. */
function roundDigits(d: string, dp: number, n: number): { d: string; dp: number } {
  if (n < 0) return { d: '0', dp: 1 };
  if (d.length <= n) return { d, dp };
  const rest = d.slice(n);
  const keep = d.slice(0, n);
  const first = rest.charCodeAt(0) - 48;
  const tail = rest.slice(1).replace(/0+$/, '');
  const last = n > 0 ? keep.charCodeAt(n - 1) - 48 : 0;
  const up = first > 5 || (first === 5 && (tail.length > 0 || last % 2 === 1));
  if (!up) return { d: keep.replace(/0+$/, '') || '0', dp: keep.replace(/0+$/, '') === '' ? 1 : dp };
  // Propagate the carry.
  const arr = keep.split('').map(Number);
  let i = arr.length - 1;
  while (i >= 0 && arr[i] === 9) {
    arr[i] = 0;
    i--;
  }
  if (i < 0) return { d: '1', dp: dp + 1 };
  arr[i] = (arr[i] as number) + 1;
  return { d: arr.slice(0, i + 1).join(''), dp };
}

/** The decimal digits of |x| (no trailing zeros) and the decimal point's position, as Go's decimal. */
function digitsOf(x: number, significant?: number): { d: string; dp: number } {
  const a = Math.abs(x);
  if (a === 0) return { d: '0', dp: 1 };
  if (significant === undefined) {
    // JavaScript's shortest round-trip digits are Go's shortest too.
    const [mant, exp] = a.toExponential().split('e') as [string, string];
    return { d: mant.replace('.', '').replace(/0+$/, '') || '0', dp: Number(exp) + 1 };
  }
  const { d, dp } = exactDecimal(a);
  return roundDigits(d, dp, Math.max(significant, 1));
}

function fmtE(neg: boolean, d: string, dp: number, prec: number, e: string): string {
  // d is the significant digits; prec the digits after the point (-1: all of d).
  let s = d[0] ?? '0';
  const frac = prec < 0 ? d.slice(1) : d.slice(1).padEnd(prec, '0').slice(0, prec);
  if (frac.length > 0) s += `.${frac}`;
  const exp = d === '0' ? 0 : dp - 1;
  const ae = Math.abs(exp);
  s += `${e}${exp < 0 ? '-' : '+'}${ae < 10 ? `0${ae}` : ae}`;
  return (neg ? '-' : '') + s;
}

function fmtF(neg: boolean, d: string, dp: number, prec: number): string {
  let int: string;
  let frac: string;
  if (dp <= 0) {
    int = '0';
    frac = '0'.repeat(-dp) + d;
  } else if (dp >= d.length) {
    int = d + '0'.repeat(dp - d.length);
    frac = '';
  } else {
    int = d.slice(0, dp);
    frac = d.slice(dp);
  }
  if (d === '0') int = '0';
  frac = prec < 0 ? frac : frac.padEnd(prec, '0').slice(0, prec);
  return (neg ? '-' : '') + int + (frac.length > 0 ? `.${frac}` : '');
}

/** strconv.FormatFloat(x, fmt, prec, 64) for the formats templates meet: e E f F g G. */
export function formatFloat(x: number, fmt: 'e' | 'E' | 'f' | 'g' | 'G', prec: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? '+Inf' : '-Inf';
  const neg = x < 0 || Object.is(x, -0);
  switch (fmt) {
    case 'e':
    case 'E': {
      const { d, dp } = prec < 0 ? digitsOf(x) : digitsOf(x, prec + 1);
      return fmtE(neg, d, dp, prec < 0 ? d.length - 1 : prec, fmt);
    }
    case 'f': {
      if (prec < 0) {
        const { d, dp } = digitsOf(x);
        return fmtF(neg, d, dp, Math.max(d.length - dp, 0));
      }
      // Rounded on the exact binary value, ties to even, as Go does.
      const ex = exactDecimal(x);
      const r = roundDigits(ex.d, ex.dp, ex.dp + prec);
      if (r.d === '0' || ex.dp + prec < 0) return fmtF(neg, '0', 1, prec);
      return fmtF(neg, r.d, r.dp, prec);
    }
    default: {
      const shortest = prec < 0;
      let p = prec;
      if (p === 0) p = 1;
      const { d, dp } = shortest ? digitsOf(x) : digitsOf(x, p);
      let eprec = shortest ? 6 : p;
      if (!shortest && eprec > d.length && d.length >= dp) eprec = d.length;
      const exp = dp - 1;
      if (exp < -4 || exp >= eprec) {
        let pe = shortest ? d.length : p;
        if (pe > d.length) pe = d.length;
        return fmtE(neg, d, dp, pe - 1, fmt === 'G' ? 'E' : 'e');
      }
      let pf = shortest ? d.length : p;
      if (pf > dp) pf = d.length;
      return fmtF(neg, d, dp, Math.max(pf - dp, 0));
    }
  }
}

// ---- quoting ----

const printable = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u;
const hex = (n: number, w: number) => n.toString(16).padStart(w, '0');

function quoteRuneBody(r: number, quote: string, ascii = false): string {
  const c = String.fromCodePoint(r);
  if (c === quote || c === '\\') return `\\${c}`;
  if (printable.test(c) && (!ascii || r < 0x80)) return c;
  switch (c) {
    case '\x07':
      return '\\a';
    case '\b':
      return '\\b';
    case '\f':
      return '\\f';
    case '\n':
      return '\\n';
    case '\r':
      return '\\r';
    case '\t':
      return '\\t';
    case '\v':
      return '\\v';
  }
  if (r < 0x20 || r === 0x7f) return `\\x${hex(r, 2)}`;
  if (r >= 0xd800 && r < 0xe000) return '\\ufffd';
  if (r < 0x10000) return `\\u${hex(r, 4)}`;
  return `\\U${hex(r, 8)}`;
}

/** strconv.Quote (ascii: strconv.QuoteToASCII, for %+q). */
export function quote(s: string, ascii = false): string {
  let out = '"';
  for (const ch of s) out += quoteRuneBody(ch.codePointAt(0) ?? 0, '"', ascii);
  return `${out}"`;
}

/** strconv.QuoteRune. */
export function quoteRune(r: number): string {
  return `'${quoteRuneBody(r, "'")}'`;
}

// ---- printing values ----

interface Spec {
  minus: boolean;
  plus: boolean;
  sharp: boolean;
  space: boolean;
  zero: boolean;
  width?: number;
  prec?: number;
}
const noSpec: Spec = { minus: false, plus: false, sharp: false, space: false, zero: false };

function pad(s: string, spec: Spec, numeric = false): string {
  const w = spec.width;
  if (w === undefined) return s;
  const n = [...s].length;
  if (n >= w) return s;
  if (spec.minus) return s + ' '.repeat(w - n);
  if (spec.zero && numeric) {
    const sign = /^[+\- ]/.test(s) ? (s[0] as string) : '';
    return sign + '0'.repeat(w - n) + s.slice(sign.length);
  }
  return ' '.repeat(w - n) + s;
}

function fmtInteger(v: number | bigint, verb: string, spec: Spec): string | undefined {
  const big = typeof v === 'bigint' ? v : BigInt(Math.trunc(v));
  const neg = big < 0n;
  const a = neg ? -big : big;
  let s: string;
  switch (verb) {
    case 'v':
    case 'd':
      s = a.toString(10);
      break;
    case 'b':
      s = a.toString(2);
      break;
    case 'o':
      s = a.toString(8);
      if (spec.sharp && s !== '0') s = `0${s}`;
      break;
    case 'O':
      s = `0o${a.toString(8)}`;
      break;
    case 'x':
      s = a.toString(16);
      if (spec.sharp) s = `0x${s}`;
      break;
    case 'X':
      s = a.toString(16).toUpperCase();
      if (spec.sharp) s = `0X${s}`;
      break;
    case 'c':
      return pad(String.fromCodePoint(Number(a)), spec);
    case 'q':
      return pad(quoteRune(Number(big)), spec);
    case 'U': {
      let u = `U+${a.toString(16).toUpperCase().padStart(4, '0')}`;
      if (spec.sharp) u += ` '${String.fromCodePoint(Number(a))}'`;
      return pad(u, spec);
    }
    default:
      return undefined;
  }
  if (spec.prec !== undefined) s = s.padStart(spec.prec, '0');
  const sign = neg ? '-' : spec.plus ? '+' : spec.space ? ' ' : '';
  return pad(sign + s, spec, spec.prec === undefined);
}

function fmtFloatVerb(x: number, verb: string, spec: Spec): string | undefined {
  let s: string;
  switch (verb) {
    case 'v':
    case 'g':
    case 'G':
      s = formatFloat(x, verb === 'G' ? 'G' : 'g', spec.prec ?? -1);
      break;
    case 'e':
    case 'E':
      s = formatFloat(x, verb, spec.prec ?? 6);
      break;
    case 'f':
    case 'F':
      s = formatFloat(x, 'f', spec.prec ?? 6);
      break;
    default:
      return undefined;
  }
  if (spec.plus && !s.startsWith('-') && !s.startsWith('+')) s = `+${s}`;
  else if (spec.space && !s.startsWith('-')) s = ` ${s}`;
  else if (!spec.plus && s === '+Inf') s = 'Inf';
  return pad(s, spec, Number.isFinite(x));
}

function fmtString(s: string, verb: string, spec: Spec): string | undefined {
  if (spec.prec !== undefined && verb !== 'x' && verb !== 'X') s = [...s].slice(0, spec.prec).join('');
  switch (verb) {
    case 'v':
    case 's':
      return pad(s, spec);
    case 'q':
      return pad(spec.sharp && !s.includes('`') ? `\`${s}\`` : quote(s, spec.plus), spec);
    case 'x':
    case 'X': {
      let b = [...bytesOf(s)];
      if (spec.prec !== undefined) b = b.slice(0, spec.prec);
      let h = b.map((x) => hex(x, 2)).join(spec.space ? ' ' : '');
      if (verb === 'X') h = h.toUpperCase();
      return pad(h, spec);
    }
    default:
      return undefined;
  }
}

function badVerb(verb: string, v: unknown): string {
  if (v === null || v === undefined) return `%!${verb}(<nil>)`;
  return `%!${verb}(${typeName(v)}=${printValue(v, 'v', noSpec, 0)})`;
}

/** One operand, as fmt's printArg/printValue would print it with this verb. */
function printValue(v: unknown, verb: string, spec: Spec, depth: number): string {
  if (verb === 'T') return pad(typeName(v), spec);
  const kind = kindOf(v);
  switch (kind) {
    case 'invalid':
    case 'nil':
      return verb === 'v' ? pad('<nil>', spec) : badVerb(verb, null);
    case 'bool':
      return verb === 'v' || verb === 't' ? pad(String(v), spec) : badVerb(verb, v);
    case 'int':
      if (v instanceof GoStringerInt && 'vsqxX'.includes(verb)) return fmtString(v.String(), verb, spec) ?? badVerb(verb, v);
      return fmtInteger(numberOf(v), verb, spec) ?? badVerb(verb, v);
    case 'float': {
      const x = numberOf(v);
      return fmtFloatVerb(x, verb, spec) ?? badVerb(verb, v);
    }
    case 'string':
      return fmtString(v as string, verb, spec) ?? badVerb(verb, v);
    case 'slice':
      return `[${(v as unknown[]).map((e) => printValue(e, verb, spec, depth + 1)).join(' ')}]`;
    case 'map':
      return `map[${mapEntries(v)
        .map(([k, e]) => `${printValue(k, verb, spec, depth + 1)}:${printValue(e, verb, spec, depth + 1)}`)
        .join(' ')}]`;
    case 'func':
      return verb === 'v' ? pad('0x0', spec) : badVerb(verb, v);
    default: {
      if (isStringer(v) && 'vsqxX'.includes(verb)) return fmtString(v.String(), verb, spec) ?? badVerb(verb, v);
      const fields = Object.entries(v as object).filter(([k]) => /^\p{Lu}/u.test(k));
      const body = fields.map(([k, e]) => (spec.plus ? `${k}:` : '') + printValue(e, verb, spec, depth + 1)).join(' ');
      return `${depth === 0 && structType(v as object).startsWith('*') ? '&' : ''}{${body}}`;
    }
  }
}

/** fmt.Sprint: spaces between operands when neither side is a string. */
export function sprint(args: unknown[]): string {
  let out = '';
  let prevString = false;
  args.forEach((a, i) => {
    const isString = typeof a === 'string';
    if (i > 0 && !isString && !prevString) out += ' ';
    out += printValue(a, 'v', noSpec, 0);
    prevString = isString;
  });
  return out;
}

/** fmt.Sprintln: spaces always, and a newline. */
export function sprintln(args: unknown[]): string {
  return `${args.map((a) => printValue(a, 'v', noSpec, 0)).join(' ')}\n`;
}

/** fmt.Sprintf. */
export function sprintf(format: string, args: unknown[]): string {
  let out = '';
  let argNum = 0;
  let reordered = false;
  let goodArgNum = true;
  const n = format.length;
  let i = 0;
  // Go's argNumber: "[n]" selects the n-th operand (1-based).
  const argIndex = (): void => {
    if (format[i] !== '[') return;
    reordered = true;
    const close = format.indexOf(']', i);
    const num = close < 0 ? Number.NaN : Number(format.slice(i + 1, close));
    if (close < 0 || !Number.isInteger(num) || num < 1 || num > args.length || format.slice(i + 1, close) === '') {
      goodArgNum = false;
      i = close < 0 ? n : close + 1;
      return;
    }
    argNum = num - 1;
    i = close + 1;
  };
  // Go refuses a width or precision argument (`*`) over a million (tooLarge).
  const tooLarge = (x: number) => x > 1e6 || x < -1e6;
  const intArg = (): number | undefined => {
    if (argNum >= args.length) return undefined;
    const a = args[argNum++];
    return kindOf(a) === 'int' && !tooLarge(numberOf(a)) ? numberOf(a) : undefined;
  };
  while (i < n) {
    const pct = format.indexOf('%', i);
    if (pct < 0) {
      out += format.slice(i);
      break;
    }
    out += format.slice(i, pct);
    i = pct + 1;
    const spec: Spec = { minus: false, plus: false, sharp: false, space: false, zero: false };
    flags: for (; i < n; i++) {
      switch (format[i]) {
        case '#':
          spec.sharp = true;
          break;
        case '0':
          spec.zero = !spec.minus;
          break;
        case '+':
          spec.plus = true;
          break;
        case '-':
          spec.minus = true;
          spec.zero = false;
          break;
        case ' ':
          spec.space = true;
          break;
        default:
          break flags;
      }
    }
    goodArgNum = true;
    argIndex();
    if (format[i] === '*') {
      i++;
      const w = intArg();
      if (w === undefined) out += '%!(BADWIDTH)';
      else {
        spec.width = Math.abs(w);
        if (w < 0) {
          spec.minus = true;
          spec.zero = false;
        }
      }
    } else {
      const m = /^\d+/.exec(format.slice(i));
      if (m) {
        spec.width = Number(m[0]);
        i += m[0].length;
      }
    }
    if (format[i] === '.') {
      i++;
      argIndex();
      if (format[i] === '*') {
        i++;
        const p = intArg();
        if (p === undefined || p < 0) out += '%!(BADPREC)';
        else spec.prec = p;
      } else {
        const m = /^\d+/.exec(format.slice(i));
        spec.prec = m ? Number(m[0]) : 0;
        if (m) i += m[0].length;
      }
    }
    argIndex();
    if (i >= n) {
      out += '%!(NOVERB)';
      break;
    }
    const verb = String.fromCodePoint(format.codePointAt(i) ?? 0);
    i += verb.length;
    if (verb === '%') {
      out += '%';
      continue;
    }
    if (!goodArgNum) {
      out += `%!${verb}(BADINDEX)`;
      continue;
    }
    if (argNum >= args.length) {
      out += `%!${verb}(MISSING)`;
      continue;
    }
    const a = args[argNum++];
    if (verb === 'v' && spec.sharp && typeof a === 'string') {
      // %#v: Go syntax; for the strings templates print, the quoted string.
      out += pad(quote(a), spec);
      continue;
    }
    if (verb === 'v' && (spec.sharp || spec.plus)) {
      out += printValue(a, 'v', { ...spec, sharp: false }, 0);
      continue;
    }
    out += printValue(a, verb, spec, 0);
  }
  if (!reordered && argNum < args.length) {
    out += `%!(EXTRA ${args
      .slice(argNum)
      .map((a) => (a === null || a === undefined ? '<nil>' : `${typeName(a)}=${printValue(a, 'v', noSpec, 0)}`))
      .join(', ')})`;
  }
  return out;
}

/** The text an action prints for a value (fmt.Fprint of one operand). */
export function printOne(v: unknown): string {
  return printValue(v, 'v', noSpec, 0);
}
