/**
 * The flag parser of `berth`, with pflag's semantics as cobra and the docker CLI use them:
 * `-d`, combined shorts (`-it`), `-t5` / `-t 5` / `-t=5`, `--time=5` / `--time 5`, `--flag=false`
 * for bools, `--` ends the flags, repeatable list and slice kinds, interspersed or not, and
 * `-h` / `--help` on every command. Errors carry pflag's exact texts; main adds the usage lines.
 *
 * Pure: argv in, values out; nothing is printed here.
 */
import { type FlagKind, type FlagSpec, type Flags, UsageError } from './types.js';

/** A flag error (unknown flag, bad value, missing value): exit 125, as the docker CLI's. */
export class FlagError extends UsageError {
  constructor(message: string) {
    super(message, 125);
  }
}

export interface Parsed {
  flags: Flags;
  args: string[];
  /** `-h` / `--help` was given (and not `--help=false`). */
  help: boolean;
  /** The names given on the command line, in order (pflag's Changed). */
  changed: Set<string>;
}

export interface ParseOptions {
  /** false: the first positional ends the flags (run, create, exec). Default true. */
  interspersed?: boolean;
}

type Value = boolean | string | number | string[];

/** The help flag cobra adds to every command (hidden in docker's help output). */
export const HELP_FLAG: FlagSpec = { name: 'help', short: 'h', kind: 'bool', usage: 'Print usage', hidden: true };

/** pflag's `"-t, --timeout"` / `"--no-trunc"`, as error messages name a flag. */
export function flagTitle(f: FlagSpec): string {
  return f.short ? `-${f.short}, --${f.name}` : `--${f.name}`;
}

/** The zero value of a kind, which an unset flag without a default has. */
function zero(kind: FlagKind): Value {
  switch (kind) {
    case 'bool':
      return false;
    case 'string':
      return '';
    case 'int':
    case 'float':
      return 0;
    default:
      return [];
  }
}

export function defaultOf(f: FlagSpec): Value {
  const d = f.default;
  if (d === undefined) return zero(f.kind);
  return Array.isArray(d) ? [...d] : d;
}

/** Go's strconv.ParseBool. */
export function parseBool(s: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(s)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(s)) return false;
  return undefined;
}

/**
 * Go's strconv.ParseInt(s, 0, 64): an optional sign, then decimal, 0x, 0o, 0b or a leading-0
 * octal, with `_` allowed between digits only when a base prefix is given.
 */
export function parseGoInt(s: string): { value: number } | { error: string } {
  const syntax = { error: `strconv.ParseInt: parsing ${goQuote(s)}: invalid syntax` };
  const m = /^([+-]?)(0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|0[0-7_]*|[1-9][0-9]*)$/.exec(s);
  if (!m) return syntax;
  const sign = m[1] === '-' ? -1n : 1n;
  let body = m[2] as string;
  let base = 10;
  if (/^0[xX]/.test(body)) {
    base = 16;
    body = body.slice(2);
  } else if (/^0[oO]/.test(body)) {
    base = 8;
    body = body.slice(2);
  } else if (/^0[bB]/.test(body)) {
    base = 2;
    body = body.slice(2);
  } else if (body.length > 1 && body[0] === '0') {
    base = 8;
    body = body.slice(1);
  }
  // Underscores (Go's underscoreOK): only with a base prefix (or the 0 octal form), each one
  // after the prefix or a digit and before a digit.
  if (body.includes('_')) {
    if (base === 10 || /_$|__/.test(body)) return syntax;
    body = body.replaceAll('_', '');
  }
  if (body === '') return syntax;
  let v = 0n;
  for (const ch of body) v = v * BigInt(base) + BigInt(Number.parseInt(ch, base));
  v *= sign;
  if (v > 9223372036854775807n || v < -9223372036854775808n) {
    return { error: `strconv.ParseInt: parsing ${goQuote(s)}: value out of range` };
  }
  return { value: Number(v) };
}

