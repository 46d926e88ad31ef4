/** `berth context show`: the name of the context in force. */
import type { CommandSpec } from '../../types.js';
import { current } from './common.js';

export const showCommand: CommandSpec = {
  name: 'show',
  usage: 'show',
  short: 'Print the name of the current context',
  flags: [],
  args: { max: 0 },
  async run(ctx) {
    ctx.stdout.write(`${current(ctx)}\n`);
    return 0;
  },
};
