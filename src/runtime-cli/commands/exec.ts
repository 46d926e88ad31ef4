import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { fromErrno } from '../../common/errors.js';
import type { Process } from '../../oci/spec.js';
import { parseProcess } from '../../oci/validate.js';
import { Container } from '../../runtime/container/container.js';
import { exec } from '../../runtime/container/exec.js';
import { type Context, fdRange, launcherFromEnv, OWN_STDIO, processSignals, usageError, warn } from '../context.js';

interface ExecFlags {
  consoleSocket?: string;
  cwd?: string;
  env: string[];
  tty?: boolean;
  user?: string;
  additionalGids: string[];
  process?: string;
  detach?: boolean;
  pidFile?: string;
  noNewPrivs?: boolean;
  cap: string[];
  preserveFds: string;
  ignorePaused?: boolean;
}

const collect = (value: string, previous: string[]) => [...previous, value];

function parseId(raw: string, what: string): number {
  const n = Number(raw);
  if (raw === '' || !Number.isInteger(n) || n < 0) throw usageError(`parse ${what} '${raw}': not a non-negative integer`);
  return n;
}

/**
 * The process to run, composed as runc does: `--process FILE` as given, or the container's
 * own process with the command, cwd, env, user, caps and tty of the flags.
 */
function composeProcess(base: Process | undefined, command: string[], flags: ExecFlags): Process {
  if (flags.process) {
    let text: string;
    try {
      text = readFileSync(flags.process, 'utf8');
    } catch (err) {
      throw fromErrno('open', flags.process, err);
    }
    return parseProcess(text, flags.process);
  }
  if (command.length === 0) throw usageError('exec: no command given (and no --process)');
  const p: Process = structuredClone(base ?? { cwd: '/', user: { uid: 0, gid: 0 } });
  p.args = command;
  if (flags.cwd) p.cwd = flags.cwd;
  p.env = [...(p.env ?? []), ...flags.env];
  p.terminal = flags.tty ?? false;
  if (flags.noNewPrivs) p.noNewPrivileges = true;
  if (flags.cap.length > 0) {
    p.capabilities = p.capabilities ?? {};
    const caps = p.capabilities;
    for (const set of ['bounding', 'effective', 'permitted'] as const) caps[set] = [...(caps[set] ?? []), ...flags.cap];
  }
  if (flags.user) {
    const [uid, gid] = flags.user.split(':');
    p.user = { ...p.user, uid: parseId(uid ?? '', 'uid'), gid: gid === undefined ? p.user.gid : parseId(gid, 'gid') };
  }
  if (flags.additionalGids.length > 0) p.user.additionalGids = flags.additionalGids.map((g) => parseId(g, 'gid'));
  return p;
}

export function register(program: Command, ctx: Context): void {
  program
    .command('exec')
    .description('execute a new process inside the container')
    .argument('<container-id>')
    .argument('[command...]')
    .passThroughOptions()
    .option('--console-socket <path>', 'unix socket that receives the pty master')
    .option('--cwd <path>', 'current working directory in the container')
    .option('-e, --env <var>', 'set an environment variable (repeatable)', collect, [])
    .option('-t, --tty', 'allocate a pseudo-TTY')
    .option('-u, --user <uid[:gid]>', 'user and group to run as')
    .option('-g, --additional-gids <gid>', 'additional gid (repeatable)', collect, [])
    .option('-p, --process <path>', 'path to a process.json')
    .option('-d, --detach', 'detach from the process')
    .option('--pid-file <path>', 'file to write the process id to')
    .option('--no-new-privs', 'set no_new_privs for the process')
    .option('-c, --cap <cap>', 'add a capability (repeatable)', collect, [])
    .option('--preserve-fds <n>', 'number of extra fds (from 3) to pass to the process', '0')
    .option('--ignore-paused', 'exec even if the container is paused')
    .option('--process-label <label>', '(accepted for compatibility; SELinux is not supported)')
    .option('--apparmor <profile>', '(accepted for compatibility; AppArmor is not supported)')
    .option('--cgroup <path>', '(accepted for compatibility)')
    .option('--pidfd-socket <path>', '(accepted for compatibility)')
    .action(async (id: string, command: string[], flags: ExecFlags) => {
      const root = ctx.root();
      const c = await Container.load(root, id);
      const preserveFds = Number(flags.preserveFds);
      if (!Number.isInteger(preserveFds) || preserveFds < 0) throw usageError(`invalid --preserve-fds value: ${flags.preserveFds}`);
      const result = await exec({
        root,
        id,
        process: composeProcess(c.record.config.process, command, flags),
        detach: flags.detach ?? false,
        pidFile: flags.pidFile,
        consoleSocket: flags.consoleSocket,
        stdio: { ...OWN_STDIO, preserveFds: fdRange(preserveFds) },
        ignorePaused: flags.ignorePaused,
        forwardSignals: processSignals,
        launcher: launcherFromEnv(),
      });
      warn(result.warnings);
      process.exitCode = result.exitCode;
    });
}
