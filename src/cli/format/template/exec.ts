/**
 * text/template's executor over the values of values.ts, following Go's exec.go step by step so
 * that results and errors are Go's: `template: :1:2: executing "" at <.Foo>: map has no entry
 * for key "Foo"`, `can't evaluate field Foo in type string`, `wrong number of args for Label:
 * want 1 got 0`, `error calling index: index out of range: 5`.
 */

import { formatDuration } from '../units.js';
import { printOne } from './gofmt.js';
import { type Node, nodeString, type PipeNode, type Tree } from './parse.js';
import {
  GoFloat,
  GoStringerInt,
  isStringSlice,
  isTrue,
  kindOf,
  mapEntries,
  mapGet,
  mapOfStrings,
  mapSize,
  NilMap,
  NilSlice,
  numberOf,
  structType,
  typeName,
} from './values.js';

/** A parameter's Go type: `value` is reflect.Value (anything, even no value), `any` interface{}. */
export type ParamType = 'any' | 'value' | 'string' | 'int' | 'float' | 'bool' | 'strings';

export interface GoFunc {
  /** Parameter types; when variadic, the last is the type of each variadic argument. */
  params: ParamType[];
  variadic?: boolean;
  /** Returns the result; throws an Error for Go's (result, error) functions. */
  fn(...args: unknown[]): unknown;
}
export type FuncMap = Record<string, GoFunc>;

/**
 * missingkey=default prints `<no value>`; zero gives the zero value; error fails. 'inspect'
 * stands for docker inspect's two passes (Go structs first, then the raw JSON with
 * missingkey=error): a key missing from an object that is a struct in Docker's types fails with
 * the raw pass's message, one missing from a map (labels, options) is `<no value>`.
 */
export type MissingKey = 'default' | 'zero' | 'error' | 'inspect';

/** An execution failure, with Go's message. */
export class TemplateExecError extends Error {
  override readonly name = 'TemplateExecError';
  /** What the template had written before it failed (Docker prints a failed header's part). */
  partial = '';
}

/** Go's "no final argument" marker (the value piped into a command). */
const MISSING = Symbol('missing');
type Val = unknown;

const MAX_DEPTH = 1000;
class Break {}
class Continue {}

const goType = (p: ParamType): string =>
  ({ any: 'interface {}', value: 'reflect.Value', string: 'string', int: 'int', float: 'float64', bool: 'bool', strings: '[]string' })[p];

interface Variable {
  name: string;
  value: Val;
}

export interface ExecOptions {
  funcs: FuncMap;
  builtins: ReadonlySet<string>;
  missingKey: MissingKey;
}

export function execute(trees: Map<string, Tree>, name: string, data: unknown, opts: ExecOptions): string {
  const tree = trees.get(name);
  if (!tree) throw new TemplateExecError(`template: ${name}: "${name}" is an incomplete or empty template`);
  const s = new State(tree, trees, opts, [{ name: '$', value: data }], 0);
  try {
    s.walk(data, tree.root);
  } catch (e) {
    if (e instanceof TemplateExecError) e.partial = s.out.join('');
    // A JavaScript stack overflow from a deeply nested template is an execution error too.
    if (e instanceof RangeError) throw Object.assign(new TemplateExecError(`template: ${name}: ${e.message}`), { partial: s.out.join('') });
    throw e;
  }
  return s.out.join('');
}

class State {
  node: Node | undefined;
  out: string[];
  constructor(
    readonly tree: Tree,
    readonly trees: Map<string, Tree>,
    readonly opts: ExecOptions,
    public vars: Variable[],
    readonly depth: number,
    out?: string[],
  ) {
    this.out = out ?? [];
  }

  at(node: Node): void {
    this.node = node;
  }

  errorf(msg: string): never {
    const name = this.tree.name;
    if (!this.node) throw new TemplateExecError(`template: ${name}: ${msg}`);
    const pos = this.node.pos;
    const text = this.tree.text.slice(0, pos);
    const nl = text.lastIndexOf('\n');
    const col = nl < 0 ? pos : pos - (nl + 1);
    const line = 1 + (text.match(/\n/g)?.length ?? 0);
    throw new TemplateExecError(
      `template: ${name}:${line}:${col}: executing ${JSON.stringify(name)} at <${nodeString(this.node)}>: ${msg}`,
    );
  }

