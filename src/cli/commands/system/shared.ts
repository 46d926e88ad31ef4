/**
 * What the volume and system commands share: Docker's `--filter` flags turned into the API's
 * `filters` JSON, the confirmation prompt of the prune commands, Docker's size units, the daemon's
 * errors in the CLI's words, and the texts of the flags these commands have in common.
 */
export { filtersJson, withFilter } from '../../filters.js';
export { confirm } from '../../prompt.js';

import { ApiError } from '../../../client/types.js';
import { type CliContext, CliError, type FlagSpec } from '../../types.js';

/** The `--format` help of list commands (table, json or a template). */
export const LIST_FORMAT_USAGE =
  "Format output using a custom template:\n'table':            Print output in table format with column headers (default)\n'table TEMPLATE':   Print output in table format using the given Go template\n'json':             Print in JSON format\n'TEMPLATE':         Print output using the given Go template.\nRefer to https://docs.docker.com/go/formatting/ for more information about formatting output with templates";
/** The `--format` help of inspect-like commands (json or a template). */
export const INSPECT_FORMAT_USAGE =
  "Format output using a custom template:\n'json':             Print in JSON format\n'TEMPLATE':         Print output using the given Go template.\nRefer to https://docs.docker.com/go/formatting/ for more information about formatting output with templates";

export const filterFlag = (usage: string, short?: string): FlagSpec => ({
  name: 'filter',
  ...(short ? { short } : {}),
  kind: 'list',
  valueName: 'filter',
  usage,
});

/** `k=v` strings → a map (Docker's ConvertKVStringsToMap: `k` alone maps to ""). */
export function kvMap(values: string[]): Record<string, string> {
  const m: Record<string, string> = {};
  for (const v of values) {
    const eq = v.indexOf('=');
    if (eq < 0) m[v] = '';
    else m[v.slice(0, eq)] = v.slice(eq + 1);
  }
  return m;
}

/** Is the negotiated API version at least `want` (`1.42`)? */
export function apiAtLeast(version: string, want: string): boolean {
  const [a = 0, b = 0] = version.split('.').map(Number);
  const [c = 0, d = 0] = want.split('.').map(Number);
  return a > c || (a === c && b >= d);
}

/** A flag the daemon's API version does not have, in the docker CLI's words. */
export function requireApi(flag: string, want: string, version: string): void {
  if (!apiAtLeast(version, want))
    throw new CliError(`"--${flag}" requires API version ${want}, but the Docker daemon API version is ${version}`);
}

export { bytesSize, humanSize } from '../../format/index.js';

/** A daemon's error as the CLI prints it inside a longer message. */
export function errorText(err: unknown): string {
  if (err instanceof ApiError) return `Error response from daemon: ${err.message}`;
  return err instanceof Error ? err.message : String(err);
}

/** Go's json.MarshalIndent(v, "", "    ") (what `inspect` prints): HTML characters escaped as Go does. */
export function goJsonIndent(v: unknown): string {
  return goEscape(JSON.stringify(v, null, 4));
}

/** Go's json.Marshal escapes <, > and & (and U+2028/2029). */
export function goEscape(s: string): string {
  return s.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
