/** `berth context rm NAME…`: removes contexts from the docker CLI's store (the one in use only with -f). */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { contextDirName, readConfigFile, writeCurrentContext } from '../../contexts.js';
import { CliError, type CommandSpec } from '../../types.js';
import { exists } from './common.js';

export const rmCommand: CommandSpec = {
  name: 'rm',
  aliases: ['remove'],
  usage: 'rm CONTEXT [CONTEXT...]',
  short: 'Remove one or more contexts',
  flags: [{ name: 'force', short: 'f', kind: 'bool', usage: 'Force the removal of a context in use' }],
  args: { min: 1 },
  async run(ctx, inv) {
    const force = inv.flags.bool('force');
    const inUse = readConfigFile(ctx.configDir).currentContext;
    const errors: string[] = [];
    for (const name of inv.args) {
      if (name === 'default') {
        errors.push('context "default" cannot be removed');
        continue;
      }
      if (!exists(ctx, name)) {
        if (force) ctx.stdout.write(`${name}\n`);
        else errors.push(`context ${JSON.stringify(name)} does not exist`);
        continue;
      }
      if (name === inUse) {
        if (!force) {
          errors.push(`context ${JSON.stringify(name)} is in use, set -f flag to force remove`);
          continue;
        }
        writeCurrentContext(ctx.configDir, 'default');
      }
      const id = contextDirName(name);
      rmSync(join(ctx.configDir, 'contexts', 'meta', id), { recursive: true, force: true });
      rmSync(join(ctx.configDir, 'contexts', 'tls', id), { recursive: true, force: true });
      ctx.stdout.write(`${name}\n`);
    }
    if (errors.length > 0) throw new CliError(errors.join('\n'));
    return 0;
  },
};
