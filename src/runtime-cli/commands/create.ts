import type { Command } from 'commander';
import { create } from '../../runtime/container/create.js';
import { type Context, type CreateFlags, createFlags, warn } from '../context.js';

export function register(program: Command, ctx: Context): void {
  createFlags(program.command('create').description('create a container').argument('<container-id>')).action(
    async (id: string, flags: CreateFlags) => {
      warn(await create({ root: ctx.root(), id, ...ctx.createOptions(flags) }));
    },
  );
}
