/**
 * `berth image inspect`: GET /images/{name}/json per image; an indented JSON array, one JSON
 * line per image (`-f json`) or a template per image. Images not found are reported after the
 * others, and the exit status is 1.
 */
import { ApiError } from '../../../client/types.js';
import { Inspector, inspectAll } from '../../format/index.js';
import { CliError, type CommandSpec } from '../../types.js';

export const inspect: CommandSpec = {
  name: 'inspect',
  usage: 'inspect [OPTIONS] IMAGE [IMAGE...]',
  short: 'Display detailed information on one or more images',
  args: { min: 1 },
  flags: [
    {
      name: 'format',
      short: 'f',
      kind: 'string',
      usage:
        "Format output using a custom template:\n'json':             Print in JSON format\n'TEMPLATE':         Print output using the given Go template.\nRefer to https://docs.docker.com/go/formatting/ for more information about formatting output with templates",
    },
    {
      name: 'platform',
      kind: 'string',
      usage:
        "Inspect a specific platform of the multi-platform image.\nIf the image or the server is not multi-platform capable, the command will error out if the platform does not match.\n'os[/arch[/variant]]': Explicit platform (eg. linux/amd64)",
    },
  ],
  async run(ctx, inv) {
    const format = inv.flags.string('format');
    Inspector.create(format); // a template that does not parse fails before any request
    const client = await ctx.client();
    if (inv.flags.string('platform'))
      throw new CliError(`"platform" requires API version 1.49, but the Docker daemon API version is ${client.version}`);
    const fetched: ({ value: unknown } | { error: string })[] = [];
    for (const name of inv.args) {
      try {
        fetched.push({ value: (await client.json('GET', `/images/${name}/json`)).body });
      } catch (err) {
        if (!(err instanceof ApiError)) throw err;
        fetched.push({ error: `Error response from daemon: ${err.message}` });
      }
    }
    const { out, error } = inspectAll(format, fetched);
    ctx.stdout.write(out);
    if (error) throw error;
    return 0;
  },
};
