/**
 * The functions a Docker template can call: text/template's builtins (funcs.go) and the docker
 * CLI's own (cli/templates: json, split, join, title, lower, upper, pad, truncate), with the
 * header variants Docker renders table headers with.
 */
import type { FuncMap, GoFunc } from './exec.js';
import { mapZero } from './exec.js';
import { printOne, sprint, sprintf, sprintln } from './gofmt.js';
import {
  byteLength,
  bytesOf,
  GoFloat,
  isPlainObject,
  kindOf,
  MARSHAL_ESCAPES_HTML,
  mapGet,
  mapOfStrings,
  mapSize,
  numberOf,
  stringOf,
  typeName,
} from './values.js';

const f = (params: GoFunc['params'], fn: GoFunc['fn'], variadic = false): GoFunc => ({ params, fn, variadic });

/** indirectInterface: a nil interface is no value at all to the comparison and index builtins. */
const ind = (v: unknown): unknown => (v === null ? undefined : v);

type BasicKind = 'bool' | 'int' | 'float' | 'string' | 'invalid';
function basicKind(v: unknown): BasicKind {
  const k = kindOf(v);
  return k === 'bool' || k === 'int' || k === 'float' || k === 'string' ? k : 'invalid';
}
const badComparisonType = () => new Error('invalid type for comparison');
const badComparison = () => new Error('incompatible types for comparison');
const cmpNumber = (v: unknown) => numberOf(v);

function isNilValue(v: unknown): boolean {
  return v === undefined || v === null;
}

function eq(arg1: unknown, ...rest: unknown[]): boolean {
  const a = ind(arg1);
  if (rest.length === 0) throw new Error('missing argument for comparison');
  const k1 = basicKind(a);
  for (const r of rest) {
    const b = ind(r);
    const k2 = basicKind(b);
    let truth = false;
    if (k1 !== k2) {
      if (a !== undefined && b !== undefined) throw badComparison();
    } else {
      switch (k1) {
        case 'bool':
        case 'string':
          truth = a === b;
          break;
        case 'int':
        case 'float':
          truth = cmpNumber(a) === cmpNumber(b);
          break;
        default: {
          const ka = kindOf(a);
          const kb = kindOf(b);
          if (ka !== kb && a !== undefined && b !== undefined) {
            throw new Error(`non-comparable types ${printOne(a)}: ${typeName(a)}, ${typeName(b)}: ${printOne(b)}`);
          }
          if (isNilValue(a) || isNilValue(b)) truth = isNilValue(a) === isNilValue(b);
          else if (ka === 'slice' || ka === 'map' || ka === 'func') {
            throw new Error(`non-comparable type ${printOne(b)}: ${typeName(b)}`);
          } else truth = a === b;
        }
      }
    }
    if (truth) return true;
  }
  return false;
}

function lt(arg1: unknown, arg2: unknown): boolean {
  const a = ind(arg1);
  const k1 = basicKind(a);
  if (k1 === 'invalid') throw badComparisonType();
  const b = ind(arg2);
  const k2 = basicKind(b);
  if (k2 === 'invalid') throw badComparisonType();
  if (k1 !== k2) throw badComparison();
  switch (k1) {
    case 'bool':
      throw badComparisonType();
    case 'string':
      return (a as string) < (b as string);
    default:
      return cmpNumber(a) < cmpNumber(b);
  }
}
const le = (a: unknown, b: unknown) => lt(a, b) || eq(a, b);

function indexArg(index: unknown, cap: number): number {
  const k = kindOf(index);
  if (k === 'invalid' || k === 'nil') throw new Error('cannot index slice/array with nil');
  if (k !== 'int') throw new Error(`cannot index slice/array with type ${typeName(index)}`);
  const x = numberOf(index);
  if (x < 0 || x > cap) throw new Error(`index out of range: ${x}`);
  return x;
}

