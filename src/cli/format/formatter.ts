/**
 * Docker's format selection (cli/command/formatter.Context): a `--format` value is "table" or
 * "table TEMPLATE" (a header row, then one row per object, aligned by the tab writer), "json"
 * (one JSON object per line), or a template (one line per object). The literal `\t` and `\n` a
 * shell passes through become a tab and a newline, as Docker's preFormat does.
 */
import { CliError } from '../types.js';
import { tabwrite } from './tabwriter.js';
import { headerFuncs, Template, TemplateExecError } from './template/index.js';
import { MARSHAL_ESCAPES_HTML } from './template/values.js';

export const TABLE_FORMAT = 'table';
export const RAW_FORMAT = 'raw';
export const JSON_FORMAT = 'json';
export const DEFAULT_QUIET_FORMAT = '{{.ID}}';

export const isTableFormat = (format: string): boolean => format.startsWith(TABLE_FORMAT);
export const isJSONFormat = (format: string): boolean => format === JSON_FORMAT;

/** The template text Docker runs for a format: without `table`, `{{json .}}` for json, escapes expanded. */
export function finalFormat(format: string): string {
  let f = format;
  if (isTableFormat(f)) f = f.slice(TABLE_FORMAT.length);
  else if (isJSONFormat(f)) f = '{{json .}}';
  f = f.replace(/^ +| +$/g, '');
  return f.replaceAll('\\t', '\t').replaceAll('\\n', '\n');
}

/** The column names of a table: the header row is the template run over this map. */
export type Header = Record<string, string>;

/**
 * Docker's SubHeaderContext: a map[string]string with a Label method, so that the header of
 * `table {{.Label "com.example.some-label"}}` reads "some label".
 */
export class SubHeaderContext extends Map<string, string> {
  static goType = 'formatter.SubHeaderContext';
  Label(name: string): string {
    const parts = name.split('.');
    return (parts[parts.length - 1] as string).replaceAll('-', ' ').replaceAll('_', ' ');
  }
}

/**
 * Renders objects (format contexts) as Docker's Context.Write does and returns the text. A
 * template that does not parse or fails on an object is a CliError "template parsing error: …"
 * (Docker's wording for both); nothing is printed then.
 */
export function writeFormatted(format: string, contexts: readonly object[], header: Header): string {
  let tmpl: Template;
  try {
    tmpl = Template.parse(finalFormat(format));
  } catch (e) {
    throw new CliError(`template parsing error: ${(e as Error).message}`);
  }
  let body = '';
  for (const ctx of contexts) {
    try {
      body += `${tmpl.execute(ctx)}\n`;
    } catch (e) {
      throw new CliError(`template parsing error: ${(e as Error).message}`);
    }
  }
  if (!isTableFormat(format)) return body;
  // The header row: the same template over the column names, with functions that leave the
  // names alone. Docker ignores a failure here and keeps what was written before it.
  let head: string;
  try {
    head = tmpl.with({ funcs: headerFuncs }).execute(new SubHeaderContext(Object.entries(header)));
  } catch (e) {
    head = e instanceof TemplateExecError ? e.partial : '';
  }
  return tabwrite(`${head}\n${body}`);
}

/**
 * The format a list command uses: the flag's, else the config.json default (psFormat,
 * imagesFormat, volumesFormat, statsFormat) unless --quiet, else "table".
 */
export function chooseFormat(flag: string, configDefault: string | undefined, quiet = false): string {
  if (flag !== '') return flag;
  if (configDefault && !quiet) return configDefault;
  return TABLE_FORMAT;
}

/** Docker's MarshalJSON for format contexts: every exported method without arguments, keys sorted. */
export function contextJSON(ctx: object): Record<string, unknown> {
  const names = new Set<string>();
  for (let p = Object.getPrototypeOf(ctx); p && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    for (const k of Object.getOwnPropertyNames(p)) {
      const v = (p as Record<string, unknown>)[k];
      if (k !== 'constructor' && k !== 'FullHeader' && /^\p{Lu}/u.test(k) && typeof v === 'function' && v.length === 0) names.add(k);
    }
  }
  const out: Record<string, unknown> = {};
  for (const k of [...names].sort()) out[k] = (ctx as Record<string, () => unknown>)[k]?.call(ctx);
  return out;
}

/** The base of format contexts: `{{json .}}` prints Docker's JSON of the context. */
export abstract class FormatContext {
  static [MARSHAL_ESCAPES_HTML] = true;
  toJSON(): Record<string, unknown> {
    return contextJSON(this);
  }
}

/** stringid.TruncateID: the 12 first characters of an ID, without its algorithm. */
export function truncateID(id: string): string {
  const i = id.indexOf(':');
  const hex = i >= 0 ? id.slice(i + 1) : id;
  return hex.length > 12 ? hex.slice(0, 12) : hex;
}
