/** `berth context use NAME`: config.json's currentContext, as `docker context use` writes it. */
import { writeCurrentContext } from '../../contexts.js';
import { CliError, type CommandSpec } from '../../types.js';
import { lookup } from './common.js';

export const useCommand: CommandSpec = {
  name: 'use',
  usage: 'use CONTEXT',
  short: 'Set the current docker context',
  flags: [],
  // docker's `context use` checks with cobra.ExactArgs, whose message is cobra's own
  async run(ctx, inv) {
    if (inv.args.length !== 1) throw new CliError(`accepts 1 arg(s), received ${inv.args.length}`);
    const name = inv.args[0] as string;
    lookup(ctx, name); // must exist
    writeCurrentContext(ctx.configDir, name);
    ctx.stdout.write(`${name}\n`);
    ctx.stderr.write(`Current context is now ${JSON.stringify(name)}\n`);
    if (name !== 'default' && ctx.env.DOCKER_HOST) {
      ctx.stderr.write(
        `Warning: DOCKER_HOST environment variable overrides the active context. To use ${JSON.stringify(name)}, either set the global --context flag, or unset DOCKER_HOST environment variable.\n`,
      );
    }
    return 0;
  },
};
