/** `berth restart`: stop (as `berth stop` does) then start each container. */
import type { CommandSpec } from '../../types.js';
import { containerPath, finish, forEachObject } from './each.js';
import { stopFlags, stopQuery } from './stop-flags.js';

export const restartCommand: CommandSpec = {
  name: 'restart',
  usage: 'restart [OPTIONS] CONTAINER [CONTAINER...]',
  short: 'Restart one or more containers',
  flags: stopFlags,
  args: { min: 1 },
  topLevel: 'restart',
  async run(ctx, inv) {
    const query = stopQuery(ctx, inv.flags);
    const client = await ctx.client();
    // docker restarts one container after the other
    const errors = await forEachObject(
      ctx,
      inv.args,
      async (name) => void (await client.json('POST', containerPath(name, '/restart'), { query })),
      {
        parallel: false,
      },
    );
    return finish(errors);
  },
};
