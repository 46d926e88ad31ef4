/**
 * Go's text/tabwriter as the docker CLI's fork configures it for tables (minwidth 10, tabwidth 1,
 * padding 3, padchar ' ', no flags) and measures cells (go-runewidth: East Asian wide characters
 * take two columns, combining marks none). Cells are tab-terminated; the text after a line's last
 * tab is not part of a column. Contiguous lines that have a cell in a column form a block whose
 * cells are padded to the block's widest cell plus padding, never narrower than minwidth.
 */

export interface TabwriterOptions {
  minwidth?: number;
  padding?: number;
  padchar?: string;
}

/** go-runewidth's width of one code point (0 for controls and combining marks, 2 for wide). */
export function runeWidth(cp: number): number {
  if (cp === 0) return 0;
  if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0)) return 0;
  if (cp === 0x200b || (cp >= 0x200c && cp <= 0x200f) || cp === 0xfeff) return 0;
  if (/\p{M}/u.test(String.fromCodePoint(cp))) return 0;
  if (
    (cp >= 0x1100 && cp <= 0x115f) ||
    (cp >= 0x2e80 && cp <= 0x303e) ||
    (cp >= 0x3041 && cp <= 0x33ff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0xa000 && cp <= 0xa4cf) ||
    (cp >= 0xac00 && cp <= 0xd7a3) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xfe30 && cp <= 0xfe4f) ||
    (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6) ||
    (cp >= 0x1f300 && cp <= 0x1f64f) ||
    (cp >= 0x1f900 && cp <= 0x1f9ff) ||
    (cp >= 0x20000 && cp <= 0x3fffd)
  ) {
    return 2;
  }
  return 1;
}

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

export function stringWidth(s: string): number {
  // nearly every cell: one column per character (a table of 1000 rows measures ~10,000 cells)
  if (PRINTABLE_ASCII.test(s)) return s.length;
  let w = 0;
  for (const ch of s) w += runeWidth(ch.codePointAt(0) ?? 0);
  return w;
}

interface Cell {
  text: string;
  width: number;
}

/** Aligns the tab-terminated cells of `text` as Docker's tables are aligned. */
export function tabwrite(text: string, opts: TabwriterOptions = {}): string {
  const minwidth = opts.minwidth ?? 10;
  const padding = opts.padding ?? 3;
  const padchar = opts.padchar ?? ' ';
  const lines: Cell[][] = text.split('\n').map((l) => l.split('\t').map((t) => ({ text: t, width: stringWidth(t) })));
  const out: string[] = [];
  const widths: number[] = [];

  const writeLines = (line0: number, line1: number) => {
    for (let i = line0; i < line1; i++) {
      const line = lines[i] as Cell[];
      line.forEach((c, j) => {
        out.push(c.text);
        if (j < widths.length) out.push(padchar.repeat(Math.max((widths[j] as number) - c.width, 0)));
      });
      if (i + 1 < lines.length) out.push('\n');
    }
  };

  const format = (line0: number, line1: number): void => {
    const column = widths.length;
    for (let cur = line0; cur < line1; cur++) {
      if (column >= (lines[cur] as Cell[]).length - 1) continue;
      // A block of lines with a cell in this column starts here.
      writeLines(line0, cur);
      line0 = cur;
      let width = minwidth;
      for (; cur < line1; cur++) {
        const line = lines[cur] as Cell[];
        if (column >= line.length - 1) break;
        const w = (line[column] as Cell).width + padding;
        if (w > width) width = w;
      }
      widths.push(width);
      format(line0, cur);
      widths.pop();
      line0 = cur;
    }
    writeLines(line0, line1);
  };

  format(0, lines.length);
  return out.join('');
}
