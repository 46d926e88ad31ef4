/**
 * `berth inspect`: any object by name or id. Without `--type`, docker's order: a container, an
 * image, a network, a volume, a plugin — a "not found" moves on to the next kind, and when none
 * has it, `Error: No such object: x`. With `--type`, only that kind, and its own error.
 */
import type { CliContext, CommandSpec } from '../../types.js';
import { CliError } from '../../types.js';
import { getRaw, inspectFormatFlag, inspectObjects, pathSegment, skippable } from '../containers/inspect.js';

const ALL_TYPES = ['config', 'container', 'image', 'network', 'node', 'plugin', 'secret', 'service', 'task', 'volume'];
const TYPE_LIST = `"${ALL_TYPES.join('", "')}"`;

type Kind = 'container' | 'image' | 'network' | 'volume' | 'plugin' | 'node' | 'service' | 'task' | 'secret' | 'config';

/** Where each kind is inspected; the swarm kinds answer as an engine without swarm does. */
function pathFor(kind: Kind, ref: string): string {
  const r = pathSegment(ref);
  switch (kind) {
    case 'container':
      return `/containers/${r}/json`;
    case 'image':
      return `/images/${r}/json`;
    case 'network':
      return `/networks/${r}`;
    case 'volume':
      return `/volumes/${r}`;
    case 'plugin':
      return `/plugins/${r}/json`;
    case 'node':
      return `/nodes/${r}`;
    case 'service':
      return `/services/${r}?insertDefaults=1`;
    case 'task':
      return `/tasks/${r}`;
    case 'secret':
      return `/secrets/${r}`;
    case 'config':
      return `/configs/${r}`;
  }
}

/** The kinds tried without `--type` (the swarm ones only on a swarm manager, which berthd never is). */
const AUTODETECT: Kind[] = ['container', 'image', 'network', 'volume', 'plugin'];

export function objectGetter(ctx: CliContext, type: string, size: boolean) {
  return async (ref: string): Promise<string> => {
    const kinds = type ? [type as Kind] : AUTODETECT;
    for (const kind of kinds) {
      let raw: string;
      try {
        raw = await getRaw(ctx, pathFor(kind, ref), kind === 'container' && size ? { size: '1' } : undefined);
      } catch (err) {
        if (!type && skippable(err)) continue;
        throw err;
      }
      if (size && kind !== 'container') ctx.stderr.write(`WARNING: --size ignored for ${kind}\n`);
      return raw;
    }
    throw new Error(`Error: No such object: ${ref}`);
  };
}

export const inspectCommand: CommandSpec = {
  name: 'inspect',
  usage: 'inspect [OPTIONS] NAME|ID [NAME|ID...]',
  short: 'Return low-level information on Docker objects',
  flags: [
    inspectFormatFlag,
    { name: 'size', short: 's', kind: 'bool', usage: 'Display total file sizes if the type is container' },
    { name: 'type', kind: 'string', usage: 'Only inspect objects of the given type' },
  ],
  args: { min: 1 },
  async run(ctx, inv) {
    const type = inv.flags.string('type');
    if (inv.flags.changed('type') && type === '') throw new CliError(`type is empty: must be one of ${TYPE_LIST}`);
    if (type !== '' && !ALL_TYPES.includes(type)) throw new CliError(`unknown type: ${JSON.stringify(type)}: must be one of ${TYPE_LIST}`);
    return inspectObjects(ctx, inv.args, inv.flags.string('format'), objectGetter(ctx, type, inv.flags.bool('size')));
  },
};
