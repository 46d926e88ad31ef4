/** `berth pause`: freeze every process of one or more containers (the cgroup freezer). */
import type { CommandSpec } from '../../types.js';
import { containerPath, finish, forEachObject } from './each.js';

export const pauseCommand: CommandSpec = {
  name: 'pause',
  usage: 'pause CONTAINER [CONTAINER...]',
  short: 'Pause all processes within one or more containers',
  flags: [],
  args: { min: 1 },
  topLevel: 'pause',
  async run(ctx, inv) {
    const client = await ctx.client();
    return finish(await forEachObject(ctx, inv.args, async (name) => void (await client.json('POST', containerPath(name, '/pause')))));
  },
};
