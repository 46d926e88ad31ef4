/**
 * `berth top`: the container's processes (`GET /containers/{id}/top?ps_args=…`, the ps
 * arguments given after the container, joined by spaces), in docker's table: Go's tabwriter with
 * a minimum cell width of 20 and a padding of 3, the last column unpadded.
 */
import { tabwrite } from '../../format/index.js';
import type { CommandSpec } from '../../types.js';
import { containerPath } from './each.js';

export const topCommand: CommandSpec = {
  name: 'top',
  usage: 'top CONTAINER [ps OPTIONS]',
  short: 'Display the running processes of a container',
  flags: [],
  args: { min: 1 },
  // `berth top c -o pid`: everything after the container is ps's
  interspersed: false,
  topLevel: 'top',
  async run(ctx, inv) {
    const [container, ...psArgs] = inv.args as [string, ...string[]];
    const client = await ctx.client();
    const query = psArgs.length > 0 ? { ps_args: psArgs.join(' ') } : {};
    const res = await client.json<{ Titles?: string[] | null; Processes?: string[][] | null }>('GET', containerPath(container, '/top'), {
      query,
    });
    const rows = [res.body?.Titles ?? [], ...(res.body?.Processes ?? [])];
    ctx.stdout.write(tabwrite(rows.map((r) => `${r.join('\t')}\n`).join(''), { minwidth: 20, padding: 3 }));
    return 0;
  },
};
