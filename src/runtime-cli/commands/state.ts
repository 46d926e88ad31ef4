import type { Command } from 'commander';
import { Container } from '../../runtime/container/container.js';
import type { Context } from '../context.js';
import { writeFd } from '../log.js';

export function register(program: Command, ctx: Context): void {
  program
    .command('state')
    .description('output the state of a container')
    .argument('<container-id>')
    .action(async (id: string) => {
      const c = await Container.load(ctx.root(), id);
      // runc prints it indented and without a trailing newline.
      writeFd(1, JSON.stringify(c.state(), null, '  '));
    });
}
