import type { Command } from 'commander';
import { pause } from '../../runtime/container/pause.js';
import type { Context } from '../context.js';

export function register(program: Command, ctx: Context): void {
  program
    .command('pause')
    .description('pause suspends all processes inside the container')
    .argument('<container-id>')
    .action(async (id: string) => pause(ctx.root(), id));
}
