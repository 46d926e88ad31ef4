/**
 * `berth`'s one place of effects: global flags, the command's resolution, its flags and arity,
 * help, the CliContext (the client made lazily, berthd started on demand), and the printing of
 * errors with the docker CLI's texts and exit codes.
 */
import { resolve as resolvePath } from 'node:path';
import { ApiError, ConnectError, type EngineClient } from '../client/types.js';
import { ensureDaemon, howToStart } from './autostart.js';
import { completeCommand, completionCommand } from './completion.js';
import { openClient } from './connect.js';
import { configDirOf, configWarning, type GlobalOptions, resolveTarget, type Target } from './contexts.js';
import { arityError, FlagError, parseFlags } from './flags.js';
import { globalFlags } from './globals.js';
import { commandHelp, commandPath, groupHelp, helpWidth, rootHelp, useLine } from './help.js';
import { processSignals, type SignalSource } from './signals.js';
import { buildTree, type CommandNode, resolve, type Tree } from './tree.js';
import { type CliContext, CliError, type FlagSpec, UsageError } from './types.js';
import { BERTH_VERSION_LINE } from './version-info.js';

export interface Io {
  stdin: CliContext['stdin'];
  stdout: CliContext['stdout'];
  stderr: CliContext['stderr'];
  env: NodeJS.ProcessEnv;
  /** The caller's working directory; process.cwd() when not given. */
  cwd?: string;
  /** The caller's signals; the process's when not given. */
  signals?: SignalSource;
}

const LOG_LEVELS = ['debug', 'info', 'warn', 'warning', 'error', 'fatal', 'panic', 'trace'];

/** Runs one `berth` invocation; resolves to its exit status. Never throws. */
export async function main(
  argv: string[],
  io: Io,
  tree: Tree = buildTree('berth', undefined, undefined, [completionCommand, completeCommand]),
): Promise<number> {
  const { stdout, stderr, env } = io;
  const prog = tree.prog;
  // docker wraps help to the terminal's width (of stdin, fd 0): here the terminal of stdout or,
  // when that is piped (`berth run --help | less`), of stderr
  const termCols = stdout.isTTY
    ? stdout.columns
    : (stderr as { isTTY?: boolean; columns?: number }).isTTY
      ? (stderr as { columns?: number }).columns
      : undefined;
  const cols = helpWidth(termCols);
  const say = (s: string) => stderr.write(s.endsWith('\n') ? s : `${s}\n`);
  const gflags = globalFlags(env);
  const rootUsage = `Usage:  ${prog} [OPTIONS] COMMAND [ARG...]`;

  let g: ReturnType<typeof parseFlags>;
  try {
    g = parseFlags(gflags, argv, { interspersed: false });
  } catch (err) {
    if (err instanceof FlagError) {
      say(`${err.message}\n\n${rootUsage}\n\nRun '${prog} --help' for more information`);
      return 125;
    }
    throw err;
  }
  if (g.help) {
    stdout.write(rootHelp(tree, gflags, cols));
    return 0;
  }
  if (g.flags.bool('version')) {
    stdout.write(`${BERTH_VERSION_LINE}\n`);
    return 0;
  }
  const level = g.flags.string('log-level');
  if (!LOG_LEVELS.includes(level)) {
    say(`Unable to parse logging level: ${level}`);
    return 1;
  }
  const words = g.args;
  if (words.length === 0) {
    stderr.write(rootHelp(tree, gflags, cols));
    return 0;
  }
  if (words[0] === 'help') return helpCommand(tree, words.slice(1), io, gflags, cols);

  const r = resolve(tree, words);
  if (r.kind === 'unknown-command') {
    say(`${prog}: unknown command: ${prog} ${r.words.join(' ')}\n\nRun '${prog} --help' for more information`);
    return 1;
  }
  const later = tree.later.get(words[0] as string);
  if (later !== undefined) {
    say(`${prog}: ${later}`);
    return 1;
  }
  if (r.kind === 'unknown-subcommand') {
    say(
      `${prog}: unknown command: ${prog} ${r.group.name} ${r.word}\n\nUsage:  ${prog} ${r.group.name}\n\nRun '${prog} ${r.group.name} --help' for more information`,
    );
    return 1;
  }
  if (r.kind === 'group') {
    let p: ReturnType<typeof parseFlags>;
    try {
      p = parseFlags([], r.rest);
    } catch (err) {
      if (!(err instanceof FlagError)) throw err;
      say(`${err.message}\n\nUsage:  ${prog} ${r.group.name}\n\nRun '${prog} ${r.group.name} --help' for more information`);
      return 125;
    }
    if (p.help) {
      stdout.write(groupHelp(tree, r.group));
      return 0;
    }
    if (p.args.length > 0) {
      say(
        `${prog}: unknown command: ${prog} ${r.group.name} ${p.args[0]}\n\nUsage:  ${prog} ${r.group.name}\n\nRun '${prog} ${r.group.name} --help' for more information`,
      );
      return 1;
    }
    stderr.write(groupHelp(tree, r.group));
    return 0;
  }

  const node = r.node;
  const typedTop = r.typed.length === 1 ? r.typed[0] : undefined;
  const usage = useLine(tree, node, typedTop);
  const path = commandPath(tree, node, typedTop);
  const withUsage = (msg: string, hint: 'Run' | 'See') => `${msg}\n\nUsage:  ${usage}\n\n${hint} '${path} --help' for more information`;
  let p: ReturnType<typeof parseFlags>;
  try {
    p = parseFlags(node.spec.flags, r.rest, { interspersed: node.spec.interspersed ?? true });
  } catch (err) {
    if (!(err instanceof FlagError)) throw err;
    say(withUsage(err.message, 'Run'));
    return 125;
  }
  if (p.help) {
    stdout.write(commandHelp(tree, node, typedTop, cols));
    return 0;
  }
  const arity = arityError(prog, path, p.args, node.spec.args);
  if (arity) {
    say(withUsage(arity.message, arity.hint));
    return 1;
  }

  const opts = globalOptions(g.flags);
  const cwd = io.cwd ?? process.cwd();
  // absolute: the CLI host's worker has berthd's working directory, not the caller's
  const configDir = resolvePath(cwd, configDirOf(env, opts.config));
  const warning = configWarning(configDir);
  if (warning) say(warning);
  let target: Target | undefined;
  let client: Promise<EngineClient> | undefined;
  const ctx: CliContext & { globals: GlobalOptions; target(): Target } = {
    prog,
    // a getter: process.stdin makes a stream (and loads its modules) when first read
    get stdin() {
      return io.stdin;
    },
    stdout,
    stderr,
    env,
    cwd,
    signals: io.signals ?? processSignals,
    configDir,
    debug: g.flags.bool('debug') || level === 'debug',
    globals: opts,
    target() {
      target ??= resolveTarget(opts, env, configDir);
      return target;
    },
    client() {
      client ??= (async () => {
        const t = ctx.target();
        await ensureDaemon(t, env, stderr);
        return openClient(t);
      })();
      return client;
    },
  };
  try {
    return await node.spec.run(ctx, { command: path, flags: p.flags, args: p.args });
  } catch (err) {
    return report(err, { prog, node, path, usage, say, target: () => target, env, debug: ctx.debug });
  } finally {
    if (client)
      client.then(
        (c) => c.close(),
        () => {},
      );
  }
}

