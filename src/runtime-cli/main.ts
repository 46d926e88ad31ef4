/**
 * berth-runtime: the runc command line over the runtime library. Each command is a thin front
 * in commands/<verb>.ts; this file wires the global flags, logging and error reporting.
 *
 * Every call is a new process, so start-up is part of every verb's cost (containerd calls the
 * runtime five times per container): only the command that argv names is loaded and
 * registered. Its module is imported dynamically, which the bundler turns into a lazily
 * initialised module, so the other verbs' code is never run. Help and unknown commands
 * register them all, for the command list and suggestions.
 */
import { Command, Option } from 'commander';
import { BerthError } from '../common/errors.js';
import { OCI_VERSION } from '../oci/spec.js';
import { type Context, DEFAULT_ROOT, type GlobalFlags, makeContext } from './context.js';
import { configureLog, log, writeFd } from './log.js';

declare const BERTH_VERSION: string | undefined;
declare const BERTH_COMMIT: string | undefined;
const VERSION = typeof BERTH_VERSION === 'string' ? BERTH_VERSION : '0.0.0-dev';
const COMMIT = typeof BERTH_COMMIT === 'string' && BERTH_COMMIT ? BERTH_COMMIT : 'unknown';

type Register = (program: Command, ctx: Context) => void;

/** Each command's module, in the order of the help listing. */
const COMMANDS: Record<string, () => Promise<{ register: Register }>> = {
  create: () => import('./commands/create.js'),
  start: () => import('./commands/start.js'),
  run: () => import('./commands/run.js'),
  state: () => import('./commands/state.js'),
  list: () => import('./commands/list.js'),
  kill: () => import('./commands/kill.js'),
  delete: () => import('./commands/delete.js'),
  spec: () => import('./commands/spec.js'),
  exec: () => import('./commands/exec.js'),
  update: () => import('./commands/update.js'),
  pause: () => import('./commands/pause.js'),
  resume: () => import('./commands/resume.js'),
  ps: () => import('./commands/ps.js'),
  events: () => import('./commands/events.js'),
  features: () => import('./commands/features.js'),
};

/** Global options that take a value (as separate word unless written `--opt=value`). */
const GLOBAL_WITH_VALUE = new Set(['--root', '--log', '--log-format', '--cgroup-driver', '--criu', '--rootless']);

/**
 * The command argv names: the first word that is not a global option or its value, as
 * commander will find it; undefined when there is none or it is not a known command.
 */
export function commandOf(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--') return undefined;
    if (a.startsWith('-')) {
      if (GLOBAL_WITH_VALUE.has(a)) i++;
      continue;
    }
    return Object.hasOwn(COMMANDS, a) ? a : undefined;
  }
  return undefined;
}

/**
 * Initialises every command's module without running anything: for a startup snapshot, which
 * then holds them all (a verb's code costs nothing to load from a snapshot).
 */
export async function preloadCommands(): Promise<void> {
  await Promise.all(Object.values(COMMANDS).map((load) => load()));
}

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
    .configureOutput({ writeOut: (s) => writeFd(1, s), writeErr: (s) => writeFd(2, s) });

  const ctx = makeContext(program);
  const only = commandOf(argv);
  // `--version` alone (dockerd asks for it) needs no command.
  const versionOnly = only === undefined && argv.every((a) => a.startsWith('-')) && argv.some((a) => a === '-v' || a === '--version');
  const names = only !== undefined ? [only] : versionOnly ? [] : Object.keys(COMMANDS);
  const modules = await Promise.all(names.map((name) => COMMANDS[name]?.()));
  for (const m of modules) m?.register(program, ctx);
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
