/** berthd's resolved configuration: what the daemon runs with, defaults applied and validated. */

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'fatal';

/** One API socket to listen on. `addr` is the normalized form (`unix:///run/berth/berth.sock`, `tcp://127.0.0.1:2375`). */
export type Listener =
  | { readonly proto: 'unix'; readonly path: string; readonly addr: string }
  | { readonly proto: 'tcp'; readonly host: string; readonly port: number; readonly addr: string; readonly loopback: boolean };

export interface RuntimeConfig {
  readonly path: string;
  readonly runtimeArgs: readonly string[];
}

export interface Ulimit {
  readonly name: string;
  readonly soft: number;
  readonly hard: number;
}

export interface LogOpts {
  /** max-size in bytes (json-file rotates at it); undefined: unbounded */
  readonly maxSize?: number;
  /** files kept, 1..100 (default 1) */
  readonly maxFile?: number;
  /** every option as given (compress, labels, env, tag, ...) */
  readonly raw: Readonly<Record<string, string>>;
}

export interface TlsConfig {
  /** serve TLS on tcp listeners */
  readonly enabled: boolean;
  /** require and verify client certificates against `caCert` */
  readonly verify: boolean;
  readonly caCert?: string;
  readonly cert?: string;
  readonly key?: string;
}

export interface DaemonConfig {
  /** what `berthd <argv>` asks for: run, or print `daemonUsage()` or the version and exit 0 */
  readonly action: 'run' | 'help' | 'version';
  readonly listeners: readonly Listener[];
  readonly hosts: readonly string[];
  readonly dataRoot: string;
  readonly execRoot: string;
  readonly pidfile: string;
  /** the daemon.json read (undefined: the default file was absent) */
  readonly configFile?: string;
  readonly insecureRegistries: readonly string[];
  readonly registryMirrors: readonly string[];
  readonly defaultRuntime: string;
  /** runtimes added with --add-runtime or `runtimes` (berth, built in, is not listed) */
  readonly runtimes: Readonly<Record<string, RuntimeConfig>>;
  readonly logLevel: LogLevel;
  readonly debug: boolean;
  readonly liveRestore: boolean;
  readonly logDriver: 'json-file' | 'none';
  readonly logOpts: LogOpts;
  readonly tls: TlsConfig;
  /** the unix sockets' group */
  readonly group: string;
  readonly defaultUlimits: Readonly<Record<string, Ulimit>>;
  /** a profile file, `unconfined`, or undefined for the built-in profile */
  readonly seccompProfile?: string;
  readonly storageDriver: 'overlayfs' | 'native';
  readonly initPath?: string;
  /** things the daemon should log at start (insecure listeners, ignored directives) */
  readonly warnings: readonly string[];
}

/** The host facts the configuration depends on (the real one reads the filesystem; tests pass a fake). */
export interface ConfigHost {
  /** the file's text, or undefined if it does not exist */
  readFile(path: string): string | undefined;
  fileExists(path: string): boolean;
  groupExists(name: string): boolean;
}
