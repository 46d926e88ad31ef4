/** `berth volume inspect [-f FORMAT] VOLUME...`: GET /volumes/{name} each; Docker's indented JSON or a template per volume. */
import { ApiError } from '../../../client/types.js';
import { CliError, type CommandSpec } from '../../types.js';
import { goStruct, parseTemplate, unescapeFormat } from '../system/render.js';
import { errorText, goEscape, goJsonIndent, INSPECT_FORMAT_USAGE } from '../system/shared.js';

export const inspectCommand: CommandSpec = {
  name: 'inspect',
  usage: 'inspect [OPTIONS] VOLUME [VOLUME...]',
  short: 'Display detailed information on one or more volumes',
  args: { min: 1 },
  flags: [{ name: 'format', short: 'f', kind: 'string', default: '', usage: INSPECT_FORMAT_USAGE }],
  async run(ctx, { flags, args }) {
    const format = flags.string('format');
    // A bad template is found before any request (exit 64, as docker's inspect).
    const tmpl = format === '' || format === 'json' ? undefined : parseTemplate(unescapeFormat(format), 'template parsing error: ', 64);
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
      for (const v of found) {
        let line: string;
        try {
          line = tmpl(goStruct('volume.Volume', v as Record<string, unknown>, false));
        } catch (err) {
          // An execution error is status 1 (64 is for parse errors), after an empty line, as docker.
          if (!(err instanceof CliError)) throw err;
          ctx.stdout.write('\n');
          throw new CliError(err.message);
        }
        ctx.stdout.write(`${line}\n`);
      }
    } else if (format === 'json') ctx.stdout.write(`${goEscape(JSON.stringify(found))}\n`);
    else ctx.stdout.write(`${goJsonIndent(found)}\n`);
    if (errors.length > 0) throw new CliError(errors.join('\n'));
    return 0;
  },
};
