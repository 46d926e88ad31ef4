/**
 * docker's formatter.Context.Write for this group's own row contexts (stats): `table` (the
 * default table), `table TEMPLATE` (a header row, then tab-aligned cells: Go's tabwriter with
 * minwidth 10, padding 3), `json` (`{{json .}}`), or a bare template (one line per row).
 */
import { Template, tabwrite } from '../../format/index.js';
import { CliError } from '../../types.js';

export interface Rendered {
  /** Renders the rows (strings are escaped-tab-expanded as docker's preFormat does). */
  render(rows: object[]): string;
}

export function compileFormat(format: string, defaultTable: string, header: object): Rendered {
  if (format === '' || format === 'table') format = defaultTable;
  const table = format.startsWith('table');
  let text = table ? format.slice('table'.length) : format === 'json' ? '{{json .}}' : format;
  text = text
    .replace(/^ +| +$/g, '')
    .replaceAll('\\t', '\t')
    .replaceAll('\\n', '\n');
  let tmpl: Template;
  try {
    tmpl = Template.parse(text);
  } catch (err) {
    throw new CliError(`template parsing error: ${(err as Error).message}`);
  }
  const run = (data: object) => {
    try {
      return tmpl.execute(data);
    } catch (err) {
      throw new CliError(`template: ${(err as Error).message.replace(/^template: /, '')}`);
    }
  };
  return {
    render(rows) {
      let body = '';
      for (const r of rows) body += `${run(r)}\n`;
      if (!table) return body;
      return tabwrite(`${run(header)}\n${body}`, { minwidth: 10, padding: 3 });
    },
  };
}
