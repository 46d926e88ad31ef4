/**
 * text/template's parser: the parse tree, the node texts that execution errors quote
 * (`at <.Foo>`), and Go's parse errors word for word (`template: :1: unexpected "}" in
 * operand`, `function "nope" not defined`, `undefined variable "$x"`, `missing value for if`).
 */
import { type Item, type ItemType, isKeyword, itemString, lex } from './lex.js';

export type Node =
  | ListNode
  | TextNode
  | ActionNode
  | PipeNode
  | CommandNode
  | FieldNode
  | ChainNode
  | VariableNode
  | IdentifierNode
  | DotNode
  | NilNode
  | BoolNode
  | NumberNode
  | StringNode
  | IfNode
  | RangeNode
  | WithNode
  | TemplateNode
  | BreakNode
  | ContinueNode
  | ElseNode
  | EndNode;

interface Base {
  pos: number;
}
export interface ListNode extends Base {
  type: 'list';
  nodes: Node[];
}
export interface TextNode extends Base {
  type: 'text';
  text: string;
}
export interface ActionNode extends Base {
  type: 'action';
  line: number;
  pipe: PipeNode;
}
export interface PipeNode extends Base {
  type: 'pipe';
  line: number;
  isAssign: boolean;
  decl: VariableNode[];
  cmds: CommandNode[];
}
export interface CommandNode extends Base {
  type: 'command';
  args: Node[];
}
export interface FieldNode extends Base {
  type: 'field';
  ident: string[];
}
export interface ChainNode extends Base {
  type: 'chain';
  node: Node;
  field: string[];
}
export interface VariableNode extends Base {
  type: 'variable';
  ident: string[];
}
export interface IdentifierNode extends Base {
  type: 'identifier';
  ident: string;
}
export interface DotNode extends Base {
  type: 'dot';
}
export interface NilNode extends Base {
  type: 'nil';
}
export interface BoolNode extends Base {
  type: 'bool';
  value: boolean;
}
export interface NumberNode extends Base {
  type: 'number';
  text: string;
  isInt: boolean;
  isFloat: boolean;
  isComplex: boolean;
  int: number;
  float: number;
}
export interface StringNode extends Base {
  type: 'string';
  quoted: string;
  text: string;
}
interface Branch extends Base {
  line: number;
  pipe: PipeNode;
  list: ListNode;
  elseList?: ListNode;
}
export interface IfNode extends Branch {
  type: 'if';
}
export interface RangeNode extends Branch {
  type: 'range';
}
export interface WithNode extends Branch {
  type: 'with';
}
export interface TemplateNode extends Base {
  type: 'template';
  line: number;
  name: string;
  pipe?: PipeNode;
}
export interface BreakNode extends Base {
  type: 'break';
}
export interface ContinueNode extends Base {
  type: 'continue';
}
export interface ElseNode extends Base {
  type: 'else';
}
export interface EndNode extends Base {
  type: 'end';
}

/** A parse failure, with Go's message (`template: NAME:LINE: …`). */
export class TemplateParseError extends Error {
  override readonly name = 'TemplateParseError';
}

/** node.String(), as Go prints nodes in error contexts. */
export function nodeString(n: Node): string {
  switch (n.type) {
    case 'list':
      return n.nodes.map(nodeString).join('');
    case 'text':
      return n.text;
    case 'action':
      return `{{${nodeString(n.pipe)}}}`;
    case 'pipe': {
      let s = '';
      if (n.decl.length > 0) {
        s = `${n.decl.map(nodeString).join(', ')} ${n.isAssign ? '=' : ':='} `;
      }
      return s + n.cmds.map(nodeString).join(' | ');
    }
    case 'command':
      return n.args.map((a) => (a.type === 'pipe' ? `(${nodeString(a)})` : nodeString(a))).join(' ');
    case 'field':
      return n.ident.map((f) => `.${f}`).join('');
    case 'chain':
      return (n.node.type === 'pipe' ? `(${nodeString(n.node)})` : nodeString(n.node)) + n.field.map((f) => `.${f}`).join('');
    case 'variable':
      return n.ident.join('.');
    case 'identifier':
      return n.ident;
    case 'dot':
      return '.';
    case 'nil':
      return 'nil';
    case 'bool':
      return String(n.value);
    case 'number':
      return n.text;
    case 'string':
      return n.quoted;
    case 'if':
    case 'range':
    case 'with': {
      let s = `{{${n.type} ${nodeString(n.pipe)}}}${nodeString(n.list)}`;
      if (n.elseList) s += `{{else}}${nodeString(n.elseList)}`;
      return `${s}{{end}}`;
    }
    case 'template':
      return n.pipe ? `{{template ${JSON.stringify(n.name)} ${nodeString(n.pipe)}}}` : `{{template ${JSON.stringify(n.name)}}}`;
    case 'break':
      return '{{break}}';
    case 'continue':
      return '{{continue}}';
    case 'else':
      return '{{else}}';
    case 'end':
      return '{{end}}';
  }
}

