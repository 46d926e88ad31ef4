/**
 * `berth image inspect`: GET /images/{name}/json per image; an indented JSON array, one JSON
 * line per image (`-f json`) or a template per image. Images not found are reported after the
 * others, and the exit status is 1.
 */
import { ApiError } from '../../../client/types.js';
import { goJSON, Template } from '../../format/index.js';
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
    let tmpl: Template | undefined;
    if (format && format !== 'json') {
      try {
        // The raw JSON is what the template sees: a missing key is an error (missingkey=error).
        tmpl = Template.parse(format, { missingKey: 'error' });
      } catch (err) {
        throw new CliError(`template parsing error: ${(err as Error).message}`);
      }
    }
    const client = await ctx.client();
    if (inv.flags.string('platform'))
      throw new CliError(`"platform" requires API version 1.49, but the Docker daemon API version is ${client.version}`);
    const found: unknown[] = [];
    const errors: string[] = [];
    let out = '';
    for (const name of inv.args) {
      let body: unknown;
      try {
        body = (await client.json('GET', `/images/${name}/json`)).body;
      } catch (err) {
        if (!(err instanceof ApiError)) throw err;
        errors.push(`Error response from daemon: ${err.message}`);
        continue;
      }
      if (tmpl) {
        try {
          out += `${tmpl.execute(body)}\n`;
        } catch (err) {
          errors.push(`template parsing error: ${(err as Error).message}`);
        }
      } else found.push(body);
    }
    // Docker's inspectors flush whatever happened: `[]` or an empty line when nothing came out.
    if (format === 'json') out = `${goJSON(found)}\n`;
    else if (!tmpl) out = found.length ? `${JSON.stringify(found, null, 4)}\n` : '[]\n';
    else if (!out) out = '\n';
    ctx.stdout.write(out);
    if (errors.length) throw new CliError(errors.join('\n'));
    return 0;
  },
};
