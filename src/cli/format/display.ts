/** Docker's display helpers (cli/command/formatter/displayutils.go). */
import { runeWidth } from './tabwriter.js';

/**
 * Ellipsis: truncates to a display width, ending with "…"; wide characters count two columns.
 * A width of 1 keeps the first character; 0 or less gives "".
 */
export function ellipsis(s: string, maxDisplayWidth: number): string {
  if (maxDisplayWidth <= 0) return '';
  const rs = [...s];
  if (maxDisplayWidth === 1) return rs[0] ?? '';
  const byteLen = Buffer.byteLength(s);
  if (byteLen === rs.length) {
    if (byteLen <= maxDisplayWidth) return s;
    return `${rs.slice(0, maxDisplayWidth - 1).join('')}…`;
  }
  const display: number[] = [];
  let width = 0;
  for (const r of rs) {
    width += runeWidth(r.codePointAt(0) ?? 0) === 2 ? 2 : 1;
    display.push(width);
  }
  if (width <= maxDisplayWidth) return s;
  for (let i = 0; i < display.length - 1; i++) {
    if ((display[i] as number) <= maxDisplayWidth - 1 && (display[i + 1] as number) > maxDisplayWidth - 1) {
      return `${rs.slice(0, i + 1).join('')}…`;
    }
  }
  return s;
}
