/**
 * `berth run` (`container run`), in the docker v28 CLI's order: create (pulling a missing
 * image), attach before start unless `-d`, the wait (`next-exit`, or `removed` with `--rm`)
 * before start, start, the tty size, then the container's exit status as berth's own.
 *
 * Exit statuses: the container's; 125 when berth or the daemon failed; 126/127 when the
 * container's command could not be run (from the start error's text, as docker does).
 */
import { ApiError, ConnectError } from '../../../client/types.js';
import { checkTty } from '../../terminal.js';
import { type CliContext, CliError, type CommandSpec } from '../../types.js';
import {
  type Attached,
  attachContainer,
  detachKeysSpec,
  errorText,
  followTtySize,
  forwardSignals,
  seg,
  startErrorStatus,
  waitFor,
} from './attached.js';
import { createContainer, createRequest } from './create.js';
import { runFlags } from './options.js';

/** docker run's way of reporting: `berth: <error>`, a blank line, the help hint. */
function report(ctx: CliContext, message: string): string {
  return `${ctx.prog}: ${message}\n\nRun '${ctx.prog} run --help' for more information`;
}

export const run: CommandSpec = {
  name: 'run',
  usage: 'run [OPTIONS] IMAGE [COMMAND] [ARG...]',
  short: 'Create and run a new container from an image',
  flags: runFlags,
  args: { min: 1 },
  interspersed: false,
  topLevel: 'run',
  async run(ctx, inv) {
    const flags = inv.flags;
    const detach = flags.bool('detach');
    let client: Awaited<ReturnType<CliContext['client']>>;
    try {
      client = await ctx.client();
    } catch (err) {
      throw new CliError(report(ctx, errorText(err)), 125);
    }
    // Refusals of the flags come as CliErrors already worded for run; with -d nothing is
    // attached (options.ts clears the Attach* fields).
    const req = createRequest(ctx, inv, 'run', client);
    const config = req.body;
    if (!detach) checkTty(config.AttachStdin, config.Tty, () => ctx.stdin);
    const autoRemove = config.HostConfig?.AutoRemove === true;

    let id: string;
    try {
      id = await createContainer(ctx, client, req, flags);
    } catch (err) {
      if (err instanceof CliError && err.exitCode !== 1) throw err;
      const message = errorText(err);
      throw new CliError(report(ctx, message), err instanceof ConnectError ? 125 : startErrorStatus(message));
    }

    const stops: (() => void)[] = [];
    try {
      if (flags.bool('sig-proxy')) stops.push(forwardSignals(ctx, client, id));
      const attachOut = config.AttachStdout === true || config.AttachStderr === true;
      // Detached: the id is all berth prints (docker prints it before the start, too).
      if (!attachOut) ctx.stdout.write(`${id}\n`);
      // The attach and the wait are both in place before the start, as in docker's order (attach,
      // then wait); opened together, they cost one round trip instead of two.
      const attaching =
        config.AttachStdin === true || attachOut
          ? attachContainer(ctx, client, id, {
              stdin: config.AttachStdin === true,
              stdout: config.AttachStdout === true,
              stderr: config.AttachStderr === true,
              tty: config.Tty === true,
              detachKeys: detachKeysSpec(ctx, flags.string('detach-keys')),
            })
          : undefined;
      const waiting = waitFor(ctx, client, id, autoRemove ? 'removed' : 'next-exit');
      let session: Attached | undefined;
      let waiter!: Awaited<typeof waiting>;
      try {
        session = await attaching;
      } finally {
        // a failed attach ends the command: its wait goes too (waitFor never rejects)
        waiter = await waiting;
        stops.push(() => waiter.cancel());
      }
      try {
        await client.json('POST', `/containers/${seg(id)}/start`);
      } catch (err) {
        if (session !== undefined) {
          // The session must end (and give the terminal back) before berth says anything.
          session.close();
          await session.done.catch(() => {});
        }
        const message = errorText(err);
        ctx.stderr.write(`${report(ctx, message)}\n`);
        // With --rm the daemon removes the container anyway: wait for it, as docker does.
        if (autoRemove) await waiter.status();
        return err instanceof ApiError ? startErrorStatus(message) : 125;
      }
      if (session !== undefined && config.Tty === true) stops.push(followTtySize(ctx, client, 'containers', id));
      if (session !== undefined) {
        const end = await session.done;
        if (end === 'detached') return 0;
      }
      if (!attachOut) return 0;
      return await waiter.status();
    } finally {
      for (const stop of stops.reverse()) stop();
    }
  },
};
