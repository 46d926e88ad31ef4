/** `berth volume inspect [-f FORMAT] VOLUME...`: GET /volumes/{name} each; Docker's indented JSON or a template per volume. */
import { ApiError } from '../../../client/types.js';
import { CliError, type CommandSpec } from '../../types.js';
import { parseTemplate } from '../system/render.js';
import { errorText, goJsonIndent, INSPECT_FORMAT_USAGE } from '../system/shared.js';

export const inspectCommand: CommandSpec = {
  name: 'inspect',
  usage: 'inspect [OPTIONS] VOLUME [VOLUME...]',
  short: 'Display detailed information on one or more volumes',
  args: { min: 1 },
  flags: [{ name: 'format', short: 'f', kind: 'string', default: '', usage: INSPECT_FORMAT_USAGE }],
  async run(ctx, { flags, args }) {
    const format = flags.string('format');
    // A bad template is found before any request (exit 64, as docker's inspect).
    const tmpl =
      format === '' || format === 'json'
        ? undefined
        : parseTemplate(format.replaceAll('\\t', '\t').replaceAll('\\n', '\n'), 'template parsing error: ', 64);
    const client = await ctx.client();
    const found: unknown[] = [];
    const errors: string[] = [];
    for (const name of args) {
      try {
        found.push((await client.json('GET', `/volumes/${encodeURIComponent(name)}`)).body);
      } catch (err) {
        if (!(err instanceof ApiError)) throw err;
        errors.push(errorText(err));
      }
    }
    if (tmpl) {
      for (const v of found) ctx.stdout.write(`${tmpl(v)}\n`);
    } else if (found.length > 0 || errors.length === 0) ctx.stdout.write(`${goJsonIndent(found)}\n`);
    if (errors.length > 0) throw new CliError(errors.join('\n'));
    return 0;
  },
};
