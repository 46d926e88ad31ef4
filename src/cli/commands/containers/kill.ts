/** `berth kill`: send a signal (SIGKILL by default) to one or more running containers. */
import type { CommandSpec } from '../../types.js';
import { containerPath, finish, forEachObject } from './each.js';

export const killCommand: CommandSpec = {
  name: 'kill',
  usage: 'kill [OPTIONS] CONTAINER [CONTAINER...]',
  short: 'Kill one or more running containers',
  flags: [{ name: 'signal', short: 's', kind: 'string', usage: 'Signal to send to the container' }],
  args: { min: 1 },
  topLevel: 'kill',
  async run(ctx, inv) {
    const signal = inv.flags.string('signal');
    const query = signal ? { signal } : {};
    const client = await ctx.client();
    return finish(
      await forEachObject(ctx, inv.args, async (name) => void (await client.json('POST', containerPath(name, '/kill'), { query }))),
    );
  },
};
