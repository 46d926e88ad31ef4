/**
 * The `berth` CLI's contract: a command is data (its name, usage, flags, arity) plus one `run`
 * function over an invocation. The parser (src/cli/flags.ts) follows pflag/cobra as the docker
 * CLI uses them, so flags, messages and exit codes are Docker's. Commands live one file per verb
 * under src/cli/commands/<group>/, and each group's index.ts exports its `CommandSpec[]`; the
 * tree (src/cli/tree.ts) puts them under `berth <group> <verb>` and, where Docker does, at the
 * top level too (`berth ps` = `berth container ls`).
 */
import type { Readable, Writable } from 'node:stream';
import type { EngineClient } from '../client/types.js';
import type { SignalSource } from './signals.js';

/**
 * bool: `-d`, `--detach`, `--detach=false`.
 * string / int / float: one value (`-t 5`, `--time=5`, `-t5`); the last one given wins.
 * list: repeatable, each occurrence one value (pflag's stringArray: `-e A=1 -e B=2`).
 * slice: repeatable, each occurrence also split on commas (pflag's stringSlice: `--cap-add a,b`).
 */
export type FlagKind = 'bool' | 'string' | 'int' | 'float' | 'list' | 'slice';

export interface FlagSpec {
  /** Long name, without dashes: `detach`. */
  name: string;
  /** One letter, without the dash: `d`. */
  short?: string;
  kind: FlagKind;
  default?: boolean | string | number | string[];
  /** The value's name in help (`--memory bytes`, `--time int`); pflag's type name by default. */
  valueName?: string;
  usage: string;
  hidden?: boolean;
}

export interface CommandSpec {
  /** The verb: `run`, `ls`. */
  name: string;
  aliases?: string[];
  /** Usage after the program name and group: `run [OPTIONS] IMAGE [COMMAND] [ARG...]`. */
  usage: string;
  /** One line, Docker's wording: `Create and run a new container from an image`. */
  short: string;
  /** The description in the command's own help, where Docker's differs from `short` (login). */
  long?: string;
  flags: FlagSpec[];
  /** Positional arity, checked before `run` with cobra's messages ("requires at least 1 argument"). */
  args?: { min?: number; max?: number };
  /** false: flags end at the first positional (run, create, exec: the rest is the container's command). */
  interspersed?: boolean;
  /** Also a top-level command, under this name (`ps` for `container ls`, `rmi` for `image rm`). */
  topLevel?: string;
  run(ctx: CliContext, inv: Invocation): Promise<number>;
}

/** A management group: `container`, `image`, `volume`, `system`, `network`, `context`. */
export interface GroupSpec {
  name: string;
  short: string;
  commands: CommandSpec[];
}

export interface Flags {
  bool(name: string): boolean;
  string(name: string): string;
  int(name: string): number;
  float(name: string): number;
  /** list and slice flags, in the order given. */
  list(name: string): string[];
  /** Given on the command line (pflag's Changed), as opposed to left at its default. */
  changed(name: string): boolean;
}

export interface Invocation {
  /** As typed, for messages: `berth container ls`, `berth ps`. */
  command: string;
  flags: Flags;
  args: string[];
}

/** What a command may touch: its streams, the environment, and the daemon through the client. */
export interface CliContext {
  /** The program's name in messages: `berth` (See 'berth run --help'.). */
  prog: string;
  stdin: Readable & { isTTY?: boolean; setRawMode?(mode: boolean): unknown; fd?: number };
  stdout: Writable & { isTTY?: boolean; columns?: number; rows?: number };
  stderr: Writable & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
  /** The caller's working directory: relative paths given by the user resolve against it, never against process.cwd(). */
  cwd: string;
  /** The caller's signals: process.on(…) would not hear them when the command runs in berthd's CLI host. */
  signals: SignalSource;
  /** DOCKER_CONFIG, `--config`, or ~/.docker: config.json (auths, credsStore, psFormat…) lives there. */
  configDir: string;
  /** Connects on first use (DOCKER_HOST, `-H`, the current context), negotiating the API version. */
  client(): Promise<EngineClient>;
  debug: boolean;
}

/**
 * A command's failure with its exit status, printed by main as is (Docker's texts). For a
 * daemon's answer, commands let ApiError through: main prints `Error response from daemon: …`.
 */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/**
 * A usage error: main adds the command's usage and the help hint, as the v28 CLI does. A flag
 * error (unknown flag, bad value) exits 125; a wrong number of arguments exits 1.
 */
export class UsageError extends CliError {}
