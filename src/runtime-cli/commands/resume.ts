import type { Command } from 'commander';
import { resume } from '../../runtime/container/pause.js';
import type { Context } from '../context.js';

export function register(program: Command, ctx: Context): void {
  program
    .command('resume')
    .description('resumes all processes that have been previously paused')
    .argument('<container-id>')
    .action(async (id: string) => resume(ctx.root(), id));
}
