/**
 * Docker's output formats for the volume and system commands: `table` (a header row and
 * tab-aligned columns), `table TEMPLATE`, `json`, a Go template per object, and inspect's
 * indented JSON. The template engine is the format helper's (src/cli/format/); until it is
 * merged, a stand-in here knows field paths, `.`, `json` and literal text only.
 */
import { CliError } from '../../types.js';
import { goEscape } from './shared.js';

export type Template = (data: unknown) => string;

type Node = { text: string } | { path: string[]; json: boolean };

/** Parses `text`; errors are the docker CLI's texts (`template parsing error: …`, exit 1 or 64). */
export function parseTemplate(text: string, errPrefix = 'template parsing error: ', exitCode = 1): Template {
  const nodes: Node[] = [];
  let i = 0;
  while (i < text.length) {
    const open = text.indexOf('{{', i);
    if (open < 0) {
      nodes.push({ text: text.slice(i) });
      break;
    }
    if (open > i) nodes.push({ text: text.slice(i, open) });
    const close = text.indexOf('}}', open + 2);
    if (close < 0) throw new CliError(`${errPrefix}template: :1: unclosed action`, exitCode);
    const action = text.slice(open + 2, close).trim();
    const m = /^(json\s+)?(\.|(?:\.[A-Za-z_][A-Za-z0-9_]*)+)$/.exec(action);
    if (!m)
      throw new CliError(`${errPrefix}template: :1: unsupported action {{${action}}} (berth's template engine is not there yet)`, exitCode);
    nodes.push({ json: m[1] !== undefined, path: m[2] === '.' ? [] : m[2]!.slice(1).split('.') });
    i = close + 2;
  }
  return (data) => {
    let out = '';
    for (const n of nodes) {
      if ('text' in n) {
        out += n.text;
        continue;
      }
      let v: unknown = data;
      for (const k of n.path) {
        if (v === null || typeof v !== 'object' || !(k in (v as object)))
          throw new CliError(`${errPrefix}template: :1:2: executing "" at <.${n.path.join('.')}>: can't evaluate field ${k}`, exitCode);
        v = (v as Record<string, unknown>)[k];
      }
      out += n.json ? goEscape(JSON.stringify(v ?? null)) : goPrint(v);
    }
    return out;
  };
}

/** fmt.Print of a value as text/template prints it. */
function goPrint(v: unknown): string {
  if (v === null || v === undefined) return '<no value>';
  if (Array.isArray(v)) return `[${v.map(goPrint).join(' ')}]`;
  if (typeof v === 'object')
    return `map[${Object.keys(v)
      .sort()
      .map((k) => `${k}:${goPrint((v as Record<string, unknown>)[k])}`)
      .join(' ')}]`;
  return String(v);
}

/** Docker's `\t` and `\n` in a format as typed on a command line. */
const unescapeFormat = (f: string) => f.replaceAll('\\t', '\t').replaceAll('\\n', '\n');

/** Go's text/tabwriter as Docker's formatter sets it up: minwidth 10, padding 3, spaces. */
export function tabwrite(rows: string[][], minwidth = 10, padding = 3): string {
  // Columns are aligned over the whole block (Docker's tables have no blank cells between).
  const widths: number[] = [];
  for (const r of rows)
    r.forEach((c, j) => {
      if (j < r.length - 1) widths[j] = Math.max(widths[j] ?? minwidth, [...c].length + padding);
    });
  return rows.map((r) => r.map((c, j) => (j < r.length - 1 ? c.padEnd(widths[j]!) : c)).join('')).join('\n');
}

export interface ListFormat<T> {
  /** `table {{.Driver}}\t{{.Name}}`: what `table` (and no --format) means. */
  defaultTable: string;
  /** The column titles: field → header (`Name` → `VOLUME NAME`). */
  headers: Record<string, string>;
  /** The object the template sees for one row. */
  context(item: T): Record<string, unknown>;
}

/**
 * Writes `items` in `format` (`table`, `table …`, `json`, or a template per item) to `out`, as
 * Docker's formatter does: a table starts with its header row (even with no items), templates
 * print one line per item.
 */
export function writeList<T>(out: { write(s: string): unknown }, format: string, items: T[], f: ListFormat<T>): void {
  let fmt = format === '' || format === 'table' ? f.defaultTable : format === 'json' ? '{{json .}}' : format;
  const table = fmt.startsWith('table');
  if (table) fmt = fmt.slice(5).trim();
  const tmpl = parseTemplate(unescapeFormat(fmt));
  // Docker's contexts marshal as Go maps: keys in sorted order.
  const lines = items.map((i) => tmpl(sortedKeys(f.context(i))));
  if (!table) {
    for (const l of lines) out.write(`${l}\n`);
    return;
  }
  const header = tmpl(new Proxy(f.headers, { get: (h, k: string) => h[k] ?? '', has: () => true }));
  const rows = [header, ...lines].map((l) => l.split('\t'));
  out.write(`${tabwrite(rows)}\n`);
}

function sortedKeys(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
