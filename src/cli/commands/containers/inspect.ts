/**
 * `berth container inspect` and the machinery `berth inspect` shares with it (docker's
 * cli/command/inspect): each reference fetched in turn; without a format, the daemon's JSON
 * re-indented by 4 spaces (never re-encoded) inside one array; `json`, the same compacted; a
 * template, run on each object (Go's missingkey=error, as docker's raw fallback), one line each.
 * The failures are printed after the objects found, and the exit status is 1; a template that
 * does not parse exits 64.
 */
import type { Readable } from 'node:stream';
import { ApiError } from '../../../client/types.js';
import { Template } from '../../format/index.js';
import type { CliContext, CommandSpec } from '../../types.js';
import { CliError } from '../../types.js';
import { errorText } from './each.js';
import { compactJson, indentJson } from './json-text.js';

/** One object: its raw JSON text, or why it could not be had (the line docker prints). */
export type GetRef = (ref: string) => Promise<string>;

export const inspectFormatFlag = {
  name: 'format',
  short: 'f',
  kind: 'string' as const,
  usage:
    "Format output using a custom template:\n'json':             Print in JSON format\n'TEMPLATE':         Print output using the given Go template.\nRefer to https://docs.docker.com/go/formatting/ for more information about formatting output with templates",
};

/** A path segment as Go's url.URL escapes it: `/` and `:` kept (image names have both). */
export function pathSegment(s: string): string {
  return encodeURIComponent(s).replace(/%2F/gi, '/').replace(/%3A/gi, ':').replace(/%40/g, '@');
}

export async function readText(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

/** GET `path` and its body as text (ApiError on ≥ 400). */
export async function getRaw(ctx: CliContext, path: string, query?: Record<string, string | undefined>): Promise<string> {
  const client = await ctx.client();
  return readText(await client.stream('GET', path, query ? { query } : {}));
}

/**
 * Runs docker's inspect over `refs`: prints the objects (see the file's comment), then the
 * errors, and returns the exit status (throws CliError for 1 and 64, as main prints them).
 */
export async function inspectObjects(ctx: CliContext, refs: string[], format: string, getRef: GetRef): Promise<number> {
  let tmpl: Template | undefined;
  if (format !== '' && format !== 'json') {
    try {
      tmpl = Template.parse(format, { missingKey: 'inspect' });
    } catch (err) {
      throw new CliError(`template parsing error: ${(err as Error).message}`, 64);
    }
  }
  const errors: string[] = [];
  const raws: string[] = [];
  let text = '';
  for (const ref of refs) {
    let raw: string;
    try {
      raw = await getRef(ref);
    } catch (err) {
      errors.push(errorText(err));
      continue;
    }
    if (!tmpl) {
      raws.push(raw);
      continue;
    }
    try {
      text += `${tmpl.execute(JSON.parse(raw))}\n`;
    } catch (err) {
      errors.push(`template parsing error: ${(err as Error).message}`);
    }
  }
  if (tmpl) ctx.stdout.write(text === '' ? '\n' : text);
  else if (raws.length === 0) ctx.stdout.write('[]\n');
  else {
    const all = `[${raws.join(',')}]`;
    ctx.stdout.write(`${format === 'json' ? compactJson(all) : indentJson(all)}\n`);
  }
  if (errors.length > 0) throw new CliError(errors.join('\n'));
  return 0;
}

/** Whether docker's type autodetection moves on to the next kind of object after this error. */
export function skippable(err: unknown): boolean {
  if (err instanceof ApiError && err.status === 404) return true;
  const m = err instanceof Error ? err.message : String(err);
  return m.includes('not supported') || m.includes('invalid reference format');
}

export const inspectContainerCommand: CommandSpec = {
  name: 'inspect',
  usage: 'inspect [OPTIONS] CONTAINER [CONTAINER...]',
  short: 'Display detailed information on one or more containers',
  flags: [inspectFormatFlag, { name: 'size', short: 's', kind: 'bool', usage: 'Display total file sizes' }],
  args: { min: 1 },
  async run(ctx, inv) {
    const size = inv.flags.bool('size') ? '1' : undefined;
    return inspectObjects(ctx, inv.args, inv.flags.string('format'), (ref) =>
      getRaw(ctx, `/containers/${pathSegment(ref)}/json`, { size }),
    );
  },
};
