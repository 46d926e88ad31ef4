/**
 * What run, start -a, attach and exec share around an attached session, in the order the docker
 * CLI does it: the wait sent (and its headers received) before the start, the signal proxy
 * while attached, the window size forwarded, the exit status read from the wait.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ApiError, ConnectError, type EngineClient } from '../../../client/types.js';
import { detachKeysFor, monitorTtySize, type TtyOutput } from '../../terminal.js';
import type { CliContext } from '../../types.js';
import { type SessionEnd, type SessionOptions, streamSession } from './hijack.js';

/** The path segment of a container or exec id or name, escaped. */
export const seg = (s: string): string => encodeURIComponent(s);

/** The daemon's message as the CLI shows it: `Error response from daemon: …`. */
export function errorText(err: unknown): string {
  if (err instanceof ApiError) return `Error response from daemon: ${err.message}`;
  if (err instanceof ConnectError) return err.message;
  return err instanceof Error ? err.message : String(err);
}

/**
 * run's exit status for a failed create or start, from the daemon's text (docker's
 * runStartContainerErr): not found → 127, permission denied / is a directory → 126, else 125.
 */
export function startErrorStatus(message: string): number {
  const m = message.replace(/^Error response from daemon: /, '');
  if (/executable file not found|no such file or directory|system cannot find the file specified/.test(m)) return 127;
  if (/permission denied|is a directory/.test(m)) return 126;
  return 125;
}

/** config.json's `detachKeys`, if any. */
export function configuredDetachKeys(configDir: string): string | undefined {
  try {
    const j = JSON.parse(readFileSync(join(configDir, 'config.json'), 'utf8')) as { detachKeys?: unknown };
    return typeof j.detachKeys === 'string' ? j.detachKeys : undefined;
  } catch {
    return undefined;
  }
}

/** The detach keys spec in force: the flag, else config.json's (empty: the default, ctrl-p ctrl-q). */
export function detachKeysSpec(ctx: CliContext, flag: string): string {
  return flag !== '' ? flag : (configuredDetachKeys(ctx.configDir) ?? '');
}

export interface Waiter {
  /** The exit status: the wait's StatusCode, or 125 when waiting failed (after saying why). */
  status(): Promise<number>;
  cancel(): void;
}

/**
 * `POST /containers/{id}/wait?condition=…`, resolved once the daemon has answered with its
 * headers: the container may be started only then, or a quick exit could be missed.
 */
export async function waitFor(ctx: CliContext, client: EngineClient, id: string, condition: string | undefined): Promise<Waiter> {
  const ac = new AbortController();
  const failed = (msg: string) => {
    ctx.stderr.write(`error waiting for container: ${msg}\n`);
    return 125;
  };
  let res: Awaited<ReturnType<EngineClient['stream']>>;
  try {
    res = await client.stream('POST', `/containers/${seg(id)}/wait`, { query: { condition }, signal: ac.signal });
  } catch (err) {
    const msg = errorText(err);
    return { status: async () => failed(msg), cancel: () => {} };
  }
  const body = (async () => {
    const chunks: Buffer[] = [];
    for await (const c of res) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
    return Buffer.concat(chunks).toString();
  })();
  body.catch(() => {});
  return {
    async status() {
      let text: string;
      try {
        text = await body;
      } catch (err) {
        return failed(errorText(err));
      }
      try {
        const j = JSON.parse(text) as { StatusCode?: number; Error?: { Message?: string } | null };
        if (j.Error?.Message) return failed(j.Error.Message);
        return j.StatusCode ?? 0;
      } catch {
        return failed(`unexpected answer: ${text.slice(0, 200)}`);
      }
    },
    cancel() {
      ac.abort();
      res.destroy();
    },
  };
}

/**
 * The signals a user sends to berth while attached, passed on to the container with
 * `POST /containers/{id}/kill?signal=…` (docker's sig-proxy). SIGWINCH is not among them: the
 * tty is resized through the API instead. Returns the stop.
 */
