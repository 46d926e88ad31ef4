import type { Command } from 'commander';
import { start } from '../../runtime/container/start.js';
import { type Context, HOOK_IO, warn } from '../context.js';

export function register(program: Command, ctx: Context): void {
  program
    .command('start')
    .description('start the user process of a created container')
    .argument('<container-id>')
    .action(async (id: string) => warn(await start(ctx.root(), id, { hookIo: HOOK_IO })));
}
