/**
 * berthd's command line, parsed the way dockerd's (spf13/pflag) parses it, with its messages:
 * `--flag value`, `--flag=value`, `-H value`, `-Hvalue`, grouped short booleans (`-Dh`), and
 * booleans that take `=false` (`--live-restore=false` matters: Berth defaults it to true).
 * Neither commander nor util.parseArgs does the last, nor words errors as pflag does. Pure.
 */
import { invalid } from '../../common/errors.js';
import { COMMAND_FLAGS, DIRECTIVES, type Directive, type FlagKind } from './directives.js';

export interface ParsedFlags {
  /** directives given on the command line, by daemon.json key: string, boolean or string[] */
  readonly values: Map<string, string | boolean | string[]>;
  readonly configFile?: string;
  readonly help: boolean;
  readonly version: boolean;
}

interface FlagDef {
  key?: string;
  flag: string;
  kind: FlagKind;
}

const byLong = new Map<string, FlagDef>();
const byShort = new Map<string, FlagDef>();
for (const d of [...DIRECTIVES, ...COMMAND_FLAGS] as (Directive | (typeof COMMAND_FLAGS)[number])[]) {
  const def: FlagDef = { flag: d.flag, kind: d.kind, ...('key' in d ? { key: d.key } : {}) };
  byLong.set(d.flag, def);
  if (d.short) byShort.set(d.short, def);
}

/** Go's strconv.ParseBool. */
function parseBool(v: string, name: string): boolean {
  if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(v)) return false;
  throw invalid(`invalid argument "${v}" for "${name}" flag: strconv.ParseBool: parsing "${v}": invalid syntax`);
}

export function parseFlags(argv: readonly string[]): ParsedFlags {
  const values = new Map<string, string | boolean | string[]>();
  let configFile: string | undefined;
  let help = false;
  let version = false;

  const set = (def: FlagDef, name: string, value: string | true) => {
    if (def.flag === 'help' || def.flag === 'version') {
      const on = value === true ? true : parseBool(value, name);
      if (def.flag === 'help') help = on;
      else version = on;
      return;
    }
    if (def.flag === 'config-file') {
      configFile = value as string;
      return;
    }
    const key = def.key!;
    if (def.kind === 'bool') values.set(key, value === true ? true : parseBool(value, name));
    else if (def.kind === 'list') values.set(key, [...((values.get(key) as string[] | undefined) ?? []), value as string]);
    else values.set(key, value as string);
  };

  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      if (i + 1 < argv.length) throw invalid(`"berthd" accepts no arguments`);
      break;
    }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq < 0 ? a.slice(2) : a.slice(2, eq);
      const def = byLong.get(name);
      if (!def) throw invalid(`unknown flag: --${name}`);
      if (eq >= 0) set(def, `--${name}`, a.slice(eq + 1));
      else if (def.kind === 'bool') set(def, `--${name}`, true);
      else {
        if (i + 1 >= argv.length) throw invalid(`flag needs an argument: --${name}`);
        set(def, `--${name}`, argv[++i]!);
      }
      continue;
    }
    if (a.startsWith('-') && a.length > 1) {
      // a group of shorthands: booleans until one takes a value (the rest of the word, or the next word)
      for (let j = 1; j < a.length; j++) {
        const c = a[j]!;
        const def = byShort.get(c);
        if (!def) throw invalid(`unknown shorthand flag: '${c}' in ${a}`);
        if (a[j + 1] === '=') {
          set(def, `-${c}`, a.slice(j + 2));
          break;
        }
        if (def.kind === 'bool') {
          set(def, `-${c}`, true);
          continue;
        }
        if (j + 1 < a.length) set(def, `-${c}`, a.slice(j + 1));
        else if (i + 1 < argv.length) set(def, `-${c}`, argv[++i]!);
        else throw invalid(`flag needs an argument: '${c}' in -${c}`);
        break;
      }
      continue;
    }
    throw invalid(`"berthd" accepts no arguments`);
  }
  return { values, ...(configFile === undefined ? {} : { configFile }), help, version };
}

/** A value as Go's `%v` prints it (lists `[a b]`, maps `map[k:v]`), for the conflict message. */
export function goValue(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(goValue).join(' ')}]`;
  if (v !== null && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `map[${entries.map(([k, x]) => `${k}:${goValue(x)}`).join(' ')}]`;
  }
  return String(v);
}
