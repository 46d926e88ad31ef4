/** What every command shares: the global flags, and the flags of create and run. */
import path from 'node:path';
import { type Command, Option } from 'commander';
import { BerthError } from '../common/errors.js';
import type { CreateOptions } from '../runtime/container/create.js';
import { log } from './log.js';

export const DEFAULT_ROOT = '/run/berth-runtime';

export interface GlobalFlags {
  root: string;
  log?: string;
  logFormat: 'text' | 'json';
  debug?: boolean;
  systemdCgroup?: boolean;
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
    root: () => path.resolve(globals().root),
    createOptions(flags) {
      if (globals().systemdCgroup)
        throw new BerthError('not-implemented', 'the systemd cgroup driver is not supported: this runtime manages cgroupfs directly');
      const preserveFds = Number(flags.preserveFds);
      if (!Number.isInteger(preserveFds) || preserveFds < 0) throw usageError(`invalid --preserve-fds value: ${flags.preserveFds}`);
      // commander turns --no-pivot into pivot=false; read both spellings.
      const f = flags as CreateFlags & { pivot?: boolean; newKeyring?: boolean };
      return {
        bundle: flags.bundle ?? process.cwd(),
        pidFile: flags.pidFile,
        consoleSocket: flags.consoleSocket,
        noPivot: f.pivot === false,
        noNewKeyring: f.newKeyring === false,
        preserveFds,
      };
    },
  };
}
