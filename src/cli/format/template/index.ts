/**
 * Go's text/template for the berth CLI, with Docker's functions: `Template.parse(text)` then
 * `execute(data)`. Errors carry Go's messages; the callers add Docker's prefixes ("template
 * parsing error: …").
 */
import { execute, type FuncMap, type MissingKey } from './exec.js';
import { builtinNames, builtins, dockerFuncs } from './funcs.js';
import { parse, type Tree } from './parse.js';

export type { FuncMap, GoFunc, MissingKey, ParamType } from './exec.js';
export { TemplateExecError } from './exec.js';
export { goJSON, headerFuncs } from './funcs.js';
export { formatFloat, quote, sprint, sprintf, sprintln } from './gofmt.js';
export { TemplateParseError } from './parse.js';
export { GoFloat } from './values.js';

export interface TemplateOptions {
  /** The name messages show: Docker's is "" (`template: :1: …`); `docker version` uses "version". */
  name?: string;
  /** Functions added to (or replacing) text/template's builtins and Docker's functions. */
  funcs?: FuncMap;
  missingKey?: MissingKey;
}

export class Template {
  private constructor(
    readonly name: string,
    private readonly trees: Map<string, Tree>,
    private readonly funcs: FuncMap,
    private readonly missingKey: MissingKey,
  ) {}

  /** Parses `text`; throws TemplateParseError with Go's message. */
  static parse(text: string, opts: TemplateOptions = {}): Template {
    const name = opts.name ?? '';
    const funcs: FuncMap = { ...builtins, ...dockerFuncs, ...opts.funcs };
    const trees = parse(text, { name, hasFunction: (f) => Object.hasOwn(funcs, f) });
    return new Template(name, trees, funcs, opts.missingKey ?? 'default');
  }

  /** The same parsed template with other functions (Go's Funcs after Parse) or missingkey option. */
  with(opts: { funcs?: FuncMap; missingKey?: MissingKey }): Template {
    return new Template(this.name, this.trees, { ...this.funcs, ...opts.funcs }, opts.missingKey ?? this.missingKey);
  }

  /** Runs the template over `data`; throws TemplateExecError with Go's message. */
  execute(data: unknown): string {
    return execute(this.trees, this.name, data, { funcs: this.funcs, builtins: builtinNames, missingKey: this.missingKey });
  }
}

/** Parses and runs a template once. */
export function renderTemplate(text: string, data: unknown, opts?: TemplateOptions): string {
  return Template.parse(text, opts).execute(data);
}