// ---- literals ----

/** strconv.UnquoteChar on s at i: the code point and the next index. Throws 'invalid syntax'. */
function unquoteChar(s: string, i: number, quote: string): [number, number] {
  const c = s.codePointAt(i);
  if (c === undefined) throw new Error('invalid syntax');
  const ch = String.fromCodePoint(c);
  if (ch === quote && (quote === "'" || quote === '"')) throw new Error('invalid syntax');
  if (ch !== '\\') return [c, i + ch.length];
  const e = s[i + 1];
  const simple: Record<string, number> = { a: 7, b: 8, f: 12, n: 10, r: 13, t: 9, v: 11, '\\': 92 };
  if (e !== undefined && simple[e] !== undefined) return [simple[e] as number, i + 2];
  if (e === "'" || e === '"') {
    if (e !== quote) throw new Error('invalid syntax');
    return [e.charCodeAt(0), i + 2];
  }
  const hexN = e === 'x' ? 2 : e === 'u' ? 4 : e === 'U' ? 8 : 0;
  if (hexN > 0) {
    const h = s.slice(i + 2, i + 2 + hexN);
    if (h.length !== hexN || !/^[0-9a-fA-F]+$/.test(h)) throw new Error('invalid syntax');
    const v = Number.parseInt(h, 16);
    if (e !== 'x' && (v > 0x10ffff || (v >= 0xd800 && v < 0xe000))) throw new Error('invalid syntax');
    return [v, i + 2 + hexN];
  }
  if (e !== undefined && e >= '0' && e <= '7') {
    const o = s.slice(i + 1, i + 4);
    if (!/^[0-7]{3}$/.test(o)) throw new Error('invalid syntax');
    const v = Number.parseInt(o, 8);
    if (v > 255) throw new Error('invalid syntax');
    return [v, i + 4];
  }
  throw new Error('invalid syntax');
}

/** strconv.Unquote for "…" and `…` (a \x escape yields a byte; kept as that code unit). */
export function unquote(q: string): string {
  if (q.length < 2) throw new Error('invalid syntax');
  const quote = q[0];
  if (q[q.length - 1] !== quote) throw new Error('invalid syntax');
  const body = q.slice(1, -1);
  if (quote === '`') {
    if (body.includes('`')) throw new Error('invalid syntax');
    return body.replaceAll('\r', '');
  }
  if (quote !== '"') throw new Error('invalid syntax');
  let out = '';
  let bytes: number[] = [];
  const flush = () => {
    if (bytes.length > 0) out += Buffer.from(bytes).toString('utf8');
    bytes = [];
  };
  for (let i = 0; i < body.length; ) {
    if (body[i] === '\n') throw new Error('invalid syntax');
    const isByteEscape = body[i] === '\\' && (body[i + 1] === 'x' || (body[i + 1] ?? '') >= '0') && /[x0-7]/.test(body[i + 1] ?? '');
    const [c, next] = unquoteChar(body, i, '"');
    if (isByteEscape) bytes.push(c);
    else {
      flush();
      out += String.fromCodePoint(c);
    }
    i = next;
  }
  flush();
  return out;
}

