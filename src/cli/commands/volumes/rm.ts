/** `berth volume rm [-f] VOLUME...`: DELETE /volumes/{name} each; prints each removed name, then every error. */
import { ApiError } from '../../../client/types.js';
import { CliError, type CommandSpec } from '../../types.js';
import { errorText } from '../system/shared.js';

export const rmCommand: CommandSpec = {
  name: 'rm',
  aliases: ['remove'],
  usage: 'rm [OPTIONS] VOLUME [VOLUME...]',
  short: 'Remove one or more volumes',
  args: { min: 1 },
  flags: [{ name: 'force', short: 'f', kind: 'bool', usage: 'Force the removal of one or more volumes' }],
  async run(ctx, { flags, args }) {
    const client = await ctx.client();
    const errors: string[] = [];
    for (const name of args) {
      try {
        await client.json('DELETE', `/volumes/${encodeURIComponent(name)}`, { query: { force: flags.bool('force') || undefined } });
        ctx.stdout.write(`${name}\n`);
      } catch (err) {
        if (!(err instanceof ApiError)) throw err;
        errors.push(errorText(err));
      }
    }
    if (errors.length > 0) throw new CliError(errors.join('\n'));
    return 0;
  },
};
