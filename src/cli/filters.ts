/**
 * `--filter key=value` (repeatable) into the `filters` query the Engine API takes: a JSON map of
 * key → {value: true}, docker's filters.Args as the v28 CLI sends it. The CLI checks only the
 * shape; the daemon judges keys and values.
 */
import { UsageError } from './types.js';

export type FilterArgs = Record<string, Record<string, boolean>>;

/** Sets an own, enumerable key: `__proto__=x` from the command line stays data. */
function setOwn<T>(o: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * Adds `key=value`. A filter without `=` is refused as pflag refuses a bad value (exit 125 with
 * the usage); `flag` is how the message names the flag: `-f, --filter` or `--filter`.
 */
export function addFilter(args: FilterArgs, filter: string, flag = '-f, --filter'): FilterArgs {
  const eq = filter.indexOf('=');
  if (eq < 0)
    throw new UsageError(`invalid argument ${JSON.stringify(filter)} for "${flag}" flag: bad format of filter (expected name=value)`, 125);
  const key = filter.slice(0, eq).trim().toLowerCase();
  if (!Object.hasOwn(args, key)) setOwn(args, key, {});
  setOwn(args[key]!, filter.slice(eq + 1).trim(), true);
  return args;
}

/** All of `filters` added to `into` (a new map by default). */
export function parseFilters(filters: string[], flag?: string, into: FilterArgs = {}): FilterArgs {
  for (const f of filters) addFilter(into, f, flag);
  return into;
}

/** The query value, or undefined when there is no filter (docker leaves `filters` out). */
export function filtersQuery(args: FilterArgs): string | undefined {
  return Object.keys(args).length > 0 ? JSON.stringify(args) : undefined;
}

/** `--filter` values straight to the query value. */
export function filtersJson(values: string[], flag?: string): string | undefined {
  return filtersQuery(parseFilters(values, flag));
}

/** Adds `key=value` to a query value (prune's `all=true`). */
export function withFilter(json: string | undefined, key: string, value: string): string {
  const args = json ? (JSON.parse(json) as FilterArgs) : {};
  return JSON.stringify(addFilter(args, `${key}=${value}`));
}
