/** `berth rmi` / `berth image rm`: DELETE /images/{name} per image; `Untagged:`/`Deleted:` lines, errors gathered. */
import { ApiError } from '../../../client/types.js';
import { CliError, type CommandSpec } from '../../types.js';

interface DeleteItem {
  Untagged?: string;
  Deleted?: string;
}

export const rm: CommandSpec = {
  name: 'rm',
  aliases: ['remove'],
  usage: 'rm [OPTIONS] IMAGE [IMAGE...]',
  short: 'Remove one or more images',
  topLevel: 'rmi',
  args: { min: 1 },
  flags: [
    { name: 'force', short: 'f', kind: 'bool', usage: 'Force removal of the image' },
    { name: 'no-prune', kind: 'bool', usage: 'Do not delete untagged parents' },
    {
      name: 'platform',
      kind: 'slice',
      valueName: 'strings',
      usage: 'Remove only the given platform variant. Formatted as "os[/arch[/variant]]" (e.g., "linux/amd64")',
    },
  ],
  async run(ctx, inv) {
    const force = inv.flags.bool('force');
    if (inv.flags.list('platform').length)
      throw new CliError('"platform" requires API version 1.50, but the Docker daemon API version is 1.41');
    const client = await ctx.client();
    const errors: string[] = [];
    let fatal = false;
    for (const name of inv.args) {
      try {
        const query: Record<string, string> = {};
        if (force) query.force = '1';
        if (inv.flags.bool('no-prune')) query.noprune = '1';
        const res = await client.json<DeleteItem[] | null>('DELETE', `/images/${name}`, { query });
        for (const item of res.body ?? []) {
          ctx.stdout.write(item.Deleted ? `Deleted: ${item.Deleted}\n` : `Untagged: ${item.Untagged ?? ''}\n`);
        }
      } catch (err) {
        if (!(err instanceof ApiError)) throw err;
        if (err.status !== 404) fatal = true;
        errors.push(`Error response from daemon: ${err.message}`);
      }
    }
    if (errors.length) {
      // Docker: with --force, images that were not there are only reported.
      if (!force || fatal) throw new CliError(errors.join('\n'));
      ctx.stderr.write(`${errors.join('\n')}\n`);
    }
    return 0;
  },
};
