/**
 * Docker's formatter.Context.Write for list commands (images, history): `table …` (a header row
 * from the same template over the column names, then the rows, aligned by the tab writer),
 * `json` (`{{json .}}` per row) or a raw template; `\t` and `\n` typed in the format are made
 * real. Template errors carry the CLI's "template parsing error: " prefix.
 */
import { type FuncMap, goJSON, stringWidth, Template, tabwrite } from '../../format/index.js';
import { headerFuncs } from '../../format/template/index.js';
import { CliError } from '../../types.js';

export const TABLE = 'table';

/**
 * A row's format context (Docker's imageContext, historyContext): its capitalised fields are what
 * templates see. `{{json .}}` gives every field with the keys sorted and `<>&` escaped, because
 * Docker's MarshalJSON goes through json.Marshal.
 */
export abstract class FormatContext {
  toJSON(): Record<string, unknown> {
    return Object.fromEntries(Object.entries(this).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }

  marshalJSON(): string {
    return JSON.stringify(this.toJSON()).replace(/[<>&]/g, (c) => `\\u00${c.charCodeAt(0).toString(16)}`);
  }
}

const contextFuncs: FuncMap = {
  json: { params: ['any'], fn: (v) => (v instanceof FormatContext ? v.marshalJSON() : goJSON(v)) },
};

/** formatter.Ellipsis: at most `max` display cells, the last one `…` when cut. */
export function ellipsis(s: string, max: number): string {
  if (max <= 0) return '';
  if (stringWidth(s) <= max) return s;
  let out = '';
  let w = 0;
  for (const ch of s) {
    const cw = stringWidth(ch);
    if (w + cw > max - 1) break;
    out += ch;
    w += cw;
  }
  return `${out}…`;
}

/** stringid.TruncateID: the hex after `algo:`, 12 characters. */
export function truncateId(id: string): string {
  const colon = id.indexOf(':');
  const hex = colon >= 0 ? id.slice(colon + 1) : id;
  return hex.length > 12 ? hex.slice(0, 12) : hex;
}

function templateError(err: unknown): CliError {
  return new CliError(`template parsing error: ${(err as Error).message}`);
}

/** Writes `rows` in `format` (Docker's Format string); `header` maps field names to column titles. */
export function writeFormatted(format: string, rows: object[], header: Record<string, string>): string {
  const isTable = format.startsWith(TABLE);
  let text = isTable ? format.slice(TABLE.length) : format === 'json' ? '{{json .}}' : format;
  text = text.trim().replaceAll('\\t', '\t').replaceAll('\\n', '\n');
  let tmpl: Template;
  try {
    tmpl = Template.parse(text, { funcs: contextFuncs });
  } catch (err) {
    throw templateError(err);
  }
  let body = '';
  for (const row of rows) {
    try {
      body += `${tmpl.execute(row)}\n`;
    } catch (err) {
      throw templateError(err);
    }
  }
  if (!isTable) return body;
  let head: string;
  try {
    head = tmpl.with({ funcs: headerFuncs }).execute(header);
  } catch (err) {
    throw templateError(err);
  }
  return tabwrite(`${head}\n${body}`, { minwidth: 10, padding: 3 });
}