  // ---- variables ----
  mark(): number {
    return this.vars.length;
  }
  pop(mark: number): void {
    this.vars.length = mark;
  }
  push(name: string, value: Val): void {
    this.vars.push({ name, value });
  }
  setVar(name: string, value: Val): void {
    for (let i = this.vars.length - 1; i >= 0; i--) {
      const v = this.vars[i] as Variable;
      if (v.name === name) {
        v.value = value;
        return;
      }
    }
    this.errorf(`undefined variable: ${name}`);
  }
  setTopVar(n: number, value: Val): void {
    (this.vars[this.vars.length - n] as Variable).value = value;
  }
  varValue(name: string): Val {
    for (let i = this.vars.length - 1; i >= 0; i--) {
      const v = this.vars[i] as Variable;
      if (v.name === name) return v.value;
    }
    return this.errorf(`undefined variable: ${name}`);
  }

  // ---- walking ----
  walk(dot: Val, node: Node): void {
    this.at(node);
    switch (node.type) {
      case 'action': {
        const val = this.evalPipeline(dot, node.pipe);
        if (node.pipe.decl.length === 0) this.printValue(node, val);
        return;
      }
      case 'break':
        throw new Break();
      case 'continue':
        throw new Continue();
      case 'if':
      case 'with':
        this.walkIfOrWith(node.type, dot, node.pipe, node.list, node.elseList);
        return;
      case 'list':
        for (const n of node.nodes) this.walk(dot, n);
        return;
      case 'range':
        this.walkRange(dot, node);
        return;
      case 'template':
        this.walkTemplate(dot, node);
        return;
      case 'text':
        this.out.push(node.text);
        return;
      default:
        this.errorf(`unknown node: ${nodeString(node)}`);
    }
  }

  walkIfOrWith(kind: 'if' | 'with', dot: Val, pipe: PipeNode, list: Node, elseList: Node | undefined): void {
    const mark = this.mark();
    try {
      const val = this.evalPipeline(dot, pipe);
      if (isTrue(val)) this.walk(kind === 'with' ? val : dot, list);
      else if (elseList) this.walk(dot, elseList);
    } finally {
      this.pop(mark);
    }
  }

  walkRange(dot: Val, r: Node & { type: 'range' }): void {
    this.at(r);
    const outer = this.mark();
    try {
      const val = this.evalPipeline(dot, r.pipe);
      const mark = this.mark();
      const one = (index: Val, elem: Val): boolean => {
        const decl = r.pipe.decl;
        if (decl.length > 0) {
          if (r.pipe.isAssign) this.setVar(decl[0]?.ident[0] as string, decl.length > 1 ? index : elem);
          else this.setTopVar(1, elem);
        }
        if (decl.length > 1) {
          if (r.pipe.isAssign) this.setVar(decl[1]?.ident[0] as string, elem);
          else this.setTopVar(2, index);
        }
        try {
          this.walk(elem, r.list);
        } catch (e) {
          if (e instanceof Break) return false;
          if (!(e instanceof Continue)) throw e;
        } finally {
          this.pop(mark);
        }
        return true;
      };
      const k = kindOf(val);
      switch (k) {
        case 'slice': {
          const arr = val as unknown[];
          if (arr.length === 0) break;
          for (let i = 0; i < arr.length; i++) if (!one(i, arr[i])) break;
          return;
        }
        case 'map': {
          if (mapSize(val) === 0) break;
          for (const [key, v] of mapEntries(val)) if (!one(key, v)) break;
          return;
        }
        case 'int': {
          if (r.pipe.decl.length > 1) this.errorf(`can't use ${printOne(val)} to iterate over more than one variable`);
          const n = numberOf(val);
          if (n <= 0) break;
          for (let i = 0; i < n; i++) if (!one(i, i)) break;
          return;
        }
        case 'invalid':
        case 'nil':
          break;
        default:
          this.errorf(`range can't iterate over ${printOne(val)}`);
      }
      if (r.elseList) this.walk(dot, r.elseList);
    } finally {
      this.pop(outer);
    }
  }

