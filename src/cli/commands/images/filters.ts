/** `--filter key=value` flags as the docker CLI sends them: `filters={"key":{"value":true}}` (filters.ParseFlag). */
import { CliError } from '../../types.js';

export type Filters = Record<string, Record<string, boolean>>;

export function parseFilters(args: string[], into: Filters = {}): Filters {
  for (const arg of args) {
    const eq = arg.indexOf('=');
    if (eq < 0) throw new CliError('bad format of filter (expected name=value)');
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
