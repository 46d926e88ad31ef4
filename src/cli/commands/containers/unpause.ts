/** `berth unpause`: thaw the processes of one or more paused containers. */
import type { CommandSpec } from '../../types.js';
import { containerPath, finish, forEachObject } from './each.js';

export const unpauseCommand: CommandSpec = {
  name: 'unpause',
  usage: 'unpause CONTAINER [CONTAINER...]',
  short: 'Unpause all processes within one or more containers',
  flags: [],
  args: { min: 1 },
  topLevel: 'unpause',
  async run(ctx, inv) {
    const client = await ctx.client();
    return finish(await forEachObject(ctx, inv.args, async (name) => void (await client.json('POST', containerPath(name, '/unpause')))));
  },
};
