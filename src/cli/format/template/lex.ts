/**
 * text/template's lexer: the same items, the same trim markers (`{{- ` and ` -}}`), and the same
 * error texts, since Docker users see them (`unclosed action`, `unterminated quoted string`).
 * A lexical error ends the token stream with an 'error' item; the parser reports it.
 */

export type ItemType =
  | 'error'
  | 'bool'
  | 'char'
  | 'charConstant'
  | 'comment'
  | 'complex'
  | 'assign'
  | 'declare'
  | 'EOF'
  | 'field'
  | 'identifier'
  | 'leftDelim'
  | 'leftParen'
  | 'number'
  | 'pipe'
  | 'rawString'
  | 'rightDelim'
  | 'rightParen'
  | 'space'
  | 'string'
  | 'text'
  | 'variable'
  // keywords
  | 'block'
  | 'break'
  | 'continue'
  | 'dot'
  | 'define'
  | 'else'
  | 'end'
  | 'if'
  | 'nil'
  | 'range'
  | 'template'
  | 'with';

export interface Item {
  typ: ItemType;
  pos: number;
  val: string;
  line: number;
}

const keywords: Record<string, ItemType> = {
  '.': 'dot',
  block: 'block',
  break: 'break',
  continue: 'continue',
  define: 'define',
  else: 'else',
  end: 'end',
  if: 'if',
  range: 'range',
  nil: 'nil',
  template: 'template',
  with: 'with',
};
export const isKeyword = (t: ItemType): boolean =>
  ['block', 'break', 'continue', 'dot', 'define', 'else', 'end', 'if', 'nil', 'range', 'template', 'with'].includes(t);

const LEFT = '{{';
const RIGHT = '}}';
const isSpace = (c: string | undefined) => c === ' ' || c === '\t' || c === '\r' || c === '\n';
const isAlphaNumeric = (c: string | undefined) => c !== undefined && (c === '_' || /^[\p{L}\p{Nd}]$/u.test(c));
const hasLeftTrimMarker = (s: string, at: number) => s[at] === '-' && isSpace(s[at + 1]);
const hasRightTrimMarker = (s: string, at: number) => isSpace(s[at]) && s[at + 1] === '-';

/** Item.String() as the parser's messages print items. */
export function itemString(i: Item): string {
  if (i.typ === 'EOF') return 'EOF';
  if (i.typ === 'error') return i.val;
  if (isKeyword(i.typ)) return `<${i.val}>`;
  const chars = [...i.val];
  if (chars.length > 10) return `${goQuote(chars.slice(0, 10).join(''))}...`;
  return goQuote(i.val);
}

function goQuote(s: string): string {
  // Item texts are what the user typed; JSON's quoting matches Go's %q for them but for a few
  // control characters, which is close enough for a message.
  return JSON.stringify(s);
}