function parseIntGo(text: string): number | undefined {
  // strconv.ParseInt(text, 0, 64): sign, base prefix, underscores between digits.
  let s = text;
  let neg = false;
  if (s[0] === '+' || s[0] === '-') {
    neg = s[0] === '-';
    s = s.slice(1);
  }
  let base = 10;
  let digits = s;
  let prefixed = false;
  if (/^0[xX]/.test(s)) {
    base = 16;
    digits = s.slice(2);
    prefixed = true;
  } else if (/^0[bB]/.test(s)) {
    base = 2;
    digits = s.slice(2);
    prefixed = true;
  } else if (/^0[oO]/.test(s)) {
    base = 8;
    digits = s.slice(2);
    prefixed = true;
  } else if (/^0./.test(s)) {
    base = 8;
    digits = s.slice(1);
    prefixed = true;
  }
  if (digits.includes('_')) {
    // Underscores only between digits (or right after a prefix).
    if (/__|_$/.test(digits) || (!prefixed && digits.startsWith('_'))) return undefined;
    digits = digits.replaceAll('_', '');
  }
  const valid = { 2: /^[01]+$/, 8: /^[0-7]+$/, 10: /^[0-9]+$/, 16: /^[0-9a-fA-F]+$/ }[base] as RegExp;
  if (!valid.test(digits)) return undefined;
  const v = Number.parseInt(digits, base);
  if (v > 2 ** 63) return undefined;
  return neg ? -v : v;
}

function newNumber(pos: number, text: string, typ: ItemType): NumberNode {
  const n: NumberNode = { type: 'number', pos, text, isInt: false, isFloat: false, isComplex: false, int: 0, float: 0 };
  if (typ === 'charConstant') {
    const [r, next] = unquoteChar(text, 1, "'");
    if (text.slice(next) !== "'") throw new Error(`malformed character constant: ${text}`);
    return { ...n, isInt: true, isFloat: true, int: r, float: r };
  }
  if (typ === 'complex') {
    // Complex constants lex and parse, but nothing Docker formats takes one.
    return { ...n, isComplex: true };
  }
  const i = parseIntGo(text);
  if (i !== undefined) return { ...n, isInt: true, isFloat: true, int: i, float: i };
  const badUnderscore = /__|^[+-]?_|_$|_\.|\._|_[eE]|[eE][+-]?_/.test(text);
  const clean = text.replaceAll('_', '');
  const f = badUnderscore
    ? Number.NaN
    : /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(clean) || /^[+-]?0[xX]/.test(clean)
      ? Number(clean)
      : Number.NaN;
  if (Number.isFinite(f)) {
    if (!/[.eEpP]/.test(text)) throw new Error(`integer overflow: ${JSON.stringify(text)}`);
    n.isFloat = true;
    n.float = f;
    if (Number.isInteger(f) && Math.abs(f) < 2 ** 63) {
      n.isInt = true;
      n.int = f;
    }
    return n;
  }
  throw new Error(`illegal number syntax: ${JSON.stringify(text)}`);
}

// ---- the parser ----

export interface Tree {
  name: string;
  root: ListNode;
  text: string;
}

export interface ParseOptions {
  /** The template's name in messages: Docker's is "" (`template: :1: …`). */
  name: string;
  /** Defined function names (the parser rejects others: `function "x" not defined`). */
  hasFunction(name: string): boolean;
}

/** Parses a template and the templates it defines ({{define}}, {{block}}); the first is `name`. */
export function parse(text: string, opts: ParseOptions): Map<string, Tree> {
  try {
    return parseTrees(text, opts);
  } catch (e) {
    // A JavaScript stack overflow despite the depth limit is still the template's fault.
    if (e instanceof RangeError) throw new TemplateParseError(`template: ${opts.name}:1: max expression depth exceeded`);
    throw e;
  }
}

/**
 * Go limits nesting (maxStackDepth) so that a hostile template cannot exhaust the stack; ours is
 * lower, for JavaScript's stack, and counts parentheses and nested actions alike.
 */
const MAX_DEPTH = 1000;

