import type { Command } from 'commander';
import { run } from '../../runtime/container/run.js';
import { type Context, type CreateFlags, createFlags, processSignals, warn } from '../context.js';

export function register(program: Command, ctx: Context): void {
  createFlags(program.command('run').description('create and run a container').argument('<container-id>'))
    .option('-d, --detach', 'detach from the container process')
    .action(async (id: string, flags: CreateFlags & { detach?: boolean }) => {
      const result = await run({
        root: ctx.root(),
        id,
        ...ctx.createOptions(flags),
        detach: flags.detach ?? false,
        forwardSignals: processSignals,
      });
      warn(result.warnings);
      process.exitCode = result.exitCode;
    });
}
