/** `berth save` / `berth image save`: GET /images/get?names=…, to stdout (never a terminal) or to a file written whole, then renamed (progress on a terminal). */

import { once } from 'node:events';
import { statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { copyToFile } from '../../output-file.js';
import { isCutShort } from '../../progress.js';
import { CliError, type CommandSpec } from '../../types.js';
import { goErrnoText } from './open-file.js';

/** command.ValidateOutputPath (and CopyToFile's refusal of a directory), with the CLI's texts. */
function validateOutputPath(path: string, cwd: string): void {
  const dir = dirname(path);
  try {
    statSync(resolve(cwd, dir));
  } catch (err) {
    throw new CliError(`failed to save image: invalid output path: stat ${dir}: ${goErrnoText(err)}`);
  }
  let st: ReturnType<typeof statSync> | undefined;
  try {
    st = statSync(resolve(cwd, path));
  } catch {
    st = undefined;
  }
  if (st?.isDirectory()) throw new CliError('failed to save image: cannot write to a directory');
}

export const save: CommandSpec = {
  name: 'save',
  usage: 'save [OPTIONS] IMAGE [IMAGE...]',
  short: 'Save one or more images to a tar archive (streamed to STDOUT by default)',
  topLevel: 'save',
  args: { min: 1 },
  flags: [
    { name: 'output', short: 'o', kind: 'string', usage: 'Write to a file, instead of STDOUT' },
    {
      name: 'platform',
      kind: 'string',
      usage: 'Save only the given platform variant. Formatted as "os[/arch[/variant]]" (e.g., "linux/amd64")',
    },
  ],
  async run(ctx, inv) {
    const output = inv.flags.string('output');
    if (!output && ctx.stdout.isTTY) throw new CliError('cowardly refusing to save to a terminal. Use the -o flag or redirect');
    if (output) validateOutputPath(output, ctx.cwd);
    if (inv.flags.string('platform')) throw new CliError('"platform" requires API version 1.48, but the Docker daemon API version is 1.41');
    const client = await ctx.client();
    const res = await client.stream('GET', '/images/get', { query: { names: inv.args } });
    if (output) {
      try {
        await copyToFile(resolve(ctx.cwd, output), res, ctx.stderr);
      } catch (err) {
        if (err instanceof CliError || (err as Error).name === 'ApiError') throw err;
        if (isCutShort(err)) throw new CliError('failed to save image: unexpected EOF');
        throw new CliError(`failed to save image: ${(err as { syscall?: string }).syscall ?? 'write'} ${output}: ${goErrnoText(err)}`);
      }
      return 0;
    }
    try {
      await pipeline(res, ctx.stdout, { end: false });
    } catch (err) {
      if (isCutShort(err)) throw new CliError('unexpected EOF');
      throw err;
    }
    if (ctx.stdout.writableNeedDrain) await once(ctx.stdout, 'drain');
    return 0;
  },
};
