/**
 * Go's encoding/json Indent and Compact over JSON text: the daemon's bytes are re-spaced, never
 * re-encoded, so key order, number spelling and string escapes stay exactly as the daemon wrote
 * them — what `docker inspect` prints. Input must be valid JSON (it came from JSON.parse-able text).
 */

/** Reformats `src`: with `indent` one value per line (`[]`/`{}` stay closed up), or compact with ''. */
function reformat(src: string, indent: string | undefined): string {
  let out = '';
  let depth = 0;
  // after `[` or `{`: the newline is written only when a first element follows (empty stays `[]`)
  let pendingOpen = false;
  const newline = () => `\n${indent!.repeat(depth)}`;
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') continue;
    if (indent !== undefined && pendingOpen && c !== ']' && c !== '}') {
      out += newline();
      pendingOpen = false;
    }
    switch (c) {
      case '"': {
        let j = i + 1;
        while (j < src.length && src[j] !== '"') j += src[j] === '\\' ? 2 : 1;
        out += src.slice(i, j + 1);
        i = j;
        break;
      }
      case '[':
      case '{':
        out += c;
        depth++;
        pendingOpen = indent !== undefined;
        break;
      case ']':
      case '}':
        depth--;
        if (indent !== undefined && !pendingOpen) out += newline();
        pendingOpen = false;
        out += c;
        break;
      case ',':
        out += c;
        if (indent !== undefined) out += newline();
        break;
      case ':':
        out += indent !== undefined ? ': ' : ':';
        break;
      default:
        out += c;
    }
  }
  return out;
}

/** json.Indent(dst, src, "", indent). */
export function indentJson(src: string, indent = '    '): string {
  return reformat(src, indent);
}

/** json.Compact. */
export function compactJson(src: string): string {
  return reformat(src, undefined);
}
