/**
 * Runs the hooks that live in the runtime namespace: prestart, createRuntime, poststart and
 * poststop (createContainer and startContainer run inside the container, from berth-nsinit).
 * Each hook gets the state JSON on stdin; a timeout kills it. Its stderr is read into the error
 * message; its stdout goes where the caller says (`HookIo`), by default nowhere.
 */
import { spawn } from 'node:child_process';
import { BerthError } from '../../common/errors.js';
import type { Hook, HookName } from '../../oci/spec.js';
import type { HookState } from '../container/container.js';

/** Where hooks' output goes: an fd the caller owns, or 'ignore'. */
export interface HookIo {
  stdout?: number | 'ignore';
}

export interface HookOutcome {
  ok: boolean;
  message: string;
}

function runOne(name: HookName, index: number, hook: Hook, state: HookState, io: HookIo): Promise<HookOutcome> {
  const label = `hook ${name}[${index}] '${hook.path}'`;
  return new Promise((resolve) => {
    const [argv0, ...args] = hook.args && hook.args.length > 0 ? hook.args : [hook.path];
    const child = spawn(hook.path, args, {
      argv0,
      env: Object.fromEntries((hook.env ?? []).map((e) => [e.slice(0, e.indexOf('=') >>> 0), e.slice(e.indexOf('=') + 1)])),
      stdio: ['pipe', io.stdout ?? 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      if (stderr.length < 4096) stderr += d;
    });
    let timedOut = false;
    const timer =
      hook.timeout && hook.timeout > 0
        ? setTimeout(() => {
            timedOut = true;
            child.kill('SIGKILL');
          }, hook.timeout * 1000)
        : undefined;
    child.stdin?.on('error', () => {}); // a hook that does not read its stdin is fine
    child.stdin?.end(JSON.stringify(state));
    child.once('error', (err) => {
      clearTimeout(timer);
      resolve({
        ok: false,
        message: `${label}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : err.message}`,
      });
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      const tail = stderr.trim() ? `: ${stderr.trim()}` : '';
      if (timedOut) resolve({ ok: false, message: `${label}: timed out after ${hook.timeout}s` });
      else if (code === 0) resolve({ ok: true, message: '' });
      else resolve({ ok: false, message: `${label}: ${signal ? `killed by ${signal}` : `exited with status ${code}`}${tail}` });
    });
  });
}

/** Runs the hooks in order and stops at the first failure, which it throws. */
export async function runHooksOrFail(name: HookName, hooks: readonly Hook[] | undefined, state: HookState, io: HookIo = {}): Promise<void> {
  for (const [i, hook] of (hooks ?? []).entries()) {
    const r = await runOne(name, i, hook, state, io);
    if (!r.ok) throw new BerthError('failed-precondition', r.message, { object: hook.path });
  }
}

/**
 * Runs every hook even when some fail, returning the failures as warnings: the runtime-spec says
 * poststart and poststop failures are logged and the lifecycle continues.
 */
export async function runHooksWarn(
  name: HookName,
  hooks: readonly Hook[] | undefined,
  state: HookState,
  io: HookIo = {},
): Promise<string[]> {
  const warnings: string[] = [];
  for (const [i, hook] of (hooks ?? []).entries()) {
    const r = await runOne(name, i, hook, state, io);
    if (!r.ok) warnings.push(r.message);
  }
  return warnings;
}