  walkTemplate(dot: Val, t: Node & { type: 'template' }): void {
    this.at(t);
    const tree = this.trees.get(t.name);
    if (!tree) this.errorf(`template ${JSON.stringify(t.name)} not defined`);
    if (this.depth >= MAX_DEPTH) this.errorf(`exceeded maximum template depth (${MAX_DEPTH})`);
    const newDot = t.pipe ? this.evalPipeline(dot, t.pipe) : undefined;
    const s = new State(tree as Tree, this.trees, this.opts, [{ name: '$', value: newDot }], this.depth + 1, this.out);
    s.walk(newDot, (tree as Tree).root);
  }

  // ---- pipelines and commands ----
  evalPipeline(dot: Val, pipe: PipeNode): Val {
    this.at(pipe);
    let value: Val = MISSING;
    for (const cmd of pipe.cmds) value = this.evalCommand(dot, cmd, value);
    for (const v of pipe.decl) {
      if (pipe.isAssign) this.setVar(v.ident[0] as string, value);
      else this.push(v.ident[0] as string, value);
    }
    return value;
  }

  notAFunction(args: Node[], final: Val): void {
    if (args.length > 1 || final !== MISSING) {
      this.errorf(`can't give argument to non-function ${nodeString(args[0] as Node)}`);
    }
  }

  evalCommand(dot: Val, cmd: Node & { type: 'command' }, final: Val): Val {
    const first = cmd.args[0] as Node;
    switch (first.type) {
      case 'field':
        return this.evalFieldNode(dot, first, cmd.args, final);
      case 'chain':
        return this.evalChainNode(dot, first, cmd.args, final);
      case 'identifier':
        return this.evalFunction(dot, first, cmd, cmd.args, final);
      case 'pipe':
        this.notAFunction(cmd.args, final);
        return this.evalPipeline(dot, first);
      case 'variable':
        return this.evalVariableNode(dot, first, cmd.args, final);
    }
    this.at(first);
    this.notAFunction(cmd.args, final);
    switch (first.type) {
      case 'bool':
        return first.value;
      case 'dot':
        return dot;
      case 'nil':
        return this.errorf('nil is not a command');
      case 'number':
        return this.idealConstant(first);
      case 'string':
        return first.text;
    }
    return this.errorf(`can't evaluate command ${JSON.stringify(nodeString(first))}`);
  }

  idealConstant(n: Node & { type: 'number' }): Val {
    this.at(n);
    if (n.isComplex) this.errorf(`complex constant ${n.text} is not supported`);
    const hexInt = /^[+-]?0[xX]/.test(n.text) && !/[pP]/.test(n.text);
    if (n.isFloat && !hexInt && !n.text.includes("'") && /[.eEpP]/.test(n.text)) {
      return Number.isInteger(n.float) ? new GoFloat(n.float) : n.float;
    }
    if (n.isInt) return n.int;
    return undefined;
  }

  evalFieldNode(dot: Val, field: Node & { type: 'field' }, args: Node[], final: Val): Val {
    this.at(field);
    return this.evalFieldChain(dot, dot, field, field.ident, args, final);
  }

  evalChainNode(dot: Val, chain: Node & { type: 'chain' }, args: Node[], final: Val): Val {
    this.at(chain);
    if (chain.node.type === 'nil') this.errorf(`indirection through explicit nil in ${nodeString(chain)}`);
    const pipe = this.evalArg(dot, undefined, chain.node);
    return this.evalFieldChain(dot, pipe, chain, chain.field, args, final);
  }

  evalVariableNode(dot: Val, v: Node & { type: 'variable' }, args: Node[], final: Val): Val {
    this.at(v);
    const value = this.varValue(v.ident[0] as string);
    if (v.ident.length === 1) {
      this.notAFunction(args, final);
      return value;
    }
    return this.evalFieldChain(dot, value, v, v.ident.slice(1), args, final);
  }

  evalFieldChain(dot: Val, receiver: Val, node: Node, ident: string[], args: Node[], final: Val): Val {
    const n = ident.length;
    let r = receiver;
    for (let i = 0; i < n - 1; i++) r = this.evalField(dot, ident[i] as string, node, [], MISSING, r);
    return this.evalField(dot, ident[n - 1] as string, node, args, final, r);
  }