function index(item: unknown, ...indexes: unknown[]): unknown {
  let v = ind(item);
  if (v === undefined) throw new Error('index of untyped nil');
  for (const raw of indexes) {
    const idx = ind(raw);
    if (v === null || v === undefined) throw new Error('index of nil pointer');
    const k = kindOf(v);
    if (k === 'string' || k === 'slice') {
      const bytes = k === 'string' ? bytesOf(v as string) : undefined;
      const len = bytes ? bytes.length : (v as unknown[]).length;
      const x = indexArg(idx, len);
      if (x === len) throw new Error(`index out of range: ${x}`);
      v = bytes ? bytes[x] : (v as unknown[])[x];
    } else if (k === 'map') {
      if (idx === undefined) throw new Error('value is nil; should be of type string');
      if (typeof idx !== 'string') throw new Error(`value has type ${typeName(idx)}; should be string`);
      const x = mapGet(v, idx);
      v = x === undefined ? mapZero(v) : x;
    } else {
      throw new Error(`can't index item of type ${derefType(v)}`);
    }
  }
  return v;
}

function slice(item: unknown, ...indexes: unknown[]): unknown {
  const v = ind(item);
  if (v === undefined) throw new Error('slice of untyped nil');
  if (indexes.length > 3) throw new Error(`too many slice indexes: ${indexes.length}`);
  const k = kindOf(v);
  let len: number;
  let bytes: Uint8Array | undefined;
  if (k === 'string') {
    if (indexes.length === 3) throw new Error('cannot 3-index slice a string');
    bytes = bytesOf(v as string);
    len = bytes.length;
  } else if (k === 'slice') len = (v as unknown[]).length;
  else throw new Error(`can't slice item of type ${typeName(v)}`);
  const idx = [0, len, len];
  indexes.forEach((x, i) => {
    idx[i] = indexArg(ind(x), len);
  });
  const [i, j, c] = idx as [number, number, number];
  if (i > j) throw new Error(`invalid slice index: ${i} > ${j}`);
  if (indexes.length === 3 && j > c) throw new Error(`invalid slice index: ${j} > ${c}`);
  return bytes ? stringOf(bytes.subarray(i, j)) : (v as unknown[]).slice(i, j);
}

/** The type after Go's indirect(): a struct pointer's element type. */
const derefType = (v: unknown): string => typeName(v).replace(/^\*/, '');

function length(item: unknown): number {
  if (item === undefined) throw new Error('reflect: call of reflect.Value.Type on zero Value');
  // The Engine sends null for Docker's nil slices and maps, whose len is 0.
  if (item === null) return 0;
  switch (kindOf(item)) {
    case 'string':
      return byteLength(item as string);
    case 'slice':
      return (item as unknown[]).length;
    case 'map':
      return mapSize(item);
    default:
      throw new Error(`len of type ${derefType(item)}`);
  }
}

function call(name: string, fn: unknown, ...args: unknown[]): unknown {
  const v = ind(fn);
  if (v === undefined) throw new Error('call of nil');
  if (typeof v !== 'function') throw new Error(`non-function ${name} of type ${typeName(v)}`);
  if (v.length !== args.length) {
    throw new Error(`wrong number of args for ${name}: got ${args.length} want ${v.length}`);
  }
  return v(...args);
}

/** evalArgs: one string operand as is, otherwise fmt.Sprint of all. */
function evalArgs(args: unknown[]): string {
  if (args.length === 1 && typeof args[0] === 'string') return args[0];
  // printableValue: a nil operand (no value, nil, JSON null) reads "<no value>" here.
  return sprint(args.map((a) => (a === undefined || a === null ? '<no value>' : a)));
}

