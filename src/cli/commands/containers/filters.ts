/**
 * `--filter key=value` (repeatable) into the `filters` query the Engine API takes: a JSON map of
 * key → {value: true}, docker's filters.Args as it sends it. The CLI checks only the shape.
 */
import { UsageError } from '../../types.js';

export type FilterArgs = Record<string, Record<string, boolean>>;

/**
 * Adds `key=value`. A filter without `=` is refused as pflag refuses a bad value (exit 125 with
 * the usage); `flag` is how the message names the flag: `-f, --filter` or `--filter`.
 */
export function addFilter(args: FilterArgs, filter: string, flag = '-f, --filter'): FilterArgs {
  const eq = filter.indexOf('=');
  if (eq < 0)
    throw new UsageError(`invalid argument ${JSON.stringify(filter)} for "${flag}" flag: bad format of filter (expected name=value)`, 125);
  const key = filter.slice(0, eq).trim().toLowerCase();
  const value = filter.slice(eq + 1).trim();
  args[key] ??= {};
  args[key][value] = true;
  return args;
}

export function parseFilters(filters: string[], flag?: string): FilterArgs {
  const args: FilterArgs = {};
  for (const f of filters) addFilter(args, f, flag);
  return args;
}

/** The query value, or undefined when there is no filter (docker leaves `filters` out). */
export function filtersQuery(args: FilterArgs): string | undefined {
  return Object.keys(args).length > 0 ? JSON.stringify(args) : undefined;
}