  evalFunction(dot: Val, node: Node & { type: 'identifier' }, cmd: Node, args: Node[], final: Val): Val {
    this.at(node);
    const name = node.ident;
    const f = this.opts.funcs[name];
    if (!f || !Object.hasOwn(this.opts.funcs, name)) return this.errorf(`${JSON.stringify(name)} is not a defined function`);
    return this.evalCall(dot, f, this.opts.builtins.has(name), cmd, name, args, final);
  }

  evalField(dot: Val, fieldName: string, node: Node, args: Node[], final: Val, receiver: Val): Val {
    const kind = kindOf(receiver);
    if (kind === 'invalid') {
      if (this.opts.missingKey === 'error') this.errorf(`nil data; no entry for key ${JSON.stringify(fieldName)}`);
      return undefined;
    }
    if (kind === 'nil') this.errorf(`nil pointer evaluating interface {}.${fieldName}`);
    const hasArgs = args.length > 1 || final !== MISSING;
    if (kind === 'struct') {
      const obj = receiver as Record<string, unknown>;
      const exported = isExported(fieldName);
      const m = exported ? obj[fieldName] : undefined;
      if (typeof m === 'function') return this.evalMethod(dot, obj, fieldName, m as (...a: unknown[]) => unknown, node, args, final);
      if (exported && fieldName in obj) {
        if (hasArgs) this.errorf(`${fieldName} has arguments but cannot be invoked as function`);
        return obj[fieldName];
      }
      if (!exported && Object.hasOwn(obj, fieldName)) {
        this.errorf(`${fieldName} is an unexported field of struct type ${structType(obj)}`);
      }
    } else if (kind === 'map') {
      // A Go map type with methods (Docker's SubHeaderContext): methods come first.
      if (receiver instanceof Map && isExported(fieldName) && Object.getPrototypeOf(receiver) !== Map.prototype) {
        const m = (receiver as unknown as Record<string, unknown>)[fieldName];
        if (typeof m === 'function') return this.evalMethod(dot, receiver, fieldName, m as (...a: unknown[]) => unknown, node, args, final);
      }
      if (hasArgs) this.errorf(`${fieldName} is not a method but has arguments`);
      const result = mapGet(receiver, fieldName);
      if (result === undefined) {
        if (this.opts.missingKey === 'error' || (this.opts.missingKey === 'inspect' && looksLikeStruct(receiver))) {
          this.errorf(`map has no entry for key ${JSON.stringify(fieldName)}`);
        }
        if (this.opts.missingKey === 'zero') return mapZero(receiver);
      }
      return this.opts.missingKey === 'inspect' ? typedField(fieldName, result) : result;
    }
    return this.errorf(`can't evaluate field ${fieldName} in type ${typeName(receiver)}`);
  }

  evalMethod(dot: Val, obj: object, name: string, fn: (...a: unknown[]) => unknown, node: Node, args: Node[], final: Val): Val {
    const declared = (obj.constructor as { goMethods?: Record<string, ParamType[]> }).goMethods?.[name];
    const params: ParamType[] = declared ?? stringParams(fn.length);
    return this.evalCall(dot, { params, fn: fn.bind(obj) }, false, node, name, args, final);
  }

  evalCall(dot: Val, f: GoFunc, isBuiltin: boolean, node: Node, name: string, argNodes: Node[], final: Val): Val {
    const args = argNodes.slice(1);
    let numIn = args.length;
    if (final !== MISSING) numIn++;
    let numFixed = args.length;
    if (f.variadic) {
      numFixed = f.params.length - 1;
      if (numIn < numFixed) {
        this.errorf(`wrong number of args for ${name}: want at least ${f.params.length - 1} got ${args.length}`);
      }
    } else if (numIn !== f.params.length) {
      this.errorf(`wrong number of args for ${name}: want ${f.params.length} got ${numIn}`);
    }

    if (isBuiltin && (name === 'and' || name === 'or')) {
      let v: Val;
      for (const a of args) {
        v = this.evalArg(dot, 'value', a);
        if (isTrue(v) === (name === 'or')) return v;
      }
      if (final !== MISSING) v = this.validateType(final, 'value');
      return v;
    }

    const argv: Val[] = [];
    let i = 0;
    for (; i < numFixed && i < args.length; i++) argv.push(this.evalArg(dot, f.params[i], args[i] as Node));
    if (f.variadic) {
      const t = f.params[f.params.length - 1];
      for (; i < args.length; i++) argv.push(this.evalArg(dot, t, args[i] as Node));
    }
    if (final !== MISSING) {
      let t = f.params[f.params.length - 1] as ParamType;
      if (f.variadic && numIn - 1 < numFixed) t = f.params[numIn - 1] as ParamType;
      argv.push(this.validateType(final, t));
    }
    if (isBuiltin && name === 'call') {
      const callee = args.length === 0 ? printOne(final) : nodeString(args[0] as Node);
      argv.unshift(callee);
    }
    try {
      return f.fn(...argv);
    } catch (e) {
      if (e instanceof TemplateExecError) throw e;
      this.at(node);
      return this.errorf(`error calling ${name}: ${(e as Error).message}`);
    }
  }

