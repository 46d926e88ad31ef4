import type { Command } from 'commander';
import type { State } from '../../oci/spec.js';
import { list } from '../../runtime/container/list.js';
import { type Context, usageError } from '../context.js';

/** Go's text/tabwriter as runc configures it: min width 12, padding 3; the last column is not padded. */
export function formatTable(states: readonly State[]): string {
  const rows = [
    ['ID', 'PID', 'STATUS', 'BUNDLE', 'CREATED', 'OWNER'],
    ...states.map((s) => [s.id, String(s.pid), s.status, s.bundle, s.created, s.owner]),
  ];
  const widths = rows[0]?.map((_, col) => Math.max(12, ...rows.map((r) => (r[col]?.length ?? 0) + 3))) ?? [];
  return `${rows.map((r) => r.map((cell, col) => (col === r.length - 1 ? cell : cell.padEnd(widths[col] ?? 12))).join('')).join('\n')}\n`;
}

export function register(program: Command, ctx: Context): void {
  program
    .command('list')
    .description('list containers started by berth-runtime with the given root')
    .option('-f, --format <format>', 'table or json', 'table')
    .option('-q, --quiet', 'display only container ids')
    .action(async (flags: { format: string; quiet?: boolean }) => {
      if (flags.format !== 'table' && flags.format !== 'json') throw usageError(`invalid format option: ${flags.format}`);
      const states = await list(ctx.root());
      if (flags.quiet) process.stdout.write(states.map((s) => `${s.id}\n`).join(''));
      else if (flags.format === 'json') process.stdout.write(`${states.length === 0 ? 'null' : JSON.stringify(states)}\n`);
      else process.stdout.write(formatTable(states));
    });
}
