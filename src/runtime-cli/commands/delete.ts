import type { Command } from 'commander';
import { deleteContainer } from '../../runtime/container/delete.js';
import { type Context, HOOK_IO, warn } from '../context.js';

export function register(program: Command, ctx: Context): void {
  program
    .command('delete')
    .description('delete a container and the resources it holds')
    .argument('<container-id...>')
    .option('-f, --force', 'kill the container first if it is still running')
    .action(async (ids: string[], flags: { force?: boolean }) => {
      for (const id of ids) warn(await deleteContainer(ctx.root(), id, flags.force ?? false, { hookIo: HOOK_IO }));
    });
}