export function htmlEscape(s: string): string {
  return s.replace(/[&<>"'\0]/g, (c) =>
    c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '"' ? '&#34;' : c === "'" ? '&#39;' : '\uFFFD',
  );
}

export function jsEscape(s: string): string {
  let out = '';
  for (const ch of s) {
    const r = ch.codePointAt(0) ?? 0;
    switch (ch) {
      case '\\':
        out += '\\\\';
        continue;
      case "'":
        out += "\\'";
        continue;
      case '"':
        out += '\\"';
        continue;
      case '<':
        out += '\\u003C';
        continue;
      case '>':
        out += '\\u003E';
        continue;
      case '&':
        out += '\\u0026';
        continue;
      case '=':
        out += '\\u003D';
        continue;
    }
    if (r < 0x20 || (r >= 0x7f && !/^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u.test(ch))) {
      out += `\\u${r.toString(16).toUpperCase().padStart(4, '0')}`;
    } else out += ch;
  }
  return out;
}

/** url.QueryEscape. */
export function queryEscape(s: string): string {
  let out = '';
  for (const b of bytesOf(s)) {
    const c = String.fromCharCode(b);
    if (/[A-Za-z0-9\-_.~]/.test(c)) out += c;
    else if (c === ' ') out += '+';
    else out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

export const builtins: FuncMap = {
  and: f(['value', 'value'], (...a) => a[a.length - 1], true),
  or: f(['value', 'value'], (...a) => a[a.length - 1], true),
  not: f(['value'], (a) => !isTrueValue(a)),
  len: f(['value'], length),
  index: f(['value', 'value'], index, true),
  slice: f(['value', 'value'], slice, true),
  eq: f(['value', 'value'], eq, true),
  ne: f(['value', 'value'], (a, b) => !eq(a, b)),
  lt: f(['value', 'value'], lt),
  le: f(['value', 'value'], le),
  gt: f(['value', 'value'], (a, b) => !le(a, b)),
  ge: f(['value', 'value'], (a, b) => !lt(a, b)),
  call: f(['value', 'value'], (name, fn, ...args) => call(name as string, fn, ...args), true),
  html: f(['any'], (...a) => htmlEscape(evalArgs(a)), true),
  js: f(['any'], (...a) => jsEscape(evalArgs(a)), true),
  urlquery: f(['any'], (...a) => queryEscape(evalArgs(a)), true),
  print: f(['any'], (...a) => sprint(a), true),
  printf: f(['string', 'any'], (fmt, ...a) => sprintf(fmt as string, a), true),
  println: f(['any'], (...a) => sprintln(a), true),
};
export const builtinNames: ReadonlySet<string> = new Set(Object.keys(builtins));

function isTrueValue(v: unknown): boolean {
  // not's argument goes through indirectInterface: a nil interface is false.
  switch (kindOf(v)) {
    case 'invalid':
    case 'nil':
      return false;
    case 'string':
      return (v as string).length > 0;
    case 'bool':
      return v as boolean;
    case 'int':
    case 'float':
      return numberOf(v) !== 0;
    case 'slice':
      return (v as unknown[]).length > 0;
    case 'map':
      return mapSize(v) > 0;
    default:
      return true;
  }
}

// ---- Docker's functions ----

const escapeHTMLJSON = (s: string) => s.replaceAll('<', '\\u003c').replaceAll('>', '\\u003e').replaceAll('&', '\\u0026');
const byKey = (a: readonly [string, unknown], b: readonly [string, unknown]) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);

/**
 * Go's encoding/json for our values, with SetEscapeHTML(false) as Docker's `json` function:
 * maps (Map, label-like objects whose values are all strings) with sorted keys, objects from the
 * Engine in their order, and a format context's MarshalJSON with <, > and & escaped (Go's
 * json.Marshal inside it escapes them).
 */
export function goJSON(v: unknown, escapeHTML = false): string {
  const str = (s: string) => {
    const q = JSON.stringify(s).replaceAll('\u2028', '\\u2028').replaceAll('\u2029', '\\u2029');
    return escapeHTML ? escapeHTMLJSON(q) : q;
  };
  if (v === undefined || v === null) return 'null';
  switch (typeof v) {
    case 'string':
      return str(v);
    case 'number':
      return Number.isFinite(v) ? String(v) : 'null';
    case 'bigint':
      return v.toString();
    case 'boolean':
      return String(v);
    case 'function':
    case 'symbol':
      return 'null';
  }
  if (v instanceof GoFloat) return String(v.value);
  const o = v as { toJSON?: () => unknown; constructor?: Record<symbol, unknown> };
  if (typeof o.toJSON === 'function') {
    return goJSON(o.toJSON(), escapeHTML || o.constructor?.[MARSHAL_ESCAPES_HTML] === true);
  }
  if (Array.isArray(v)) return `[${v.map((e) => goJSON(e, escapeHTML)).join(',')}]`;
  let entries: [string, unknown][];
  if (v instanceof Map) entries = [...v.entries()].map(([k, e]) => [String(k), e] as [string, unknown]).sort(byKey);
  else if (isPlainObject(v)) {
    entries = Object.entries(v);
    if (mapOfStrings(v)) entries.sort(byKey);
  } else entries = Object.entries(v).filter(([k]) => /^\p{Lu}/u.test(k));
  return `{${entries
    .filter(([, e]) => e !== undefined)
    .map(([k, e]) => `${str(k)}:${goJSON(e, escapeHTML)}`)
    .join(',')}}`;
}

const isTitleSeparator = (r: string): boolean => {
  if (r.charCodeAt(0) < 0x80) return !/[A-Za-z0-9_]/.test(r);
  if (/[\p{L}\p{Nd}]/u.test(r)) return false;
  return /\s/u.test(r);
};

/** strings.Title: each word's first letter upper-cased (Docker still uses it). */
export function title(s: string): string {
  let prev = ' ';
  let out = '';
  for (const ch of s) {
    out += isTitleSeparator(prev) ? toUpper(ch) : ch;
    prev = ch;
  }
  return out;
}

/** strings.Split: an empty separator splits after each UTF-8 sequence. */
export function split(s: string, sep: string): string[] {
  return sep === '' ? [...s] : s.split(sep);
}

/** Docker's truncate: the first `length` bytes, unless the string is shorter. */
export function truncate(s: string, length: number): string {
  const b = bytesOf(s);
  if (b.length < length) return s;
  return stringOf(b.subarray(0, Math.max(length, 0)));
}

/**
 * strings.ToUpper / ToLower map rune by rune: a letter without a one-rune case pair (ß) stays,
 * where JavaScript's full case mapping would write "SS".
 */
function mapRunes(s: string, f: (c: string) => string): string {
  let out = '';
  for (const ch of s) {
    const m = f(ch);
    out += [...m].length === 1 ? m : ch === '\u0130' ? 'i' : ch;
  }
  return out;
}
export const toUpper = (s: string): string => mapRunes(s, (c) => c.toUpperCase());
export const toLower = (s: string): string => mapRunes(s, (c) => c.toLowerCase());

export function padWithSpace(s: string, prefix: number, suffix: number): string {
  if (s === '') return s;
  return ' '.repeat(Math.max(prefix, 0)) + s + ' '.repeat(Math.max(suffix, 0));
}

export const dockerFuncs: FuncMap = {
  json: f(['any'], (v) => goJSON(v)),
  split: f(['string', 'string'], (s, sep) => split(s as string, sep as string)),
  join: f(['strings', 'string'], (a, sep) => ((a as string[] | null) ?? []).join(sep as string)),
  title: f(['string'], (s) => title(s as string)),
  lower: f(['string'], (s) => toLower(s as string)),
  upper: f(['string'], (s) => toUpper(s as string)),
  pad: f(['string', 'int', 'int'], (s, p, q) => padWithSpace(s as string, p as number, q as number)),
  truncate: f(['string', 'int'], (s, n) => truncate(s as string, n as number)),
};

/** Docker renders a table's header row with these: the column names stay as they are. */
export const headerFuncs: FuncMap = {
  json: f(['string'], (v) => v),
  split: f(['string', 'string'], (v) => v),
  join: f(['string', 'string'], (v) => v),
  title: f(['string'], (v) => v),
  lower: f(['string'], (v) => v),
  upper: f(['string'], (v) => v),
  truncate: f(['string', 'int'], (v) => v),
};
