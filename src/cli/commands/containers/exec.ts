/**
 * `berth exec` (`container exec`): a command in a running container, as the docker CLI runs
 * it — inspect first (so "No such container" wins), the tty check, exec create, exec start
 * (hijacked, or `Detach` with `-d`), the tty size, then the process's exit code from exec
 * inspect as berth's own.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { checkTty } from '../../terminal.js';
import { CliError, type CommandSpec, UsageError } from '../../types.js';
import { DETACHED_TEXT, detachKeysSpec, followTtySize, seg, startSession } from './attached.js';
import { parseKeyValueFile } from './options.js';
import { inspectContainer } from './start.js';

/** `-e K=V`, `-e K` (taken from berth's environment when set there, as docker does). */
export function envValue(value: string, env: NodeJS.ProcessEnv): string {
  const eq = value.indexOf('=');
  const key = eq < 0 ? value : value.slice(0, eq);
  if (key === '') throw new UsageError(`invalid argument "${value}" for "-e, --env" flag: invalid environment variable: ${value}`, 125);
  if (eq >= 0) return value;
  const v = env[key];
  return v === undefined ? value : `${key}=${v}`;
}

export const exec: CommandSpec = {
  name: 'exec',
  usage: 'exec [OPTIONS] CONTAINER COMMAND [ARG...]',
  short: 'Execute a command in a running container',
  flags: [
    { name: 'detach', short: 'd', kind: 'bool', usage: 'Detached mode: run command in the background' },
    { name: 'detach-keys', kind: 'string', usage: 'Override the key sequence for detaching a container' },
    { name: 'env', short: 'e', kind: 'list', usage: 'Set environment variables' },
    { name: 'env-file', kind: 'list', usage: 'Read in a file of environment variables' },
    { name: 'interactive', short: 'i', kind: 'bool', usage: 'Keep STDIN open even if not attached' },
    { name: 'privileged', kind: 'bool', usage: 'Give extended privileges to the command' },
    { name: 'tty', short: 't', kind: 'bool', usage: 'Allocate a pseudo-TTY' },
    { name: 'user', short: 'u', kind: 'string', usage: 'Username or UID (format: "<name|uid>[:<group|gid>]")' },
    { name: 'workdir', short: 'w', kind: 'string', usage: 'Working directory inside the container' },
  ],
  args: { min: 2 },
  interspersed: false,
  topLevel: 'exec',
  async run(ctx, inv) {
    const f = inv.flags;
    const [container, ...cmd] = inv.args as [string, ...string[]];
    const detach = f.bool('detach');
    const tty = f.bool('tty');
    const env: string[] = [];
    for (const file of f.list('env-file')) {
      let content: Buffer;
      try {
        content = readFileSync(resolve(ctx.cwd, file));
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        throw new CliError(`open ${file}: ${code === 'ENOENT' ? 'no such file or directory' : (err as Error).message}`, 1);
      }
      try {
        env.push(...parseKeyValueFile(content, (k) => ctx.env[k]));
      } catch (err) {
        throw new CliError(`invalid env file (${file}): ${(err as Error).message}`, 1);
      }
    }
    for (const e of f.list('env')) env.push(envValue(e, ctx.env));
    const attachStdin = !detach && f.bool('interactive');
    const keys = detachKeysSpec(ctx, f.string('detach-keys'));

    const client = await ctx.client();
    await inspectContainer(client, container);
    if (!detach) checkTty(attachStdin, tty, () => ctx.stdin);
    const created = await client.json<{ Id: string }>('POST', `/containers/${seg(container)}/exec`, {
      body: {
        User: f.string('user'),
        Privileged: f.bool('privileged'),
        Tty: tty,
        AttachStdin: attachStdin,
        AttachStderr: !detach,
        AttachStdout: !detach,
        Detach: detach,
        DetachKeys: keys,
        Env: env.length > 0 ? env : null,
        WorkingDir: f.string('workdir'),
        Cmd: cmd,
      },
    });
    const execId = created.body.Id;
    if (!execId) throw new CliError('exec ID empty', 1);
    if (detach) {
      await client.json('POST', `/exec/${seg(execId)}/start`, { body: { Detach: true, Tty: tty } });
      return 0;
    }
    const conn = await client.hijack('POST', `/exec/${seg(execId)}/start`, { body: { Detach: false, Tty: tty } });
    const session = startSession(ctx, conn, { stdin: attachStdin, stdout: true, stderr: true, tty, detachKeys: keys });
    let stopResize = () => {};
    if (tty && ctx.stdin.isTTY === true) stopResize = followTtySize(ctx, client, 'exec', execId);
    try {
      if ((await session.done) === 'detached') throw new CliError(DETACHED_TEXT, 1);
    } finally {
      stopResize();
    }
    const inspected = await client.json<{ ExitCode?: number | null }>('GET', `/exec/${seg(execId)}/json`);
    return inspected.body.ExitCode ?? 0;
  },
};
