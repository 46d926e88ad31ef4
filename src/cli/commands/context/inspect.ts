/** `berth context inspect [NAME…]`: the stored context as JSON (the current one by default). */
import { contextTls } from '../../contexts.js';
import { parseTemplate, runTemplate } from '../../templates.js';
import { CliError, type CommandSpec } from '../../types.js';
import { current, goJson, lookup, storage } from './common.js';

export const inspectCommand: CommandSpec = {
  name: 'inspect',
  usage: 'inspect [OPTIONS] [CONTEXT] [CONTEXT...]',
  short: 'Display detailed information on one or more contexts',
  flags: [
    {
      name: 'format',
      short: 'f',
      kind: 'string',
      usage:
        "Format output using a custom template:\n'json':             Print in JSON format\n'TEMPLATE':         Print output using the given Go template.\nRefer to https://docs.docker.com/go/formatting/ for more information about formatting output with templates",
    },
  ],
  async run(ctx, inv) {
    const names = inv.args.length > 0 ? inv.args : [current(ctx)];
    const out: unknown[] = [];
    const errors: string[] = [];
    for (const name of names) {
      try {
        const meta = lookup(ctx, name);
        const tls = name === 'default' ? undefined : contextTls(ctx.configDir, name, false);
        out.push({
          Name: meta.Name,
          Metadata: meta.Metadata ?? {},
          Endpoints: meta.Endpoints,
          TLSMaterial: tls ? { docker: [tls.ca && 'ca.pem', tls.cert && 'cert.pem', tls.key && 'key.pem'].filter(Boolean) } : {},
          Storage: storage(ctx, name),
        });
      } catch (err) {
        errors.push((err as Error).message);
      }
    }
    const format = inv.flags.string('format');
    if (format === '') ctx.stdout.write(`${goJson(out)}\n`);
    // json: Go's json.Marshal of the list, on one line
    else if (format === 'json') ctx.stdout.write(`${goJson(out, '')}\n`);
    else {
      const t = parseTemplate(format);
      for (const o of out) ctx.stdout.write(`${runTemplate(t, o)}\n`);
    }
    if (errors.length > 0) throw new CliError(errors.join('\n'));
    return 0;
  },
};
