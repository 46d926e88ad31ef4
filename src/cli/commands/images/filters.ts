/** `--filter key=value` flags as the docker CLI sends them: `filters={"key":{"value":true}}` (filters.ParseFlag). */
import { UsageError } from '../../types.js';

export type Filters = Record<string, Record<string, boolean>>;

/** `flag` names the flag in the error as pflag does: `-f, --filter` or `--filter`. */
export function parseFilters(args: string[], into: Filters = {}, flag = '--filter'): Filters {
  for (const arg of args) {
    const eq = arg.indexOf('=');
    if (eq < 0) throw new UsageError(`invalid argument "${arg}" for "${flag}" flag: bad format of filter (expected name=value)`, 125);
    const name = arg.slice(0, eq).trim().toLowerCase();
    const value = arg.slice(eq + 1).trim();
    if (!Object.hasOwn(into, name)) Object.defineProperty(into, name, { value: {}, enumerable: true, writable: true, configurable: true });
    Object.defineProperty(into[name]!, value, { value: true, enumerable: true, writable: true, configurable: true });
  }
  return into;
}

/** The query value, or undefined when there is no filter (the CLI then sends none). */
export function filtersQuery(f: Filters): string | undefined {
  return Object.keys(f).length ? JSON.stringify(f) : undefined;
}
