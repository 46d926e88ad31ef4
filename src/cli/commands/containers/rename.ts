/** `berth rename`: rename a container; docker's two-line failure (the daemon's error, then its own). */
import type { CommandSpec } from '../../types.js';
import { CliError } from '../../types.js';
import { containerPath, errorText } from './each.js';

export const renameCommand: CommandSpec = {
  name: 'rename',
  usage: 'rename CONTAINER NEW_NAME',
  short: 'Rename a container',
  flags: [],
  args: { min: 2, max: 2 },
  topLevel: 'rename',
  async run(ctx, inv) {
    const oldName = inv.args[0]!.trim();
    const newName = inv.args[1]!.trim();
    if (!oldName || !newName) throw new CliError('Error: Neither old nor new names may be empty');
    const client = await ctx.client();
    try {
      await client.json('POST', containerPath(oldName, '/rename'), { query: { name: newName } });
    } catch (err) {
      ctx.stderr.write(`${errorText(err)}\n`);
      throw new CliError(`Error: failed to rename container named ${oldName}`);
    }
    return 0;
  },
};
