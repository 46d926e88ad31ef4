/** `berth stop`: stop one or more running containers (the stop signal, then SIGKILL after the timeout). */
import type { CommandSpec } from '../../types.js';
import { containerPath, finish, forEachObject } from './each.js';
import { stopFlags, stopQuery } from './stop-flags.js';

export const stopCommand: CommandSpec = {
  name: 'stop',
  usage: 'stop [OPTIONS] CONTAINER [CONTAINER...]',
  short: 'Stop one or more running containers',
  flags: stopFlags,
  args: { min: 1 },
  topLevel: 'stop',
  async run(ctx, inv) {
    const query = stopQuery(ctx, inv.flags);
    const client = await ctx.client();
    return finish(
      await forEachObject(ctx, inv.args, async (name) => void (await client.json('POST', containerPath(name, '/stop'), { query }))),
    );
  },
};
