/**
 * containerd's filter syntax for snapshots (`ctr snapshots ls` filters, the Walk filters of its
 * test suite), compiled to the predicate that Snapshotter.walk takes:
 *
 *   filter    := selector (',' selector)*          all selectors must match
 *   selector  := fieldpath [('==' | '!=' | '~=') value]
 *   fieldpath := field ('.' field)*                field: [A-Za-z0-9_]+ or a "quoted string"
 *   value     := "quoted string" | /regexp/ (after ~=) | anything up to ',' (unquoted)
 *
 * Regular expressions are JavaScript's, without quantified groups or backreferences (so a
 * hostile filter cannot backtrack for ever). Several filters match when any one does. Fields: kind, name, parent (always present; "" for
 * none) and labels.<key> (present when the label is set). `f` alone tests presence; `f==v`
 * needs presence; `f!=v` holds for an absent field too (containerd's semantics).
 */
import { invalid } from '../common/errors.js';
import type { Info } from './types.js';

type Op = '==' | '!=' | '~=' | 'present';
interface Selector {
  path: string[];
  op: Op;
  value: string;
  re?: RegExp;
}

function field(info: Info, path: string[]): string | undefined {
  const [head, ...rest] = path;
  if (rest.length === 0) {
    if (head === 'kind') return info.kind;
    if (head === 'name') return info.name;
    if (head === 'parent') return info.parent ?? '';
    return undefined;
  }
  if (head === 'labels' && rest.length >= 1) {
    const key = rest.join('.');
    return Object.hasOwn(info.labels, key) ? info.labels[key] : undefined;
  }
  return undefined;
}

function matches(s: Selector, info: Info): boolean {
  const v = field(info, s.path);
  switch (s.op) {
    case 'present':
      return v !== undefined;
    case '==':
      return v === s.value;
    case '!=':
      return v !== s.value;
    case '~=':
      return v !== undefined && s.re!.test(v);
  }
}

class Parser {
  private i = 0;
  constructor(private readonly s: string) {}

  private fail(why: string): never {
    throw invalid(`parse filter '${this.s}': ${why} at offset ${this.i}`, this.s);
  }

  private skipSpace(): void {
    while (this.i < this.s.length && /\s/.test(this.s[this.i]!)) this.i++;
  }

  /** A double-quoted string with JSON escapes. */
  private quoted(): string {
    const start = this.i;
    this.i++;
    while (this.i < this.s.length && this.s[this.i] !== '"') this.i += this.s[this.i] === '\\' ? 2 : 1;
    if (this.i >= this.s.length) {
      this.i = start;
      this.fail('unterminated quoted string');
    }
    this.i++;
    try {
      return JSON.parse(this.s.slice(start, this.i)) as string;
    } catch {
      this.i = start;
      return this.fail('bad escape in quoted string');
    }
  }

  private field(): string {
    this.skipSpace();
    if (this.s[this.i] === '"') return this.quoted();
    const m = /^[A-Za-z0-9_]+/.exec(this.s.slice(this.i));
    if (!m) this.fail('expected a field name');
    this.i += m[0].length;
    return m[0];
  }

  private value(op: Op): string {
    this.skipSpace();
    if (this.s[this.i] === '"') return this.quoted();
    if (op === '~=' && this.s[this.i] === '/') {
      const end = this.s.indexOf('/', this.i + 1);
      if (end < 0) this.fail('unterminated /regexp/');
      const v = this.s.slice(this.i + 1, end);
      this.i = end + 1;
      return v;
    }
    const m = /^[^,]*/.exec(this.s.slice(this.i))!;
    this.i += m[0].length;
    const v = m[0].trim();
    if (v === '') this.fail('expected a value');
    return v;
  }

  private selector(): Selector {
    const path = [this.field()];
    while (this.s[this.i] === '.') {
      this.i++;
      path.push(this.field());
    }
    this.skipSpace();
    const opText = this.s.slice(this.i, this.i + 2);
    if (opText === '==' || opText === '!=' || opText === '~=') {
      this.i += 2;
      const value = this.value(opText);
      if (opText !== '~=') return { path, op: opText, value };
      // containerd's regexps are RE2 (linear time); JavaScript's backtrack, and a filter can
      // come from an API client: refuse the shapes that backtrack exponentially (a quantified
      // group, a backreference) and long patterns
      if (value.length > 256 || /\)\s*[*+?{]|\\[1-9]|\\k</.test(value)) {
        return this.fail('regular expressions with quantified groups or backreferences are not supported');
      }
      try {
        return { path, op: opText, value, re: new RegExp(value) };
      } catch (err) {
        return this.fail(`bad regular expression: ${(err as Error).message}`);
      }
    }
    return { path, op: 'present', value: '' };
  }

  parse(): Selector[] {
    const out = [this.selector()];
    this.skipSpace();
    while (this.i < this.s.length) {
      if (this.s[this.i] !== ',') this.fail(`unexpected '${this.s[this.i]}'`);
      this.i++;
      out.push(this.selector());
      this.skipSpace();
    }
    return out;
  }
}

/** The predicate for `filters` (any of them; each a conjunction); undefined matches everything. */
export function snapshotFilter(...filters: string[]): ((info: Info) => boolean) | undefined {
  if (filters.length === 0) return undefined;
  const parsed = filters.map((f) => new Parser(f).parse());
  return (info) => parsed.some((sels) => sels.every((s) => matches(s, info)));
}
