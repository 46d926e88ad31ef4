/** `berth diff`: the changes to a container's filesystem (`GET /containers/{id}/changes`), `C|A|D path` per line. */
import type { CommandSpec } from '../../types.js';
import { containerPath } from './each.js';

/** The API's change kinds: 0 modified, 1 added, 2 deleted. */
const KINDS = ['C', 'A', 'D'];

export function diffLines(changes: { Path: string; Kind: number }[] | null | undefined): string {
  return (changes ?? []).map((c) => `${KINDS[c.Kind] ?? '?'} ${c.Path}\n`).join('');
}

export const diffCommand: CommandSpec = {
  name: 'diff',
  usage: 'diff CONTAINER',
  short: "Inspect changes to files or directories on a container's filesystem",
  flags: [],
  args: { min: 1, max: 1 },
  topLevel: 'diff',
  async run(ctx, inv) {
    const client = await ctx.client();
    const res = await client.json<{ Path: string; Kind: number }[] | null>('GET', containerPath(inv.args[0]!, '/changes'));
    ctx.stdout.write(diffLines(res.body));
    return 0;
  },
};
