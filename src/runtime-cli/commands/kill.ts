import type { Command } from 'commander';
import { kill, parseSignal } from '../../runtime/container/kill.js';
import type { Context } from '../context.js';

export function register(program: Command, ctx: Context): void {
  program
    .command('kill')
    .description('send a signal (default SIGTERM) to the container init process')
    .argument('<container-id>')
    .argument('[signal]', 'signal name or number', 'SIGTERM')
    .option('-a, --all', 'send the signal to all processes in the container')
    .action(async (id: string, signal: string, flags: { all?: boolean }) => {
      await kill(ctx.root(), id, parseSignal(signal), flags.all ?? false);
    });
}
