/** `berth logout`: the credentials of a server erased from config.json and its credential helper, under every key docker may have used. */
import { DOCKER_HUB_KEY, eraseCredentials, keyHostname } from '../../../distribution/credentials.js';
import type { CommandSpec } from '../../types.js';

export const logout: CommandSpec = {
  name: 'logout',
  usage: 'logout [SERVER]',
  short: 'Log out from a registry',
  long: 'Log out from a registry.\nIf no server is specified, the default is defined by the daemon.',
  args: { max: 1 },
  flags: [],
  async run(ctx, inv) {
    const server = inv.args[0] || DOCKER_HUB_KEY;
    const isDefault = !inv.args[0];
    const hostname = isDefault ? server : keyHostname(server);
    // Older logins may sit under the URL forms of the name: docker erases them all.
    const keys = isDefault ? [server] : [server, hostname, `http://${hostname}`, `https://${hostname}`];
    ctx.stdout.write(`Removing login credentials for ${hostname}\n`);
    const errors: [string, string][] = [];
    for (const key of keys) {
      try {
        await eraseCredentials({ configDir: ctx.configDir, env: ctx.env }, key);
      } catch (err) {
        errors.push([key, (err as Error).message]);
      }
    }
    if (errors.length === keys.length) {
      ctx.stderr.write('WARNING: could not erase credentials:\n');
      for (const [k, m] of errors) ctx.stdout.write(`${k}: ${m}\n`);
    }
    return 0;
  },
};
