/**
 * `berth rm`: remove one or more containers. As docker: the names are trimmed of `/`, an empty one
 * is refused by the CLI itself, and with `--force` the failures are printed but the exit is 0.
 * `--link` removes a legacy link (`parent/alias`); a container's own name is refused with
 * dockerd's answer, here without asking to remove (berthd has no links and would remove it).
 */
import { ApiError } from '../../../client/types.js';
import type { CommandSpec } from '../../types.js';
import { containerPath, finish, forEachObject } from './each.js';

export const rmCommand: CommandSpec = {
  name: 'rm',
  aliases: ['remove'],
  usage: 'rm [OPTIONS] CONTAINER [CONTAINER...]',
  short: 'Remove one or more containers',
  flags: [
    { name: 'force', short: 'f', kind: 'bool', usage: 'Force the removal of a running container (uses SIGKILL)' },
    { name: 'link', short: 'l', kind: 'bool', usage: 'Remove the specified link' },
    { name: 'volumes', short: 'v', kind: 'bool', usage: 'Remove anonymous volumes associated with the container' },
  ],
  args: { min: 1 },
  topLevel: 'rm',
  async run(ctx, inv) {
    const force = inv.flags.bool('force');
    const query = { v: inv.flags.bool('volumes') || undefined, link: inv.flags.bool('link') || undefined, force: force || undefined };
    const client = await ctx.client();
    const errors = await forEachObject(ctx, inv.args, async (name) => {
      const trimmed = name.replace(/^\/+|\/+$/g, '');
      if (!trimmed) throw new Error('container name cannot be empty');
      if (inv.flags.bool('link') && !trimmed.includes('/')) {
        // dockerd looks the container up first: a missing one is "No such container"
        await client.json('GET', containerPath(trimmed, '/json'));
        throw new ApiError(409, 'Conflict, cannot remove the default link name of the container');
      }
      await client.json('DELETE', containerPath(trimmed), { query });
    });
    if (force && errors.length > 0) {
      ctx.stderr.write(`${errors.join('\n')}\n`);
      return 0;
    }
    return finish(errors);
  },
};
