/**
 * A small pflag-like parser over FlagSpec[] for the tests of options.ts, so they do not wait on
 * src/cli/flags.ts: long and short forms, `--x=v`, `-xv`, grouped bool shorts (`-it`), `--`,
 * and no interspersed flags (run/create stop at the image). Test-only; the CLI uses core's parser.
 */
import type { FlagSpec, Flags } from '../../types.js';
import { UsageError } from '../../types.js';

export function parseTestFlags(specs: FlagSpec[], argv: string[]): { flags: Flags; args: string[] } {
  const byName = new Map(specs.map((s) => [s.name, s]));
  const byShort = new Map(specs.filter((s) => s.short).map((s) => [s.short as string, s]));
  const values = new Map<string, string[]>();
  const set = (spec: FlagSpec, v: string) => {
    const list = values.get(spec.name) ?? [];
    if (spec.kind === 'slice') list.push(...v.split(','));
    else list.push(v);
    values.set(spec.name, list);
  };
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--') {
      i++;
      break;
    }
    if (!a.startsWith('-') || a === '-') break;
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq < 0 ? a.slice(2) : a.slice(2, eq);
      const spec = byName.get(name);
      if (!spec) throw new UsageError(`unknown flag: --${name}`, 125);
      if (eq >= 0) set(spec, a.slice(eq + 1));
      else if (spec.kind === 'bool') set(spec, 'true');
      else {
        if (i + 1 >= argv.length) throw new UsageError(`flag needs an argument: --${name}`, 125);
        set(spec, argv[++i] as string);
      }
      continue;
    }
    for (let j = 1; j < a.length; j++) {
      const spec = byShort.get(a[j] as string);
      if (!spec) throw new UsageError(`unknown shorthand flag: '${a[j]}' in ${a}`, 125);
      if (spec.kind === 'bool') {
        if (a[j + 1] === '=') {
          set(spec, a.slice(j + 2));
          break;
        }
        set(spec, 'true');
        continue;
      }
      const rest = a.slice(j + 1).replace(/^=/, '');
      if (rest !== '') set(spec, rest);
      else {
        if (i + 1 >= argv.length) {
          throw new UsageError(`flag needs an argument: '${a[j]}' in -${a[j]}`, 125);
        }
        set(spec, argv[++i] as string);
      }
      break;
    }
  }
  const last = (name: string) => values.get(name)?.at(-1);
  const spec = (name: string) => {
    const s = byName.get(name);
    if (!s) throw new Error(`flag accessed but not defined: ${name}`);
    return s;
  };
  const flags: Flags = {
    bool: (name) => {
      const v = last(name);
      if (v === undefined) return (spec(name).default as boolean | undefined) ?? false;
      return ['1', 't', 'T', 'true', 'TRUE', 'True'].includes(v);
    },
    string: (name) => last(name) ?? String(spec(name).default ?? ''),
    int: (name) => {
      const v = last(name);
      if (v === undefined) return Number(spec(name).default ?? 0);
      if (!/^[+-]?\d+$/.test(v)) {
        const s = spec(name);
        const title = s.short ? `-${s.short}, --${name}` : `--${name}`;
        throw new UsageError(`invalid argument "${v}" for "${title}" flag: strconv.ParseInt: parsing "${v}": invalid syntax`, 125);
      }
      return Number(v);
    },
    float: (name) => Number(last(name) ?? spec(name).default ?? 0),
    list: (name) => {
      spec(name);
      return [...(values.get(name) ?? [])];
    },
    changed: (name) => values.has(name),
  };
  return { flags, args: argv.slice(i) };
}
