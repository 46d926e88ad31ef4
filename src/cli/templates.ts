/** --format templates as the docker CLI runs them: parse errors with its prefix. */
import { Template } from './format/index.js';
import { CliError } from './types.js';

/** A --format template parsed as docker parses it; a parse error exits `code` (1; `version`'s 64). */
export function parseTemplate(text: string, name = '', code = 1): Template {
  try {
    return Template.parse(text, { name });
  } catch (err) {
    throw new CliError(`template parsing error: ${(err as Error).message}`, code);
  }
}

/** Runs a template over one value; an execution error is the command's failure. */
export function runTemplate(t: Template, data: unknown): string {
  try {
    return t.execute(data);
  } catch (err) {
    throw new CliError((err as Error).message);
  }
}
