/**
 * `berth start` (`container start`): several containers started one by one, or one started
 * attached (`-a`, `-i`) as docker does it: inspect, the signal proxy (no tty), attach, the wait,
 * start, the tty size, then the container's exit status.
 */
import type { EngineClient } from '../../../client/types.js';
import { CliError, type CommandSpec } from '../../types.js';
import { attachContainer, detachKeysSpec, errorText, followTtySize, forwardSignals, seg, waitFor } from './attached.js';

interface Inspected {
  Id: string;
  Config: { Tty?: boolean; OpenStdin?: boolean };
  HostConfig?: { AutoRemove?: boolean };
  State?: { Running?: boolean; Paused?: boolean; Restarting?: boolean };
}

export async function inspectContainer(client: EngineClient, name: string): Promise<Inspected> {
  return (await client.json<Inspected>('GET', `/containers/${seg(name)}/json`)).body;
}

export const start: CommandSpec = {
  name: 'start',
  usage: 'start [OPTIONS] CONTAINER [CONTAINER...]',
  short: 'Start one or more stopped containers',
  flags: [
    { name: 'attach', short: 'a', kind: 'bool', usage: 'Attach STDOUT/STDERR and forward signals' },
    { name: 'checkpoint', kind: 'string', usage: 'Restore from this checkpoint' },
    { name: 'checkpoint-dir', kind: 'string', usage: 'Use a custom checkpoint storage directory' },
    { name: 'detach-keys', kind: 'string', usage: 'Override the key sequence for detaching a container' },
    { name: 'interactive', short: 'i', kind: 'bool', usage: "Attach container's STDIN" },
  ],
  args: { min: 1 },
  topLevel: 'start',
  async run(ctx, inv) {
    const client = await ctx.client();
    const attach = inv.flags.bool('attach');
    const interactive = inv.flags.bool('interactive');
    if (inv.flags.string('checkpoint') !== '') throw new CliError('checkpoints are not supported by berth', 1);
    if (!attach && !interactive) {
      const failed: string[] = [];
      for (const name of inv.args) {
        try {
          await client.json('POST', `/containers/${seg(name)}/start`);
          ctx.stdout.write(`${name}\n`);
        } catch (err) {
          ctx.stderr.write(`${errorText(err)}\n`);
          failed.push(name);
        }
      }
      if (failed.length > 0) throw new CliError(`Error: failed to start containers: ${failed.join(', ')}`, 1);
      return 0;
    }
    if (inv.args.length > 1) throw new CliError('you cannot start and attach multiple containers at once', 1);
    const c = await inspectContainer(client, inv.args[0] as string);
    const tty = c.Config.Tty === true;
    const stops: (() => void)[] = [];
    try {
      if (!tty) stops.push(forwardSignals(ctx, client, c.Id));
      const session = await attachContainer(ctx, client, c.Id, {
        stdin: interactive && c.Config.OpenStdin === true,
        stdout: true,
        stderr: true,
        tty,
        detachKeys: detachKeysSpec(ctx, inv.flags.string('detach-keys')),
      });
      const waiter = await waitFor(ctx, client, c.Id, c.HostConfig?.AutoRemove === true ? 'removed' : 'next-exit');
      stops.push(() => waiter.cancel());
      try {
        await client.json('POST', `/containers/${seg(c.Id)}/start`);
      } catch (err) {
        session.close();
        await session.done.catch(() => {});
        if (c.HostConfig?.AutoRemove === true) await waiter.status();
        throw err;
      }
      if (tty) stops.push(followTtySize(ctx, client, 'containers', c.Id));
      if ((await session.done) === 'detached') return 0;
      return await waiter.status();
    } finally {
      for (const stop of stops.reverse()) stop();
    }
  },
};
