/**
 * docker inspect's output (cli/command/inspect): no --format prints the objects as an indented
 * JSON array, "json" as a compact one, a template prints one line per object. A template that
 * does not parse is exit status 64; one that fails on an object is reported after the others
 * printed, as Docker's Inspect does.
 */
import { CliError } from '../types.js';
import { Template } from './template/index.js';

/** Go's encoding/json escapes <, > and & (and U+2028/2029) in the daemon's JSON. */
function escapeHTML(json: string): string {
  return json
    .replaceAll('<', '\\u003c')
    .replaceAll('>', '\\u003e')
    .replaceAll('&', '\\u0026')
    .replaceAll('\u2028', '\\u2028')
    .replaceAll('\u2029', '\\u2029');
}

export class Inspector {
  readonly #tmpl: Template | undefined;
  readonly #mode: 'indented' | 'json' | 'template';
  readonly #elements: unknown[] = [];
  #out = '';

  private constructor(mode: 'indented' | 'json' | 'template', tmpl?: Template) {
    this.#mode = mode;
    this.#tmpl = tmpl;
  }

  /** From a --format value; throws CliError("template parsing error: …", 64). */
  static create(format: string): Inspector {
    if (format === '') return new Inspector('indented');
    if (format === 'json') return new Inspector('json');
    try {
      return new Inspector('template', Template.parse(format, { missingKey: 'inspect' }));
    } catch (e) {
      throw new CliError(`template parsing error: ${(e as Error).message}`, 64);
    }
  }

  /** Adds one object (the Engine's JSON); returns the error text when the template fails on it. */
  inspect(element: unknown): string | undefined {
    if (!this.#tmpl) {
      this.#elements.push(element);
      return undefined;
    }
    try {
      this.#out += `${this.#tmpl.execute(element)}\n`;
      return undefined;
    } catch (e) {
      return `template parsing error: ${(e as Error).message}`;
    }
  }

  /** Everything to print, once all objects were added. */
  flush(): string {
    if (this.#mode === 'template') return this.#out === '' ? '\n' : this.#out;
    if (this.#elements.length === 0) return '[]\n';
    const text = this.#mode === 'json' ? JSON.stringify(this.#elements) : JSON.stringify(this.#elements, null, 4);
    return `${escapeHTML(text)}\n`;
  }
}

/**
 * Inspects a list the way the inspect commands do: `fetched` holds each reference's object or
 * its error text, in order. Returns the output and, when anything failed, the CliError to throw
 * after printing it (exit status 1, the errors one per line).
 */
export function inspectAll(
  format: string,
  fetched: readonly ({ value: unknown } | { error: string })[],
): { out: string; error?: CliError } {
  const inspector = Inspector.create(format);
  const errors: string[] = [];
  for (const f of fetched) {
    if ('error' in f) errors.push(f.error);
    else {
      const e = inspector.inspect(f.value);
      if (e !== undefined) errors.push(e);
    }
  }
  const out = inspector.flush();
  return errors.length > 0 ? { out, error: new CliError(errors.join('\n')) } : { out };
}