  validateType(value: Val, typ: ParamType | undefined): Val {
    if (value === MISSING) value = undefined;
    if (value === undefined) {
      if (typ === undefined || typ === 'value') return undefined;
      if (typ === 'any' || typ === 'strings') return null;
      return this.errorf(`invalid value; expected ${goType(typ)}`);
    }
    if (typ === undefined || typ === 'value' || typ === 'any') return value;
    const k = kindOf(value);
    const ok =
      (typ === 'string' && k === 'string') ||
      (typ === 'int' && k === 'int' && !(value instanceof GoFloat)) ||
      (typ === 'float' && k === 'float') ||
      (typ === 'bool' && k === 'bool') ||
      // null: the Engine's JSON for a nil []string (`join .Config.Cmd " "` with no Cmd).
      (typ === 'strings' && (value === null || isStringSlice(value) || (Array.isArray(value) && value.length === 0)));
    if (!ok) this.errorf(`wrong type for value; expected ${goType(typ)}; got ${k === 'nil' ? 'interface {}' : typeName(value)}`);
    return value;
  }

  evalArg(dot: Val, typ: ParamType | undefined, n: Node): Val {
    this.at(n);
    switch (n.type) {
      case 'dot':
        return this.validateType(dot, typ);
      case 'nil':
        if (typ === undefined || typ === 'value') return undefined;
        if (typ === 'any' || typ === 'strings') return null;
        return this.errorf(`cannot assign nil to ${goType(typ)}`);
      case 'field':
        return this.validateType(this.evalFieldNode(dot, n, [n], MISSING), typ);
      case 'variable':
        return this.validateType(this.evalVariableNode(dot, n, [], MISSING), typ);
      case 'pipe':
        return this.validateType(this.evalPipeline(dot, n), typ);
      case 'identifier':
        return this.validateType(this.evalFunction(dot, n, n, [], MISSING), typ);
      case 'chain':
        return this.validateType(this.evalChainNode(dot, n, [], MISSING), typ);
    }
    switch (typ) {
      case 'bool':
        if (n.type === 'bool') return n.value;
        return this.errorf(`expected bool; found ${nodeString(n)}`);
      case 'float':
        if (n.type === 'number' && n.isFloat) return n.float;
        return this.errorf(`expected float; found ${nodeString(n)}`);
      case 'int':
        if (n.type === 'number' && n.isInt) return n.int;
        return this.errorf(`expected integer; found ${nodeString(n)}`);
      case 'string':
        if (n.type === 'string') return n.text;
        return this.errorf(`expected string; found ${nodeString(n)}`);
      case 'any':
      case 'value':
      case undefined:
        return this.evalEmptyInterface(dot, n);
    }
    return this.errorf(`can't handle ${nodeString(n)} for arg of type ${goType(typ)}`);
  }

  evalEmptyInterface(dot: Val, n: Node): Val {
    this.at(n);
    switch (n.type) {
      case 'bool':
        return n.value;
      case 'number':
        return this.idealConstant(n);
      case 'string':
        return n.text;
    }
    return this.errorf(`can't handle assignment of ${nodeString(n)} to empty interface argument`);
  }