function globalOptions(flags: ReturnType<typeof parseFlags>['flags']): GlobalOptions {
  return {
    hosts: flags.list('host'),
    context: flags.string('context') || undefined,
    config: flags.changed('config') ? flags.string('config') : undefined,
    tls: flags.changed('tls') ? flags.bool('tls') : undefined,
    tlsverify: flags.changed('tlsverify') ? flags.bool('tlsverify') : undefined,
    tlscacert: flags.changed('tlscacert') ? flags.string('tlscacert') : undefined,
    tlscert: flags.changed('tlscert') ? flags.string('tlscert') : undefined,
    tlskey: flags.changed('tlskey') ? flags.string('tlskey') : undefined,
  };
}

/**
 * The daemon an invocation would talk to, as main resolves it (-H, DOCKER_HOST, contexts), or
 * undefined when it would not get that far (a flag error, help, a bad context): berthd's CLI
 * host runs a command itself only when this is one of its own sockets.
 */
export function targetOf(argv: string[], env: NodeJS.ProcessEnv, cwd: string): Target | undefined {
  try {
    const g = parseFlags(globalFlags(env), argv, { interspersed: false });
    const opts = globalOptions(g.flags);
    return resolveTarget(opts, env, resolvePath(cwd, configDirOf(env, opts.config)));
  } catch {
    return undefined;
  }
}

/** `berth help [COMMAND…]`: cobra's help command. */
function helpCommand(tree: Tree, words: string[], io: Io, gflags: FlagSpec[], cols: number): number {
  if (words.length === 0) {
    io.stdout.write(rootHelp(tree, gflags, cols));
    return 0;
  }
  const r = resolve(tree, words);
  if (r.kind === 'command') io.stdout.write(commandHelp(tree, r.node, r.typed.length === 1 ? r.typed[0] : undefined, cols));
  else if (r.kind === 'group') io.stdout.write(groupHelp(tree, r.group));
  else {
    io.stderr.write(`unknown help topic: ${words.join(' ')}\n`);
    return 1;
  }
  return 0;
}

interface ReportCtx {
  prog: string;
  node: CommandNode;
  path: string;
  usage: string;
  say(s: string): void;
  target(): Target | undefined;
  env: NodeJS.ProcessEnv;
  debug: boolean;
}

/** A command's failure, printed as the docker CLI prints it; the exit status. */
function report(err: unknown, c: ReportCtx): number {
  const { prog, node, say } = c;
  // run wraps every error with the program name and a help hint (docker's withHelp); create
  // does not (observed with the v28 CLI).
  const helpful = node.group?.name === 'container' && node.spec.name === 'run';
  if (err instanceof UsageError) {
    say(`${err.message}\n\nUsage:  ${c.usage}\n\nRun '${c.path} --help' for more information`);
    return err.exitCode;
  }
  if (err instanceof CliError) {
    if (err.message !== '') say(err.message);
    return err.exitCode;
  }
  let text: string;
  let code = 1;
  if (err instanceof ApiError) text = `Error response from daemon: ${err.message}`;
  else if (err instanceof ConnectError) {
    // the default socket is berthd's: say how to start it; elsewhere the client's (docker's) words
    const t = c.target();
    text = t?.isDefault && /^Cannot connect/.test(err.message) ? howToStart(t, c.env) : err.message;
  } else if (err instanceof Error) {
    text = c.debug && err.stack ? err.stack : err.message;
  } else text = String(err);
  if (helpful) {
    // docker's toStatusError: a command that cannot be run is 127 or 126, the rest 125
    if (/executable file not found|no such file or directory/.test(text)) code = 127;
    else if (/permission denied|is a directory/.test(text)) code = 126;
    else code = 125;
    say(`${prog}: ${text}\n\nRun '${prog} ${node.spec.name} --help' for more information`);
    return code;
  }
  say(text);
  return code;
}
