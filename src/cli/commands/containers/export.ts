/**
 * `berth export`: the container's filesystem as a tar, to `-o FILE` or to stdout — never to a
 * terminal (docker's "cowardly refusing"). The file is written next to its final name and
 * renamed once complete, as docker's CopyToFile does, so a failed export leaves no half file.
 */
import { stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { copyToFile } from '../../output-file.js';
import type { CliContext, CommandSpec } from '../../types.js';
import { CliError } from '../../types.js';
import { containerPath } from './each.js';

/** command.ValidateOutputPath: the directory must exist, and the path must not be a directory. */
export async function validateOutputPath(path: string, cwd: string): Promise<void> {
  const dir = dirname(path);
  if (dir !== '' && dir !== '.') {
    const s = await stat(resolve(cwd, dir)).catch(() => undefined);
    if (!s) throw new Error(`invalid output path: directory ${JSON.stringify(dir)} does not exist`);
  }
  const s = await stat(resolve(cwd, path)).catch(() => undefined);
  if (s?.isDirectory()) throw new Error(`invalid output path: ${JSON.stringify(path)} must be a directory or a regular file`);
}

/** Copies a response body to the command's stdout, without ending it. */
export async function copyToStdout(ctx: CliContext, body: Readable): Promise<void> {
  await pipeline(body, ctx.stdout as Writable, { end: false });
}

export const exportCommand: CommandSpec = {
  name: 'export',
  usage: 'export [OPTIONS] CONTAINER',
  short: "Export a container's filesystem as a tar archive",
  flags: [{ name: 'output', short: 'o', kind: 'string', usage: 'Write to a file, instead of STDOUT' }],
  args: { min: 1, max: 1 },
  topLevel: 'export',
  async run(ctx, inv) {
    const output = inv.flags.string('output');
    if (!output && ctx.stdout.isTTY) throw new CliError('cowardly refusing to save to a terminal. Use the -o flag or redirect');
    if (output)
      await validateOutputPath(output, ctx.cwd).catch((err: Error) => {
        throw new CliError(`failed to export container: ${err.message}`);
      });
    const client = await ctx.client();
    const body = await client.stream('GET', containerPath(inv.args[0]!, '/export'));
    if (output) await copyToFile(resolve(ctx.cwd, output), body, ctx.stderr);
    else await copyToStdout(ctx, body);
    return 0;
  },
};