  printValue(n: Node, v: Val): void {
    this.at(n);
    if (v === MISSING || v === undefined) {
      this.out.push('<no value>');
      return;
    }
    if (typeof v === 'function') this.errorf(`can't print ${nodeString(n)} of type ${typeName(v)}`);
    this.out.push(printOne(v));
  }
}

/** The zero value of a map's element type (missingkey=zero, index of a missing key). */
export function mapZero(m: unknown): Val {
  // Docker's label and option maps are map[string]string: their zero is "" (`index .Labels "x"`
  // prints nothing when there is no such label, also when there are no labels at all).
  return mapOfStrings(m) ? '' : null;
}

/**
 * Whether a JSON object stands for a Go struct in Docker's types (State, Config, a Mount) rather
 * than a map (Labels, Options, Volumes, Networks): structs have capitalised field names and
 * values of several types; Docker's maps have keys of any form, or all-string values.
 */
export function looksLikeStruct(m: unknown): boolean {
  if (m instanceof Map) return false;
  const keys = Object.keys(m as object);
  if (keys.length === 0) return false;
  if (!keys.every((k) => /^\p{Lu}/u.test(k))) return false;
  return !mapOfStrings(m);
}

/** Docker's []T fields that the Engine sends as null when nil (Go prints a nil slice as []). */
const NIL_SLICE_FIELDS = new Set([
  'Env',
  'Cmd',
  'Entrypoint',
  'Binds',
  'Links',
  'Dns',
  'DnsOptions',
  'DnsSearch',
  'ExtraHosts',
  'CapAdd',
  'CapDrop',
  'GroupAdd',
  'SecurityOpt',
  'Devices',
  'DeviceRequests',
  'DeviceCgroupRules',
  'Ulimits',
  'OnBuild',
  'Shell',
  'Mounts',
  'Aliases',
  'Layers',
  'RepoTags',
  'RepoDigests',
  'Test',
  'BlkioWeightDevice',
  'BlkioDeviceReadBps',
  'BlkioDeviceWriteBps',
  'BlkioDeviceReadIOps',
  'BlkioDeviceWriteIOps',
  'MaskedPaths',
  'ReadonlyPaths',
  'ExecIDs',
  'Log',
  'DNSNames',
  'VolumesFrom',
  'Warnings',
]);
/** Docker's map fields the Engine sends as null when nil (Go prints a nil map as map[]). */
const NIL_MAP_FIELDS = new Set([
  'Labels',
  'Volumes',
  'ExposedPorts',
  'Ports',
  'PortBindings',
  'Tmpfs',
  'Sysctls',
  'StorageOpt',
  'Options',
  'DriverOpts',
  'Annotations',
  'Data',
  'Networks',
  'Status',
]);
/** Healthcheck's time.Duration fields: Go prints them as "1m30s". */
const DURATION_FIELDS = new Set(['Interval', 'Timeout', 'StartPeriod', 'StartInterval']);

/**
 * docker inspect runs templates over Docker's Go types first: a nil slice or map prints as `[]`
 * or `map[]` (not `<nil>`), a time.Duration as `1m30s`. The JSON has lost those types; the
 * field's name brings them back for the fields where it shows.
 */
function typedField(name: string, v: Val): Val {
  if (v === null) {
    if (NIL_SLICE_FIELDS.has(name)) return new NilSlice();
    if (NIL_MAP_FIELDS.has(name)) return new NilMap();
  } else if (typeof v === 'number' && DURATION_FIELDS.has(name) && Number.isInteger(v)) {
    return new GoStringerInt(v, 'time.Duration', formatDuration);
  }
  return v;
}

/**
 * Go's exported names start with an upper-case letter. Asked for every field of every row of a
 * table (10,000 times for `ps` of 1000 containers): ASCII is decided without the Unicode regex.
 */
function isExported(name: string): boolean {
  const c = name.charCodeAt(0);
  if (c < 128) return c >= 65 && c <= 90;
  return /^\p{Lu}/u.test(name);
}

/** A method without declared parameter types takes strings; the lists are shared (never mutated). */
const STRING_PARAMS: ParamType[][] = [];
function stringParams(n: number): ParamType[] {
  let p = STRING_PARAMS[n];
  if (!p) {
    p = Array.from({ length: n }, () => 'string' as const);
    STRING_PARAMS[n] = p;
  }
  return p;
}
