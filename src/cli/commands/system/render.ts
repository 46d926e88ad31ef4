/**
 * Docker's output formats for the volume and system commands, over the format helper's Go
 * templates and tab writer (src/cli/format/): `table` (a header row and tab-aligned columns),
 * `table TEMPLATE`, `json`, a template per object; errors with the CLI's prefixes and statuses.
 */

import { Template, TemplateExecError, TemplateParseError, tabwrite } from '../../format/index.js';
import { headerFuncs } from '../../format/template/index.js';
import { CliError } from '../../types.js';

export type Render = (data: unknown) => string;

/**
 * Parses `text`; a parse or execution error becomes the CLI's text (`template parsing error: …`,
 * `Error parsing format: …`) with its exit status (1, or 64 for inspect-like commands).
 */
export function parseTemplate(text: string, errPrefix = 'template parsing error: ', exitCode = 1): Render {
  let t: Template;
  try {
    t = Template.parse(text);
  } catch (err) {
    if (err instanceof TemplateParseError) throw new CliError(`${errPrefix}${err.message}`, exitCode);
    throw err;
  }
  return (data) => {
    try {
      return t.execute(data);
    } catch (err) {
      if (err instanceof TemplateExecError) throw new CliError(`${errPrefix}${err.message}`, exitCode);
      throw err;
    }
  };
}

/** Docker's `\t` and `\n` in a format as typed on a command line. */
export const unescapeFormat = (f: string) => f.replaceAll('\\t', '\t').replaceAll('\\n', '\n');

const structTypes = new Map<string, new () => object>();

/**
 * A Go struct for templates: its fields as exported properties, its Go type name for messages
 * (`can't evaluate field X in type *formatter.volumeContext`). Fields are kept in sorted order,
 * as Docker's contexts marshal (`{{json .}}`).
 */
export function goStruct<T extends Record<string, unknown>>(goType: string, fields: T, sorted = true): T {
  let C = structTypes.get(goType);
  if (!C) {
    C = class {};
    Object.defineProperty(C, 'goType', { value: goType });
    structTypes.set(goType, C);
  }
  const o = new C() as Record<string, unknown>;
  const keys = Object.keys(fields);
  for (const k of sorted ? keys.sort() : keys) o[k] = fields[k];
  return o as T;
}

export interface ListFormat<T> {
  /** `table {{.Driver}}\t{{.Name}}`: what `table` (and no --format) means. */
  defaultTable: string;
  /** The column titles: field → header (`Name` → `VOLUME NAME`). */
  headers: Record<string, string>;
  /** The object the template sees for one row. */
  context(item: T): object;
}

/**
 * Writes `items` in `format` (`table`, `table …`, `json`, or a template per item) as Docker's
 * formatter does: a table starts with its header row (even with no items) and is aligned by the
 * tab writer; a template prints one line per item.
 */
export function writeList<T>(out: { write(s: string): unknown }, format: string, items: T[], f: ListFormat<T>): void {
  let fmt = format === '' || format === 'table' ? f.defaultTable : format === 'json' ? '{{json .}}' : format;
  const table = fmt.startsWith('table');
  if (table) fmt = fmt.slice(5).trim();
  fmt = unescapeFormat(fmt);
  let t: Template;
  try {
    t = Template.parse(fmt);
  } catch (err) {
    if (err instanceof TemplateParseError) throw new CliError(`template parsing error: ${err.message}`);
    throw err;
  }
  let text = '';
  try {
    if (table) text += `${t.with({ funcs: headerFuncs }).execute(f.headers)}\n`;
    for (const i of items) text += `${t.execute(f.context(i))}\n`;
  } catch (err) {
    if (err instanceof TemplateExecError) throw new CliError(`template parsing error: ${err.message}`);
    throw err;
  }
  out.write(table ? tabwrite(text) : text);
}
