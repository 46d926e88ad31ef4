/** What every command shares: the global flags, and the flags of create and run. */
import { chmodSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { type Command, Option } from 'commander';
import { BerthError, fromErrno } from '../common/errors.js';
import type { CreateOptions } from '../runtime/container/create.js';
import { rootlessCgroups, runningInUserNamespace } from '../runtime/container/rootless.js';
import type { SignalSource } from '../runtime/container/run.js';
import type { Launcher } from '../runtime/launcher/launcher.js';
import { nsinitLauncher } from '../runtime/launcher/nsinit.js';
import { log } from './log.js';

export const DEFAULT_ROOT = '/run/berth-runtime';

/**
 * The state directory without --root, chosen as runc chooses its own: /run/berth-runtime for
 * root, $XDG_RUNTIME_DIR/berth-runtime for anyone else (and for root of a user namespace whose
 * $USER is not root). runc falls back to /run/runc and fails there; we say what is missing.
 */
export function defaultRoot(env: NodeJS.ProcessEnv = process.env): { dir: string; xdg: boolean } {
  const xdg = env.XDG_RUNTIME_DIR;
  const euid = process.geteuid?.() ?? 0;
  const honourXdg = !!xdg && (euid !== 0 || (runningInUserNamespace() && env.USER !== 'root'));
  if (honourXdg) return { dir: path.join(xdg, 'berth-runtime'), xdg: true };
  if (euid !== 0)
    throw usageError(
      `XDG_RUNTIME_DIR is not set: as a non-root user (uid ${euid}) berth-runtime keeps container state in $XDG_RUNTIME_DIR/berth-runtime; set it, or pass --root <dir>`,
    );
  return { dir: DEFAULT_ROOT, xdg: false };
}

export interface GlobalFlags {
  root?: string;
  rootless?: string;
  log?: string;
  logFormat: 'text' | 'json';
  debug?: boolean;
  systemdCgroup?: boolean;
  cgroupDriver?: string;
}

export interface CreateFlags {
  bundle?: string;
  pidFile?: string;
  consoleSocket?: string;
  noPivot?: boolean;
  noNewKeyring?: boolean;
  preserveFds: string;
}

export interface Context {
  root(): string;
  createOptions(flags: CreateFlags): Omit<CreateOptions, 'root' | 'id'>;
}

/**
 * What this process hands the library explicitly (the library reads no environment and takes
 * none of our fds unasked): our stdio for the container and the hooks, the helpers' paths from
 * the environment, and PATH.
 */
export const OWN_STDIO = { stdin: 0, stdout: 1, stderr: 2 } as const;
export const HOOK_IO = { stdout: 1 } as const;

export function launcherFromEnv(env: NodeJS.ProcessEnv = process.env): Launcher {
  return nsinitLauncher(env.BERTH_NSINIT || undefined);
}

/** fds 3 .. 3+n-1 of this process. */
export function fdRange(n: number): number[] {
  return Array.from({ length: n }, (_, i) => 3 + i);
}

/**
 * The foreground verbs' signal forwarding: while a foreground run or exec lasts, these signals
 * of this process go to the container instead of ending us.
 */
const FORWARDED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH'];
export const processSignals: SignalSource = (forward) => {
  for (const sig of FORWARDED) process.on(sig, forward);
  return () => {
    for (const sig of FORWARDED) process.off(sig, forward);
  };
};

export function usageError(message: string): BerthError {
  return new BerthError('invalid-argument', message);
}

export function warn(warnings: readonly string[]): void {
  for (const w of warnings) log('warning', w);
}

export function createFlags(cmd: Command): Command {
  return cmd
    .option('-b, --bundle <path>', 'path to the root of the bundle directory (default: the current directory)')
    .option('--pid-file <path>', 'file to write the container init process pid to')
    .option('--console-socket <path>', 'unix socket that receives the pty master of the container')
    .option('--no-pivot', 'do not use pivot_root to jail the process inside the rootfs')
    .option('--no-new-keyring', 'do not create a new session keyring for the container')
    .addOption(new Option('--preserve-fds <n>', 'number of extra fds (from 3) to pass to the container').default('0'))
    .option('--pidfd-socket <path>', '(accepted for compatibility; not used)');
}

export function makeContext(program: Command): Context {
  const globals = () => program.opts<GlobalFlags>();
  return {
    root: () => {
      const given = globals().root;
      if (given !== undefined) return path.resolve(given);
      const { dir, xdg } = defaultRoot();
      // As runc does in $XDG_RUNTIME_DIR: private, and sticky so the periodic cleanup of that
      // directory (XDG base directory spec) leaves it alone.
      if (xdg) {
        try {
          mkdirSync(dir, { recursive: true, mode: 0o700 });
          chmodSync(dir, 0o1700);
        } catch (err) {
          throw fromErrno('create state root', dir, err);
        }
      }
      return dir;
    },
    createOptions(flags) {
      if (globals().systemdCgroup)
        throw new BerthError('not-implemented', 'the systemd cgroup driver is not supported: this runtime manages cgroupfs directly');
      const preserveFds = Number(flags.preserveFds);
      if (!Number.isInteger(preserveFds) || preserveFds < 0) throw usageError(`invalid --preserve-fds value: ${flags.preserveFds}`);
      // commander turns --no-pivot into pivot=false; read both spellings.
      const f = flags as CreateFlags & { pivot?: boolean; newKeyring?: boolean };
      // Socket activation: systemd's LISTEN_FDS pass through first, then --preserve-fds.
      const listen = Number(process.env.LISTEN_FDS ?? 0);
      const listenFds = Number.isInteger(listen) && listen > 0 ? listen : 0;
      return {
        stdio: { ...OWN_STDIO, preserveFds: fdRange(listenFds + preserveFds) },
        listenFds,
        hookIo: HOOK_IO,
        launcher: launcherFromEnv(),
        cgroupBpf: process.env.BERTH_CGROUP_BPF || undefined,
        searchPath: process.env.PATH ?? '',
        bundle: flags.bundle ?? process.cwd(),
        pidFile: flags.pidFile,
        consoleSocket: flags.consoleSocket,
        noPivot: f.pivot === false,
        noNewKeyring: f.newKeyring === false,
        cgroupDriver: globals().cgroupDriver ?? process.env.BERTH_CGROUP_DRIVER,
        rootlessCgroups: rootlessCgroups(globals().rootless),
        // for the C front's exec (docs/runtime-front.md)
        execTemplate: true,
      };
    },
  };
}
