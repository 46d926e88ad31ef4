/**
 * berth-runtime: the runc command line over the runtime library. Each command is a thin front
 * in commands/<verb>.ts; this file wires the global flags, logging and error reporting.
 */
import { Command, Option } from 'commander';
import { BerthError } from '../common/errors.js';
import { OCI_VERSION } from '../oci/spec.js';
import { register as registerCreate } from './commands/create.js';
import { register as registerDelete } from './commands/delete.js';
import { register as registerEvents } from './commands/events.js';
import { register as registerExec } from './commands/exec.js';
import { register as registerFeatures } from './commands/features.js';
import { register as registerKill } from './commands/kill.js';
import { register as registerList } from './commands/list.js';
import { register as registerPause } from './commands/pause.js';
import { register as registerPs } from './commands/ps.js';
import { register as registerResume } from './commands/resume.js';
import { register as registerRun } from './commands/run.js';
import { register as registerSpec } from './commands/spec.js';
import { register as registerStart } from './commands/start.js';
import { register as registerState } from './commands/state.js';
import { register as registerUpdate } from './commands/update.js';
import { DEFAULT_ROOT, type GlobalFlags, makeContext } from './context.js';
import { configureLog, log } from './log.js';

declare const BERTH_VERSION: string | undefined;
declare const BERTH_COMMIT: string | undefined;
const VERSION = typeof BERTH_VERSION === 'string' ? BERTH_VERSION : '0.0.0-dev';
const COMMIT = typeof BERTH_COMMIT === 'string' && BERTH_COMMIT ? BERTH_COMMIT : 'unknown';

export async function main(argv: string[]): Promise<number> {
  const program = new Command('berth-runtime');
  program
    .description('Open Container Initiative runtime (runc-compatible)')
    .enablePositionalOptions()
    .version(`berth-runtime version ${VERSION}\ncommit: ${COMMIT}\nspec: ${OCI_VERSION}`, '-v, --version')
    .option(
      '--root <dir>',
      `root directory for storage of container state (default: ${DEFAULT_ROOT}, or $XDG_RUNTIME_DIR/berth-runtime when not root)`,
    )
    .option('--log <file>', 'set the log file to write logs to (default is stderr)')
    .addOption(new Option('--log-format <format>', 'log format').choices(['text', 'json']).default('text'))
    .option('--debug', 'enable debug logging')
    .option('--systemd-cgroup', 'use systemd for cgroups (not supported)')
    .option('--cgroup-driver <driver>', 'cgroup driver: v1, hybrid or v2 (default: $BERTH_CGROUP_DRIVER, else what the host has)')
    .option('--criu <path>', '(accepted for compatibility; checkpoint is not supported)')
    .option('--rootless <value>', "ignore cgroup permission errors ('true', 'false', or 'auto')", 'auto')
    .hook('preAction', () => {
      const g = program.opts<GlobalFlags>();
      configureLog({ file: g.log, format: g.logFormat, debug: g.debug ?? false });
    })
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });

  const ctx = makeContext(program);
  for (const register of [
    registerCreate,
    registerStart,
    registerRun,
    registerState,
    registerList,
    registerKill,
    registerDelete,
    registerSpec,
    registerExec,
    registerUpdate,
    registerPause,
    registerResume,
    registerPs,
    registerEvents,
    registerFeatures,
  ]) {
    register(program, ctx);
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    const e = err as { code?: string; exitCode?: number };
    if (typeof e.code === 'string' && e.code.startsWith('commander.')) {
      // help and version exit 0; usage errors were already printed by commander
      return e.exitCode ?? 1;
    }
    log('error', err instanceof BerthError ? err.message : ((err as Error)?.stack ?? String(err)));
    return 1;
  }
}
