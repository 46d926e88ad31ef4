import { spawnSync } from 'node:child_process';
import type { Command } from 'commander';
import { BerthError, fromErrno } from '../../common/errors.js';
import { containerPids } from '../../runtime/container/ps.js';
import { type Context, usageError } from '../context.js';

/** runc's filter: the header, then the lines whose PID column is one of `pids`. Pure. */
export function filterPsOutput(output: string, pids: readonly number[]): string {
  const lines = output.split('\n');
  const header = lines[0] ?? '';
  const pidIndex = header.trim().split(/\s+/).indexOf('PID');
  if (pidIndex < 0) throw new BerthError('invalid-argument', "couldn't find PID field in ps output");
  const wanted = new Set(pids);
  let out = `${header}\n`;
  for (const line of lines.slice(1)) {
    if (line === '') continue;
    const field = line.trim().split(/\s+/)[pidIndex] ?? '';
    const pid = Number(field);
    if (!/^\d+$/.test(field)) throw new BerthError('internal', `unable to parse pid: ${JSON.stringify(field)}`);
    if (wanted.has(pid)) out += `${line}\n`;
  }
  return out;
}

export function register(program: Command, ctx: Context): void {
  program
    .command('ps')
    .description('ps displays the processes running inside a container')
    .argument('<container-id>')
    .argument('[ps-options...]', 'options for ps(1) (default: -ef)')
    .option('-f, --format <format>', 'select one of: table or json', 'table')
    .allowUnknownOption()
    .passThroughOptions()
    .action(async (id: string, psArgs: string[], flags: { format: string }) => {
      if (flags.format !== 'table' && flags.format !== 'json') throw usageError(`invalid format option: ${flags.format}`);
      const pids = await containerPids(ctx.root(), id);
      if (flags.format === 'json') {
        process.stdout.write(`${pids.length === 0 ? 'null' : JSON.stringify(pids)}\n`);
        return;
      }
      const r = spawnSync('ps', psArgs.length > 0 ? psArgs : ['-ef'], { encoding: 'utf8' });
      if (r.error) throw fromErrno('run', 'ps', r.error);
      if (r.status !== 0) throw new BerthError('internal', `ps exited with status ${r.status}: ${r.stdout}${r.stderr}`.trim());
      process.stdout.write(filterPsOutput(r.stdout, pids));
    });
}