export function lex(input: string): Item[] {
  const items: Item[] = [];
  let pos = 0;
  let start = 0;
  let parenDepth = 0;
  const newlines: number[] = [];
  for (let k = input.indexOf('\n'); k >= 0; k = input.indexOf('\n', k + 1)) newlines.push(k);
  const lineAt = (p: number) => {
    let lo = 0;
    let hi = newlines.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((newlines[mid] as number) < p) lo = mid + 1;
      else hi = mid;
    }
    return lo + 1;
  };
  const emit = (typ: ItemType) => {
    items.push({ typ, pos: start, val: input.slice(start, pos), line: lineAt(start) });
    start = pos;
  };
  const error = (msg: string) => {
    items.push({ typ: 'error', pos: start, val: msg, line: lineAt(start) });
  };
  const atRightDelim = (): [boolean, boolean] => {
    if (hasRightTrimMarker(input, pos) && input.startsWith(RIGHT, pos + 2)) return [true, true];
    if (input.startsWith(RIGHT, pos)) return [true, false];
    return [false, false];
  };
  const atTerminator = () => {
    const r = input[pos];
    if (r === undefined || isSpace(r)) return true;
    if ('.,|:)('.includes(r)) return true;
    return input.startsWith(RIGHT, pos);
  };
  const skipSpaces = () => {
    while (isSpace(input[pos])) pos++;
  };

  // Each state returns false when lexing is over (EOF or error).
  const lexText = (): boolean => {
    const x = input.indexOf(LEFT, pos);
    if (x < 0) {
      pos = input.length;
      if (pos > start) emit('text');
      items.push({ typ: 'EOF', pos, val: '', line: lineAt(pos) });
      return false;
    }
    pos = x;
    let end = pos;
    if (hasLeftTrimMarker(input, x + LEFT.length)) {
      while (end > start && isSpace(input[end - 1])) end--;
    }
    if (end > start) {
      const save = pos;
      pos = end;
      emit('text');
      pos = save;
    }
    start = pos;
    return lexLeftDelim();
  };

  const lexLeftDelim = (): boolean => {
    pos += LEFT.length;
    const trim = hasLeftTrimMarker(input, pos);
    const after = trim ? 2 : 0;
    if (input.startsWith('/*', pos + after)) {
      pos += after;
      start = pos;
      return lexComment();
    }
    emit('leftDelim');
    pos += after;
    start = pos;
    parenDepth = 0;
    return lexInsideAction();
  };

  const lexComment = (): boolean => {
    pos += 2;
    const x = input.indexOf('*/', pos);
    if (x < 0) {
      error('unclosed comment');
      return false;
    }
    pos = x + 2;
    const [delim, trim] = atRightDelim();
    if (!delim) {
      error('comment ends before closing delimiter');
      return false;
    }
    // Comments are not kept (Go emits them only in ParseComments mode).
    if (trim) pos += 2;
    pos += RIGHT.length;
    if (trim) skipSpaces();
    start = pos;
    return true;
  };

  const lexRightDelim = (trim: boolean): void => {
    if (trim) {
      pos += 2;
      start = pos;
    }
    pos += RIGHT.length;
    emit('rightDelim');
    if (trim) {
      skipSpaces();
      start = pos;
    }
  };

  const lexInsideAction = (): boolean => {
    for (;;) {
      const [delim, trim] = atRightDelim();
      if (delim) {
        if (parenDepth === 0) {
          lexRightDelim(trim);
          return true;
        }
        error('unclosed left paren');
        return false;
      }
      const r = input[pos];
      if (r === undefined) {
        error('unclosed action');
        return false;
      }
      if (isSpace(r)) {
        let numSpaces = 0;
        while (isSpace(input[pos])) {
          pos++;
          numSpaces++;
        }
        // A trim-marked right delimiter starts with a space: leave that space to it.
        if (hasRightTrimMarker(input, pos - 1) && input.startsWith(RIGHT, pos + 1)) {
          pos--;
          if (numSpaces === 1) {
            start = pos;
            continue;
          }
        }
        emit('space');
        continue;
      }
      pos++;
      switch (r) {
        case '=':
          emit('assign');
          continue;
        case ':':
          if (input[pos] !== '=') {
            error('expected :=');
            return false;
          }
          pos++;
          emit('declare');
          continue;
        case '|':
          emit('pipe');
          continue;
        case '"':
          if (!lexQuote()) return false;
          continue;
        case '`':
          if (!lexRawQuote()) return false;
          continue;
        case '$':
          if (!lexVariable()) return false;
          continue;
        case "'":
          if (!lexChar()) return false;
          continue;
        case '(':
          parenDepth++;
          emit('leftParen');
          continue;
        case ')':
          parenDepth--;
          if (parenDepth < 0) {
            error('unexpected right paren');
            return false;
          }
          emit('rightParen');
          continue;
      }
      if (r === '.') {
        const nx = input[pos];
        if (nx === undefined || nx < '0' || nx > '9') {
          if (!lexFieldOrVariable('field')) return false;
          continue;
        }
      }
      if (r === '.' || r === '+' || r === '-' || (r >= '0' && r <= '9')) {
        pos--;
        if (!lexNumber()) return false;
        continue;
      }
      if (isAlphaNumeric(r)) {
        pos--;
        if (!lexIdentifier()) return false;
        continue;
      }
      const cp = r.codePointAt(0) ?? 0;
      if (cp < 0x80 && cp >= 0x20 && cp !== 0x7f) {
        emit('char');
        continue;
      }
      error(`unrecognized character in action: ${formatRune(input.codePointAt(pos - 1) ?? 0)}`);
      return false;
    }
  };

  const lexIdentifier = (): boolean => {
    while (isAlphaNumeric(input[pos])) pos++;
    const word = input.slice(start, pos);
    if (!atTerminator()) {
      error(`bad character ${formatRune(input.codePointAt(pos) ?? 0)}`);
      return false;
    }
    const kw = keywords[word];
    if (kw !== undefined && Object.hasOwn(keywords, word)) emit(kw);
    else if (word === 'true' || word === 'false') emit('bool');
    else emit('identifier');
    return true;
  };

  const lexVariable = (): boolean => {
    if (atTerminator()) {
      emit('variable');
      return true;
    }
    return lexFieldOrVariable('variable');
  };

  const lexFieldOrVariable = (typ: 'field' | 'variable'): boolean => {
    if (atTerminator()) {
      emit(typ === 'variable' ? 'variable' : 'dot');
      return true;
    }
    while (isAlphaNumeric(input[pos])) pos++;
    if (!atTerminator()) {
      error(`bad character ${formatRune(input.codePointAt(pos) ?? 0)}`);
      return false;
    }
    emit(typ);
    return true;
  };

  const lexQuoted = (close: string, what: string): boolean => {
    for (;;) {
      const c = input[pos++];
      if (c === '\\' && close !== '`') {
        const n = input[pos++];
        if (n !== undefined && n !== '\n') continue;
        error(what);
        return false;
      }
      if (c === undefined || (c === '\n' && close !== '`')) {
        error(what);
        return false;
      }
      if (c === close) return true;
    }
  };
  const lexQuote = () => lexQuoted('"', 'unterminated quoted string') && (emit('string'), true);
  const lexRawQuote = () => lexQuoted('`', 'unterminated raw quoted string') && (emit('rawString'), true);
  const lexChar = () => lexQuoted("'", 'unterminated character constant') && (emit('charConstant'), true);

  const accept = (valid: string): boolean => {
    const c = input[pos];
    if (c !== undefined && valid.includes(c)) {
      pos++;
      return true;
    }
    return false;
  };
  const acceptRun = (valid: string) => {
    while (accept(valid)) {}
  };
  const scanNumber = (): boolean => {
    accept('+-');
    let digits = '0123456789_';
    if (accept('0')) {
      if (accept('xX')) digits = '0123456789abcdefABCDEF_';
      else if (accept('oO')) digits = '01234567_';
      else if (accept('bB')) digits = '01_';
    }
    acceptRun(digits);
    if (accept('.')) acceptRun(digits);
    if (digits.length === 11 && accept('eE')) {
      accept('+-');
      acceptRun('0123456789_');
    }
    if (digits.length === 23 && accept('pP')) {
      accept('+-');
      acceptRun('0123456789_');
    }
    accept('i');
    if (isAlphaNumeric(input[pos])) {
      pos++;
      return false;
    }
    return true;
  };
  const lexNumber = (): boolean => {
    if (!scanNumber()) {
      error(`bad number syntax: ${JSON.stringify(input.slice(start, pos))}`);
      return false;
    }
    const sign = input[pos];
    if (sign === '+' || sign === '-') {
      if (!scanNumber() || input[pos - 1] !== 'i') {
        error(`bad number syntax: ${JSON.stringify(input.slice(start, pos))}`);
        return false;
      }
      emit('complex');
      return true;
    }
    emit('number');
    return true;
  };

  while (lexText()) {}
  return items;
}

/** Go's %#U: U+0023 '#'. */
function formatRune(r: number): string {
  return `U+${r.toString(16).toUpperCase().padStart(4, '0')} '${String.fromCodePoint(r)}'`;
}
