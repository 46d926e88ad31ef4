/**
 * Questions on the terminal, as the docker CLI asks them: a `[y/N]` confirmation (prune), a
 * line (login's Username) and a password read without echo.
 */
import type { CliContext } from './types.js';

/** One line from stdin (without its newline), or undefined at end of input. */
export function readLine(stdin: CliContext['stdin']): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const onData = (c: Buffer | string) => {
      buf += c.toString();
      const nl = buf.indexOf('\n');
      if (nl >= 0) {
        done();
        // What came after the line is not ours: hand it back.
        const rest = buf.slice(nl + 1);
        if (rest) stdin.unshift(Buffer.from(rest));
        resolve(buf.slice(0, nl).replace(/\r$/, ''));
      }
    };
    const onEnd = () => {
      done();
      resolve(buf.length ? buf : undefined);
    };
    const onError = (e: Error) => {
      done();
      reject(e);
    };
    const done = () => {
      stdin.off('data', onData);
      stdin.off('end', onEnd);
      stdin.off('error', onError);
      stdin.pause();
    };
    stdin.on('data', onData);
    stdin.once('end', onEnd);
    stdin.once('error', onError);
    stdin.resume();
  });
}

/** `message [y/N] `: true only for y or Y, as command.PromptForConfirmation. */
export async function confirm(ctx: CliContext, message: string): Promise<boolean> {
  ctx.stdout.write(`${message} [y/N] `);
  const answer = await readLine(ctx.stdin);
  if (answer === undefined) ctx.stdout.write('\n');
  return (answer ?? '').trim().toLowerCase() === 'y';
}

/** A password typed on the terminal, not echoed (raw mode; backspace edits, ctrl-c/ctrl-d give up). */
export function readPassword(ctx: CliContext): Promise<string | undefined> {
  const stdin = ctx.stdin;
  if (!stdin.isTTY || !stdin.setRawMode) return readLine(stdin);
  return new Promise((resolve) => {
    let pw = '';
    stdin.setRawMode?.(true);
    const finish = (v: string | undefined) => {
      stdin.off('data', onData);
      stdin.setRawMode?.(false);
      stdin.pause();
      ctx.stdout.write('\n');
      resolve(v);
    };
    const onData = (c: Buffer | string) => {
      for (const ch of c.toString()) {
        if (ch === '\r' || ch === '\n') return finish(pw);
        if (ch === '\x03' || ch === '\x04') return finish(undefined);
        if (ch === '\x7f' || ch === '\b') pw = pw.slice(0, -1);
        else pw += ch;
      }
    };
    stdin.on('data', onData);
    stdin.resume();
  });
}