const PROXIED: NodeJS.Signals[] = ['SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGTERM', 'SIGUSR2', 'SIGALRM', 'SIGCONT', 'SIGTSTP'];
export function forwardSignals(ctx: CliContext, client: EngineClient, id: string): () => void {
  let interrupts = 0;
  const handler = (sig: NodeJS.Signals) => {
    // docker's way out of a container that ignores them: the third SIGINT/SIGTERM ends berth
    // (the exit handlers give the terminal back).
    if ((sig === 'SIGINT' || sig === 'SIGTERM') && ++interrupts >= 3) {
      ctx.stderr.write(`got ${interrupts} SIGTERM/SIGINTs, forcefully exiting\n`);
      process.exit(1);
    }
    client.json('POST', `/containers/${seg(id)}/kill`, { query: { signal: sig.replace(/^SIG/, '') } }).catch((err) => {
      if (ctx.debug) ctx.stderr.write(`Error sending signal: ${errorText(err)}\n`);
    });
  };
  for (const s of PROXIED) ctx.signals.on(s, handler);
  return () => {
    for (const s of PROXIED) ctx.signals.off(s, handler);
  };
}

/** Follows the local window size for a container's or an exec's tty. */
export function followTtySize(ctx: CliContext, client: EngineClient, kind: 'containers' | 'exec', id: string, bump = false): () => void {
  const out = ctx.stdout as unknown as TtyOutput;
  if (bump && out.isTTY === true && out.rows !== undefined && out.columns !== undefined) {
    // docker attach's trick: a size off by one then the real one, so a shell that was
    // detached from redraws its prompt for the new client.
    client.json('POST', `/${kind}/${seg(id)}/resize`, { query: { h: out.rows + 1, w: out.columns + 1 } }).catch(() => {});
  }
  return monitorTtySize(
    out,
    (h, w) => client.json('POST', `/${kind}/${seg(id)}/resize`, { query: { h, w } }),
    (msg) => ctx.stderr.write(`Error monitoring TTY size: ${msg}\n`),
  );
}

export interface AttachRequest {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
  /** The detach keys spec (detachKeysSpec): sent to the daemon, and matched here on a tty's input. */
  detachKeys: string;
}

/** What `attach` and `exec` say (exit 1) when the user detached; `run` and `start` say nothing. */
export const DETACHED_TEXT = 'read escape sequence';

/** A running session and the way to cut it short. */
export interface Attached {
  done: Promise<SessionEnd>;
  close(): void;
}

/** `POST /containers/{id}/attach?stream=1&…` (hijacked), then the session over it. */
export async function attachContainer(ctx: CliContext, client: EngineClient, id: string, a: AttachRequest): Promise<Attached> {
  const conn = await client.hijack('POST', `/containers/${seg(id)}/attach`, {
    query: {
      detachKeys: a.detachKeys || undefined,
      stderr: a.stderr || undefined,
      stdin: a.stdin || undefined,
      stdout: a.stdout || undefined,
      stream: true,
    },
  });
  return startSession(ctx, conn, a);
}

export function startSession(ctx: CliContext, conn: Awaited<ReturnType<EngineClient['hijack']>>, a: AttachRequest): Attached {
  let keys: number[] = [];
  if (a.stdin && a.tty) {
    // As docker, the keys are read (and a bad spec warned about) only where they apply.
    const d = detachKeysFor(a.detachKeys, undefined);
    if (d.warning !== undefined) {
      // The docker CLI's logrus line, as it prints it.
      ctx.stderr.write(`time="${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}" level=warning msg=${JSON.stringify(d.warning)}\n`);
    }
    keys = d.keys;
  }
  const opts: SessionOptions = { tty: a.tty, detachKeys: keys, signals: ctx.signals };
  if (a.stdin) opts.stdin = ctx.stdin;
  if (a.stdout) opts.stdout = ctx.stdout;
  // With a tty the container has one output stream; docker sends it all to stdout.
  if (a.stderr) opts.stderr = a.tty ? ctx.stdout : ctx.stderr;
  const done = streamSession(conn, opts);
  return { done, close: () => conn.socket.destroy() };
}
