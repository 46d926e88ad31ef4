/** `berth load` / `berth image load`: POST /images/load with the archive (a file or stdin), Docker's progress or the daemon's text. */
import type { Readable } from 'node:stream';
import { displayProgress } from '../../progress.js';
import { CliError, type CommandSpec } from '../../types.js';
import { openInput } from './open-file.js';

export const load: CommandSpec = {
  name: 'load',
  usage: 'load [OPTIONS]',
  short: 'Load an image from a tar archive or STDIN',
  topLevel: 'load',
  args: { max: 0 },
  flags: [
    { name: 'input', short: 'i', kind: 'string', usage: 'Read from tar archive file, instead of STDIN' },
    {
      name: 'platform',
      kind: 'string',
      usage: 'Load only the given platform variant. Formatted as "os[/arch[/variant]]" (e.g., "linux/amd64")',
    },
    { name: 'quiet', short: 'q', kind: 'bool', usage: 'Suppress the load output' },
  ],
  async run(ctx, inv) {
    const path = inv.flags.string('input');
    let input: Readable = ctx.stdin;
    if (path) input = await openInput(path, ctx.cwd);
    // Nothing would ever come from a terminal: docker refuses rather than hang.
    else if (ctx.stdin.isTTY) throw new CliError('requested load from stdin, but stdin is empty');
    if (inv.flags.string('platform')) throw new CliError('"platform" requires API version 1.48, but the Docker daemon API version is 1.41');
    const client = await ctx.client();
    const query: Record<string, string> = {};
    // Off a terminal the per-layer bars would be hidden anyway: the daemon is told to skip them.
    if (inv.flags.bool('quiet') || !ctx.stdout.isTTY) query.quiet = '1';
    try {
      const res = await client.stream('POST', '/images/load', { query, body: input, headers: { 'Content-Type': 'application/x-tar' } });
      if (/application\/json/.test(String(res.headers['content-type'] ?? ''))) await displayProgress(res, ctx.stdout);
      else for await (const chunk of res) ctx.stdout.write(chunk as Buffer);
    } finally {
      if (input !== ctx.stdin) input.destroy();
    }
    return 0;
  },
};