/** Go's strconv.ParseFloat(s, 64), for the forms people type. */
export function parseGoFloat(s: string): { value: number } | { error: string } {
  if (/^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(s)) return { value: Number(s) };
  if (/^[+-]?(inf|infinity)$/i.test(s)) return { value: s.startsWith('-') ? -Infinity : Infinity };
  if (/^nan$/i.test(s)) return { value: Number.NaN };
  return { error: `strconv.ParseFloat: parsing ${goQuote(s)}: invalid syntax` };
}

/** Go's %q of a string (enough for messages: quotes, backslashes and control bytes escaped). */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0) as number;
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

/** Go's %q of a rune. */
function goQuoteRune(ch: string): string {
  if (ch === "'") return "'\\''";
  const q = goQuote(ch);
  return `'${q.slice(1, -1).replace(/\\"/g, '"')}'`;
}

/**
 * pflag's stringSlice: one occurrence read as a CSV record (encoding/csv), so `a,"b,c"` is two
 * values. A bare quote inside a field is an error, like Go's reader.
 */
export function splitCsv(s: string): { values: string[] } | { error: string } {
  if (s === '') return { values: [] };
  const out: string[] = [];
  let i = 0;
  for (;;) {
    let field = '';
    if (s[i] === '"') {
      i++;
      for (;;) {
        if (i >= s.length) return { error: `parse error on line 1, column ${s.length + 1}: extraneous or missing " in quoted-field` };
        if (s[i] === '"') {
          if (s[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        field += s[i];
        i++;
      }
      if (i < s.length && s[i] !== ',') return { error: `parse error on line 1, column ${i + 1}: extraneous or missing " in quoted-field` };
    } else {
      const end = s.indexOf(',', i);
      field = end < 0 ? s.slice(i) : s.slice(i, end);
      if (field.includes('"')) return { error: `parse error on line 1, column ${i + field.indexOf('"') + 1}: bare " in non-quoted-field` };
      i = end < 0 ? s.length : end;
    }
    out.push(field);
    if (i >= s.length) break;
    i++; // the comma
    if (i >= s.length) {
      out.push('');
      break;
    }
  }
  return { values: out };
}

class FlagValues implements Flags {
  constructor(
    private readonly specs: Map<string, FlagSpec>,
    private readonly values: Map<string, Value>,
    private readonly given: Set<string>,
  ) {}
  private get(name: string, kinds: FlagKind[]): Value {
    const spec = this.specs.get(name);
    // A command asking for a flag it did not declare is a programming error: fail loudly.
    if (!spec || !kinds.includes(spec.kind)) throw new Error(`berth: flag --${name} is not a ${kinds.join('/')} flag of this command`);
    return this.values.get(name) ?? defaultOf(spec);
  }
  bool(name: string): boolean {
    return this.get(name, ['bool']) as boolean;
  }
  string(name: string): string {
    return this.get(name, ['string']) as string;
  }
  int(name: string): number {
    return this.get(name, ['int']) as number;
  }
  float(name: string): number {
    return this.get(name, ['float']) as number;
  }
  list(name: string): string[] {
    return [...(this.get(name, ['list', 'slice']) as string[])];
  }
  changed(name: string): boolean {
    return this.given.has(name);
  }
}

/** Parses argv (after the command's own words) against the command's flags plus `-h/--help`. */
export function parseFlags(specs: FlagSpec[], argv: string[], opts: ParseOptions = {}): Parsed {
  const interspersed = opts.interspersed ?? true;
  const byName = new Map<string, FlagSpec>();
  const byShort = new Map<string, FlagSpec>();
  for (const f of [...specs, HELP_FLAG]) {
    if (byName.has(f.name)) continue; // a command may declare its own help flag
    byName.set(f.name, f);
    if (f.short && !byShort.has(f.short)) byShort.set(f.short, f);
  }
  const values = new Map<string, Value>();
  const changed = new Set<string>();
  const args: string[] = [];

  const set = (f: FlagSpec, raw: string): void => {
    let v: Value;
    const bad = (why: string) => new FlagError(`invalid argument ${goQuote(raw)} for ${goQuote(flagTitle(f))} flag: ${why}`);
    switch (f.kind) {
      case 'bool': {
        const b = parseBool(raw);
        if (b === undefined) throw bad(`strconv.ParseBool: parsing ${goQuote(raw)}: invalid syntax`);
        v = b;
        break;
      }
      case 'string':
        v = raw;
        break;
      case 'int': {
        const r = parseGoInt(raw);
        if ('error' in r) throw bad(r.error);
        v = r.value;
        break;
      }
      case 'float': {
        const r = parseGoFloat(raw);
        if ('error' in r) throw bad(r.error);
        v = r.value;
        break;
      }
      case 'list':
      case 'slice': {
        let add = [raw];
        if (f.kind === 'slice') {
          const r = splitCsv(raw);
          if ('error' in r) throw bad(r.error);
          add = r.values;
        }
        // pflag: the first occurrence replaces the default, later ones append.
        const prev = changed.has(f.name) ? (values.get(f.name) as string[]) : [];
        v = [...prev, ...add];
        break;
      }
    }
    values.set(f.name, v);
    changed.add(f.name);
  };

  let i = 0;
  while (i < argv.length) {
    const a = argv[i] as string;
    i++;
    if (a === '--') {
      args.push(...argv.slice(i));
      break;
    }
    if (a.length < 2 || a[0] !== '-') {
      // a positional (a lone `-` too)
      args.push(a);
      if (!interspersed) {
        args.push(...argv.slice(i));
        break;
      }
      continue;
    }
    if (a.startsWith('--')) {
      const body = a.slice(2);
      const eq = body.indexOf('=');
      const name = eq < 0 ? body : body.slice(0, eq);
      if (name === '' || name[0] === '-' || name[0] === '=') throw new FlagError(`bad flag syntax: ${a}`);
      const f = byName.get(name);
      if (!f) throw new FlagError(`unknown flag: --${name}`);
      if (eq >= 0) set(f, body.slice(eq + 1));
      else if (f.kind === 'bool') set(f, 'true');
      else if (i < argv.length) {
        set(f, argv[i] as string);
        i++;
      } else throw new FlagError(`flag needs an argument: ${a}`);
      continue;
    }
    // shorthands: -abc, -t5, -t=5, -t 5, -d=false
    let rest = a.slice(1);
    while (rest.length > 0) {
      const c = String.fromCodePoint(rest.codePointAt(0) as number);
      const f = byShort.get(c);
      if (!f) throw new FlagError(`unknown shorthand flag: ${goQuoteRune(c)} in -${rest}`);
      const after = rest.slice(c.length);
      if (after.startsWith('=')) {
        set(f, after.slice(1));
        rest = '';
      } else if (f.kind === 'bool') {
        set(f, 'true');
        rest = after;
      } else if (after.length > 0) {
        set(f, after);
        rest = '';
      } else if (i < argv.length) {
        set(f, argv[i] as string);
        i++;
        rest = '';
      } else throw new FlagError(`flag needs an argument: ${goQuoteRune(c)} in -${rest}`);
    }
  }
  const help = values.get('help') === true && byName.get('help') === HELP_FLAG;
  return { flags: new FlagValues(byName, values, changed), args, help, changed };
}

/**
 * cobra's arity checks with the docker CLI's texts (cli/required.go): which words, and whether
 * the hint says "See" or "Run" (the CLI is not consistent; these are its forms).
 */
export function arityError(
  prog: string,
  commandPath: string,
  args: string[],
  arity: { min?: number; max?: number } | undefined,
): { message: string; hint: 'See' | 'Run' } | undefined {
  if (!arity) return undefined;
  const { min, max } = arity;
  const n = args.length;
  const plural = (k: number) => (k === 1 ? 'argument' : 'arguments');
  const head = `${prog}: '${commandPath}'`;
  if (max === 0) {
    return n === 0 ? undefined : { message: `${head} accepts no arguments`, hint: 'Run' };
  }
  if (min !== undefined && max !== undefined) {
    if (n >= min && n <= max) return undefined;
    if (min === max) return { message: `${head} requires ${min} ${plural(min)}`, hint: 'Run' };
    return { message: `${head} requires at least ${min} and at most ${max} ${plural(max)}`, hint: 'Run' };
  }
  if (min !== undefined && n < min) return { message: `${head} requires at least ${min} ${plural(min)}`, hint: 'See' };
  if (max !== undefined && n > max) return { message: `${head} requires at most ${max} ${plural(max)}`, hint: 'See' };
  return undefined;
}
