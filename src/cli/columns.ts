/**
 * A subset of Go's text/tabwriter (cells ended by tabs, aligned per column block of consecutive
 * lines, padding with spaces) for the frame's own outputs (`version`, `context ls`) until the
 * format helper's writer (src/cli/format/) is merged.
 */
export function tabwrite(text: string, minwidth: number, padding: number): string {
  const lines = text.split('\n').map((l) => l.split('\t'));
  const widths: number[] = [];
  let out = '';
  const width = (s: string) => [...s].length;
  const writeLines = (from: number, to: number) => {
    for (let i = from; i < to; i++) {
      const cells = lines[i] as string[];
      for (let j = 0; j < cells.length; j++) {
        const c = cells[j] as string;
        if (j < cells.length - 1 && j < widths.length) out += c + ' '.repeat(Math.max(0, (widths[j] as number) - width(c)));
        else out += c;
      }
      if (i < lines.length - 1) out += '\n';
    }
  };
  const format = (line0: number, line1: number) => {
    const column = widths.length;
    for (let t = line0; t < line1; t++) {
      if (column >= (lines[t] as string[]).length - 1) continue;
      writeLines(line0, t);
      line0 = t;
      let w = minwidth;
      for (; t < line1; t++) {
        const cells = lines[t] as string[];
        if (column >= cells.length - 1) break;
        w = Math.max(w, width(cells[column] as string) + padding);
      }
      widths.push(w);
      format(line0, t);
      widths.pop();
      line0 = t;
      t--;
    }
    writeLines(line0, line1);
  };
  format(0, lines.length);
  return out;
}
