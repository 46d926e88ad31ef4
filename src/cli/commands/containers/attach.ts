/**
 * `berth attach` (`container attach`): the running container's streams, as docker does it —
 * the wait first (no condition), inspect (a stopped, paused or restarting container is refused
 * here), attach (stdin when the container keeps it open and --no-stdin is not given), the state
 * checked again, the tty nudged to redraw, then the container's exit status.
 */
import type { EngineClient } from '../../../client/types.js';
import { checkTty } from '../../terminal.js';
import { CliError, type CommandSpec } from '../../types.js';
import { attachContainer, DETACHED_TEXT, detachKeysSpec, followTtySize, forwardSignals, waitFor } from './attached.js';
import { inspectContainer } from './start.js';

async function inspectRunning(client: EngineClient, name: string) {
  const c = await inspectContainer(client, name);
  if (c.State?.Running !== true) throw new CliError('You cannot attach to a stopped container, start it first', 1);
  if (c.State.Paused === true) throw new CliError('You cannot attach to a paused container, unpause it first', 1);
  if (c.State.Restarting === true) throw new CliError('You cannot attach to a restarting container, wait until it is running', 1);
  return c;
}

export const attach: CommandSpec = {
  name: 'attach',
  usage: 'attach [OPTIONS] CONTAINER',
  short: 'Attach local standard input, output, and error streams to a running container',
  flags: [
    { name: 'detach-keys', kind: 'string', usage: 'Override the key sequence for detaching a container' },
    { name: 'no-stdin', kind: 'bool', usage: 'Do not attach STDIN' },
    { name: 'sig-proxy', kind: 'bool', default: true, usage: 'Proxy all received signals to the process' },
  ],
  args: { min: 1, max: 1 },
  topLevel: 'attach',
  async run(ctx, inv) {
    const client = await ctx.client();
    const name = inv.args[0] as string;
    const noStdin = inv.flags.bool('no-stdin');
    const waiter = await waitFor(ctx, client, name, undefined);
    const stops: (() => void)[] = [() => waiter.cancel()];
    try {
      const c = await inspectRunning(client, name);
      const tty = c.Config.Tty === true;
      checkTty(!noStdin, tty, () => ctx.stdin);
      if (inv.flags.bool('sig-proxy') && !tty) stops.push(forwardSignals(ctx, client, c.Id));
      const session = await attachContainer(ctx, client, c.Id, {
        stdin: !noStdin && c.Config.OpenStdin === true,
        stdout: true,
        stderr: true,
        tty,
        detachKeys: detachKeysSpec(ctx, inv.flags.string('detach-keys')),
      });
      stops.push(() => session.close());
      // It may have stopped between the first look and the attach: an attach to it would hang.
      await inspectRunning(client, c.Id);
      if (tty) stops.push(followTtySize(ctx, client, 'containers', c.Id, true));
      if ((await session.done) === 'detached') throw new CliError(DETACHED_TEXT, 1);
      return await waiter.status();
    } finally {
      for (const stop of stops.reverse()) stop();
    }
  },
};
