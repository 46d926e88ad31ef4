/**
 * A strict JSON reader that says where a document is malformed (line and column), which
 * JSON.parse on Node 20 does not always do ("Unexpected token '}', ... is not valid JSON").
 * daemon.json is small and hand-edited: the position is what its author needs. Pure.
 */

export class JsonSyntaxError extends Error {
  constructor(
    readonly reason: string,
    readonly line: number,
    readonly column: number,
  ) {
    super(`${reason} at line ${line}, column ${column}`);
  }
}

/** The document's value, or a JsonSyntaxError naming the first bad position (1-based). */
export function parseJson(text: string): unknown {
  let i = 0;
  const fail = (reason: string): never => {
    let line = 1;
    let col = 1;
    for (let k = 0; k < i && k < text.length; k++) {
      if (text[k] === '\n') {
        line++;
        col = 1;
      } else {
        col++;
      }
    }
    throw new JsonSyntaxError(reason, line, col);
  };
  const ws = () => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++;
  };
  const what = () => (i >= text.length ? 'unexpected end of input' : `invalid character ${JSON.stringify(text[i])}`);

  const str = (): string => {
    const start = i;
    i++; // the opening quote
    while (i < text.length && text[i] !== '"') {
      const c = text.charCodeAt(i);
      if (c < 0x20) fail('invalid control character in string');
      if (text[i] === '\\') {
        i++;
        if (text[i] === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 1, i + 5))) fail('invalid \\u escape in string');
          i += 4;
        } else if (!'"\\/bfnrt'.includes(text[i] ?? 'x') || i >= text.length) {
          fail('invalid escape in string');
        }
      }
      i++;
    }
    if (i >= text.length) fail('unterminated string');
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };

  const num = (): number => {
    const m = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(text.slice(i));
    if (!m) fail(what());
    i += m![0].length;
    return Number(m![0]);
  };

  const value = (depth: number): unknown => {
    if (depth > 100) fail('nesting too deep');
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const out: Record<string, unknown> = {};
      ws();
      if (text[i] === '}') {
        i++;
        return out;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail(`${what()} looking for beginning of object key string`);
        const k = str();
        ws();
        if (text[i] !== ':') fail(`${what()} after object key`);
        i++;
        // defineProperty: a key named __proto__ is data, not the prototype
        Object.defineProperty(out, k, { value: value(depth + 1), enumerable: true, writable: true, configurable: true });
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return out;
        }
        fail(`${what()} after object key:value pair`);
      }
    }
    if (c === '[') {
      i++;
      const out: unknown[] = [];
      ws();
      if (text[i] === ']') {
        i++;
        return out;
      }
      for (;;) {
        out.push(value(depth + 1));
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return out;
        }
        fail(`${what()} after array element`);
      }
    }
    if (c === '"') return str();
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return num();
    for (const [word, v] of [
      ['true', true],
      ['false', false],
      ['null', null],
    ] as const) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return v;
      }
    }
    return fail(`${what()} looking for beginning of value`);
  };

  const v = value(0);
  ws();
  if (i < text.length) fail(`${what()} after top-level value`);
  return v;
}