function parseTrees(text: string, opts: ParseOptions): Map<string, Tree> {
  const items = lex(text);
  let depth = 0;
  const enter = () => {
    if (++depth >= MAX_DEPTH) fail('max expression depth exceeded');
  };
  const trees = new Map<string, Tree>();
  let i = 0;
  let furthest = 0;
  let vars: string[] = ['$'];
  let rangeDepth = 0;
  let actionLine = 0;

  const fail = (msg: string): never => {
    const tok = items[Math.min(furthest, items.length - 1)];
    throw new TemplateParseError(`template: ${opts.name}:${tok?.line ?? 1}: ${msg}`);
  };
  // Past the last item (EOF or a lexical error) the stream keeps answering that item.
  const next = (): Item => {
    const k = Math.min(i, items.length - 1);
    if (k > furthest) furthest = k;
    i++;
    return items[k] as Item;
  };
  const backup = (n = 1) => {
    i -= n;
  };
  const peek = (): Item => {
    const it = next();
    backup();
    return it;
  };
  const nextNonSpace = (): Item => {
    let t = next();
    while (t.typ === 'space') t = next();
    return t;
  };
  const peekNonSpace = (): Item => {
    const t = nextNonSpace();
    backup();
    return t;
  };
  const unexpected = (token: Item, context: string): never => {
    if (token.typ === 'error') {
      let extra = '';
      if (actionLine !== 0 && actionLine !== token.line) {
        extra = ` in action started at ${opts.name}:${actionLine}`;
        if (token.val.endsWith(' action')) extra = extra.slice(' in action'.length);
      }
      return fail(token.val + extra);
    }
    return fail(`unexpected ${itemString(token)} in ${context}`);
  };
  const expect = (typ: ItemType, context: string): Item => {
    const t = nextNonSpace();
    if (t.typ !== typ) unexpected(t, context);
    return t;
  };
  const wrap = <T>(f: () => T): T => {
    try {
      return f();
    } catch (e) {
      if (e instanceof TemplateParseError) throw e;
      return fail((e as Error).message);
    }
  };

  const newVariable = (pos: number, name: string): VariableNode => ({ type: 'variable', pos, ident: name.split('.') });
  const useVar = (pos: number, name: string): VariableNode => {
    const v = newVariable(pos, name);
    if (!vars.includes(v.ident[0] as string)) fail(`undefined variable ${JSON.stringify(v.ident[0])}`);
    return v;
  };

  function itemList(): [ListNode, Node] {
    const list: ListNode = { type: 'list', pos: peekNonSpace().pos, nodes: [] };
    while (peekNonSpace().typ !== 'EOF') {
      const n = textOrAction();
      if (n.type === 'end' || n.type === 'else') return [list, n];
      list.nodes.push(n);
    }
    return fail('unexpected EOF');
  }

  function textOrAction(): Node {
    const token = nextNonSpace();
    switch (token.typ) {
      case 'text':
        return { type: 'text', pos: token.pos, text: token.val };
      case 'leftDelim': {
        actionLine = token.line;
        try {
          return action();
        } finally {
          actionLine = 0;
        }
      }
      default:
        return unexpected(token, 'input');
    }
  }

  function action(): Node {
    const token = nextNonSpace();
    switch (token.typ) {
      case 'block':
        return blockControl();
      case 'break':
      case 'continue': {
        const t = nextNonSpace();
        if (t.typ !== 'rightDelim') unexpected(t, `{{${token.typ}}}`);
        if (rangeDepth === 0) fail(`{{${token.typ}}} outside {{range}}`);
        return { type: token.typ, pos: token.pos };
      }
      case 'else':
        return elseControl();
      case 'end':
        return { type: 'end', pos: expect('rightDelim', 'end').pos };
      case 'if':
      case 'range':
      case 'with':
        return control(token.typ);
      case 'template':
        return templateControl();
    }
    backup();
    const t = peek();
    return { type: 'action', pos: t.pos, line: t.line, pipe: pipeline('command', 'rightDelim') };
  }

  function elseControl(): Node {
    const p = peekNonSpace();
    // {{else if …}} / {{else with …}}: leave the keyword for control() to chain.
    if (p.typ === 'if' || p.typ === 'with') return { type: 'else', pos: p.pos };
    const t = expect('rightDelim', 'else');
    return { type: 'else', pos: t.pos };
  }

  function control(kind: 'if' | 'range' | 'with'): IfNode | RangeNode | WithNode {
    const saved = vars.length;
    enter();
    try {
      const pipe = pipeline(kind, 'rightDelim');
      if (kind === 'range') rangeDepth++;
      const [list, first] = itemList();
      let nx = first;
      if (kind === 'range') rangeDepth--;
      let elseList: ListNode | undefined;
      if (nx.type === 'else') {
        if ((kind === 'if' && peek().typ === 'if') || (kind === 'with' && peek().typ === 'with')) {
          next();
          elseList = { type: 'list', pos: nx.pos, nodes: [control(kind)] };
        } else {
          [elseList, nx] = itemList();
          if (nx.type !== 'end') fail(`expected end; found ${nodeString(nx)}`);
        }
      }
      return { type: kind, pos: pipe.pos, line: pipe.line, pipe, list, elseList } as IfNode | RangeNode | WithNode;
    } finally {
      vars = vars.slice(0, saved);
      depth--;
    }
  }

  function templateName(token: Item, context: string): string {
    if (token.typ !== 'string' && token.typ !== 'rawString') unexpected(token, context);
    return wrap(() => unquote(token.val));
  }

  function templateControl(): TemplateNode {
    const context = 'template clause';
    const token = nextNonSpace();
    const name = templateName(token, context);
    let pipe: PipeNode | undefined;
    if (nextNonSpace().typ !== 'rightDelim') {
      backup();
      pipe = pipeline(context, 'rightDelim');
    }
    return { type: 'template', pos: token.pos, line: token.line, name, pipe };
  }

  function blockControl(): TemplateNode {
    const context = 'block clause';
    const token = nextNonSpace();
    const name = templateName(token, context);
    const pipe = pipeline(context, 'rightDelim');
    const saved = vars;
    vars = ['$'];
    const [root, end] = itemList();
    vars = saved;
    if (end.type !== 'end') fail(`unexpected ${nodeString(end)} in ${context}`);
    trees.set(name, { name, root, text });
    return { type: 'template', pos: token.pos, line: token.line, name, pipe };
  }

  function pipeline(context: string, end: ItemType): PipeNode {
    const first = peekNonSpace();
    const pipe: PipeNode = { type: 'pipe', pos: first.pos, line: first.line, isAssign: false, decl: [], cmds: [] };
    for (;;) {
      const v = peekNonSpace();
      if (v.typ !== 'variable') break;
      next();
      const afterVariable = peek();
      const nx = peekNonSpace();
      if (nx.typ === 'assign' || nx.typ === 'declare') {
        pipe.isAssign = nx.typ === 'assign';
        nextNonSpace();
        pipe.decl.push(newVariable(v.pos, v.val));
        vars.push(v.val);
      } else if (nx.typ === 'char' && nx.val === ',') {
        nextNonSpace();
        pipe.decl.push(newVariable(v.pos, v.val));
        vars.push(v.val);
        if (context === 'range' && pipe.decl.length < 2) {
          const p = peekNonSpace().typ;
          if (p === 'variable' || p === 'rightDelim' || p === 'rightParen') continue;
          fail('range can only initialize variables');
        }
        fail(`too many declarations in ${context}`);
      } else if (afterVariable.typ === 'space') {
        // "$x foo": $x is an operand; give back the variable and the space.
        backup(2);
      } else {
        backup(1);
      }
      break;
    }
    for (;;) {
      const token = nextNonSpace();
      if (token.typ === end) {
        if (pipe.cmds.length === 0) fail(`missing value for ${context}`);
        pipe.cmds.slice(1).forEach((c, k) => {
          const t = c.args[0]?.type;
          if (t === 'bool' || t === 'dot' || t === 'nil' || t === 'number' || t === 'string') {
            fail(`non executable command in pipeline stage ${k + 2}`);
          }
        });
        return pipe;
      }
      switch (token.typ) {
        case 'bool':
        case 'charConstant':
        case 'complex':
        case 'dot':
        case 'field':
        case 'identifier':
        case 'number':
        case 'nil':
        case 'rawString':
        case 'string':
        case 'variable':
        case 'leftParen':
          backup();
          pipe.cmds.push(command());
          break;
        default:
          unexpected(token, context);
      }
    }
  }

  function command(): CommandNode {
    const cmd: CommandNode = { type: 'command', pos: peekNonSpace().pos, args: [] };
    for (;;) {
      peekNonSpace();
      const op = operand();
      if (op) cmd.args.push(op);
      const token = next();
      if (token.typ === 'space') continue;
      if (token.typ === 'rightDelim' || token.typ === 'rightParen') backup();
      else if (token.typ !== 'pipe') unexpected(token, 'operand');
      break;
    }
    if (cmd.args.length === 0) fail('empty command');
    return cmd;
  }

  function operand(): Node | undefined {
    const node = term();
    if (!node) return undefined;
    if (peek().typ !== 'field') return node;
    const chain: ChainNode = { type: 'chain', pos: peek().pos, node, field: [] };
    while (peek().typ === 'field') chain.field.push(next().val.slice(1));
    switch (node.type) {
      case 'field':
        return { type: 'field', pos: chain.pos, ident: [...node.ident, ...chain.field] };
      case 'variable':
        return { type: 'variable', pos: chain.pos, ident: [...node.ident, ...chain.field] };
      case 'bool':
      case 'string':
      case 'number':
      case 'nil':
      case 'dot':
        return fail(`unexpected . after term ${JSON.stringify(nodeString(node))}`);
      default:
        return chain;
    }
  }

  function term(): Node | undefined {
    const token = nextNonSpace();
    switch (token.typ) {
      case 'identifier':
        if (!opts.hasFunction(token.val)) fail(`function ${JSON.stringify(token.val)} not defined`);
        return { type: 'identifier', pos: token.pos, ident: token.val };
      case 'dot':
        return { type: 'dot', pos: token.pos };
      case 'nil':
        return { type: 'nil', pos: token.pos };
      case 'variable':
        return useVar(token.pos, token.val);
      case 'field':
        return { type: 'field', pos: token.pos, ident: token.val.slice(1).split('.') };
      case 'bool':
        return { type: 'bool', pos: token.pos, value: token.val === 'true' };
      case 'charConstant':
      case 'complex':
      case 'number':
        return wrap(() => newNumber(token.pos, token.val, token.typ));
      case 'leftParen': {
        enter();
        const p = pipeline('parenthesized pipeline', 'rightParen');
        depth--;
        return p;
      }
      case 'string':
      case 'rawString':
        return { type: 'string', pos: token.pos, quoted: token.val, text: wrap(() => unquote(token.val)) };
    }
    backup();
    return undefined;
  }

  function parseDefinition(): void {
    const context = 'define clause';
    const t = nextNonSpace();
    if (t.typ !== 'string' && t.typ !== 'rawString') unexpected(t, context);
    const name = wrap(() => unquote(t.val));
    expect('rightDelim', context);
    const saved = vars;
    vars = ['$'];
    const [root, end] = itemList();
    vars = saved;
    if (end.type !== 'end') fail(`unexpected ${nodeString(end)} in ${context}`);
    trees.set(name, { name, root, text });
  }

  const root: ListNode = { type: 'list', pos: peek().pos, nodes: [] };
  while (peek().typ !== 'EOF') {
    if (peek().typ === 'leftDelim') {
      next();
      if (nextNonSpace().typ === 'define') {
        parseDefinition();
        continue;
      }
      // Back to the delimiter (and any space after it).
      while (items[i - 1]?.typ !== 'leftDelim') backup();
      backup();
    }
    const n = textOrAction();
    if (n.type === 'end' || n.type === 'else') fail(`unexpected ${nodeString(n)}`);
    root.nodes.push(n);
  }
  // {{define "x"}} overrides a {{block}} of that name; the main template is the file's body.
  if (!trees.has(opts.name) || root.nodes.length > 0 || !trees.get(opts.name)) {
    trees.set(opts.name, { name: opts.name, root, text });
  }
  return trees;
}

export { isKeyword };
