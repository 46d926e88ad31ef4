/** `berth volume create [OPTIONS] [VOLUME]`: POST /volumes/create; prints the volume's name. */
import { type CommandSpec, UsageError } from '../../types.js';
import { kvMap } from '../system/shared.js';

interface Volume {
  Name: string;
}

export const createCommand: CommandSpec = {
  name: 'create',
  usage: 'create [OPTIONS] [VOLUME]',
  short: 'Create a volume',
  args: { max: 1 },
  flags: [
    { name: 'driver', short: 'd', kind: 'string', default: 'local', usage: 'Specify volume driver name' },
    { name: 'label', kind: 'list', usage: 'Set metadata for a volume' },
    { name: 'name', kind: 'string', default: '', usage: 'Specify volume name', hidden: true },
    { name: 'opt', short: 'o', kind: 'list', valueName: 'map', default: [], usage: 'Set driver specific options' },
  ],
  async run(ctx, { flags, args }) {
    let name = flags.string('name');
    if (args[0] !== undefined) {
      if (name !== '')
        throw new UsageError('conflicting options: cannot specify a volume-name through both --name and as a positional arg', 1);
      name = args[0];
    }
    const body = {
      Driver: flags.string('driver'),
      DriverOpts: kvMap(flags.list('opt')),
      Name: name,
      Labels: kvMap(flags.list('label')),
    };
    const client = await ctx.client();
    const r = await client.json<Volume>('POST', '/volumes/create', { body });
    ctx.stdout.write(`${r.body.Name}\n`);
    return 0;
  },
};
