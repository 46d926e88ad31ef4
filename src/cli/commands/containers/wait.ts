/** `berth wait`: block until each container stops, then print its exit code (one after the other, as docker). */
import type { CommandSpec } from '../../types.js';
import { containerPath, finish, forEachObject } from './each.js';

export const waitCommand: CommandSpec = {
  name: 'wait',
  usage: 'wait CONTAINER [CONTAINER...]',
  short: 'Block until one or more containers stop, then print their exit codes',
  flags: [],
  args: { min: 1 },
  topLevel: 'wait',
  async run(ctx, inv) {
    const client = await ctx.client();
    const errors = await forEachObject(
      ctx,
      inv.args,
      async (name) => {
        const res = await client.json<{ StatusCode?: number }>('POST', containerPath(name, '/wait'));
        return String(res.body?.StatusCode ?? 0);
      },
      { parallel: false },
    );
    return finish(errors);
  },
};
