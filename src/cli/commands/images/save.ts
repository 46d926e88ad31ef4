/** `berth save` / `berth image save`: GET /images/get?names=…, to stdout (never a terminal) or to a file written whole, then renamed. */
import { once } from 'node:events';
import { closeSync, existsSync, fsyncSync, openSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { CliError, type CommandSpec } from '../../types.js';

/** command.ValidateOutputPath: the directory must exist and the path must not be one. */
function validateOutputPath(path: string): void {
  const dir = dirname(path);
  if (!existsSync(dir)) throw new CliError(`failed to save image: invalid output path: directory "${dir}" does not exist`);
  try {
    if (statSync(path).isDirectory()) throw new CliError(`failed to save image: invalid output path: "${path}" is a directory`);
  } catch (err) {
    if (err instanceof CliError) throw err;
  }
}

/** command.CopyToFile: a temp file next to the target, renamed over it once complete. */
async function copyToFile(path: string, body: AsyncIterable<Buffer>): Promise<void> {
  const tmp = join(dirname(path), `.docker_temp_${basename(path)}.${process.pid}`);
  const fd = openSync(tmp, 'w', 0o644);
  let ok = false;
  try {
    for await (const chunk of body) {
      let off = 0;
      while (off < chunk.length) off += writeSync(fd, chunk, off);
    }
    fsyncSync(fd);
    ok = true;
  } finally {
    closeSync(fd);
    if (!ok) unlinkSync(tmp);
  }
  renameSync(tmp, path);
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
    if (output) validateOutputPath(output);
    if (inv.flags.string('platform')) throw new CliError('"platform" requires API version 1.48, but the Docker daemon API version is 1.41');
    const client = await ctx.client();
    const res = await client.stream('GET', '/images/get', { query: { names: inv.args } });
    if (output) {
      try {
        await copyToFile(output, res);
      } catch (err) {
        if (err instanceof CliError) throw err;
        throw new CliError(`failed to save image: ${(err as Error).message}`);
      }
      return 0;
    }
    await pipeline(res, ctx.stdout, { end: false });
    if (ctx.stdout.writableNeedDrain) await once(ctx.stdout, 'drain');
    return 0;
  },
};
