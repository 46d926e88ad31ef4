import type { Command } from 'commander';
import { features } from '../../runtime/features.js';
import type { Context } from '../context.js';

declare const BERTH_VERSION: string | undefined;
const VERSION = typeof BERTH_VERSION === 'string' ? BERTH_VERSION : '0.0.0-dev';

export function register(program: Command, _ctx: Context): void {
  program
    .command('features')
    .description('show the enabled features')
    .action(() => {
      // runc indents with four spaces
      process.stdout.write(`${JSON.stringify(features(VERSION), null, 4)}\n`);
    });
}
