/**
 * berthd's configuration directives: one table giving each its daemon.json key, its dockerd flag
 * name, how the flag is written and its help line. The flag parser, the daemon.json reader, the
 * conflict check and `--help` all read this table, so a directive cannot exist in one and not
 * the others. Pure.
 */

/** How a flag takes its value: a string, a boolean (`--x`, `--x=false`), or a repeatable list. */
export type FlagKind = 'string' | 'bool' | 'list';

export interface Directive {
  /** the daemon.json key (dockerd's "named option" for list flags: `--host` → `hosts`) */
  readonly key: string;
  /** the long flag, without dashes */
  readonly flag: string;
  readonly short?: string;
  readonly kind: FlagKind;
  /** what daemon.json holds under `key` */
  readonly fileType: 'string' | 'boolean' | 'string[]' | 'object';
  /** the value's name in the usage line (`--data-root string`) */
  readonly arg?: string;
  readonly help: string;
}

export const DEFAULTS = {
  host: 'unix:///run/berth/berth.sock',
  dataRoot: '/var/lib/berth',
  execRoot: '/run/berth',
  pidfile: '/run/berth/berthd.pid',
  configFile: '/etc/berth/daemon.json',
  defaultRuntime: 'berth',
  logLevel: 'info',
  logDriver: 'json-file',
  storageDriver: 'overlayfs',
  liveRestore: true,
} as const;

export const DIRECTIVES: readonly Directive[] = [
  {
    key: 'runtimes',
    flag: 'add-runtime',
    kind: 'list',
    fileType: 'object',
    arg: 'runtime',
    help: 'Register an additional OCI compatible runtime (name=path)',
  },
  {
    key: 'data-root',
    flag: 'data-root',
    kind: 'string',
    fileType: 'string',
    arg: 'string',
    help: `Root directory of persistent Berth state (default "${DEFAULTS.dataRoot}")`,
  },
  { key: 'debug', flag: 'debug', short: 'D', kind: 'bool', fileType: 'boolean', help: 'Enable debug mode' },
  {
    key: 'default-runtime',
    flag: 'default-runtime',
    kind: 'string',
    fileType: 'string',
    arg: 'string',
    help: `Default OCI runtime for containers (default "${DEFAULTS.defaultRuntime}")`,
  },
  {
    key: 'default-ulimits',
    flag: 'default-ulimit',
    kind: 'list',
    fileType: 'object',
    arg: 'ulimit',
    help: 'Default ulimits for containers (name=soft[:hard]) (default [])',
  },
  {
    key: 'exec-root',
    flag: 'exec-root',
    kind: 'string',
    fileType: 'string',
    arg: 'string',
    help: `Root directory for execution state files (default "${DEFAULTS.execRoot}")`,
  },
  {
    key: 'group',
    flag: 'group',
    short: 'G',
    kind: 'string',
    fileType: 'string',
    arg: 'string',
    help: 'Group for the unix socket (default "docker" if that group exists, else "berth")',
  },
  {
    key: 'hosts',
    flag: 'host',
    short: 'H',
    kind: 'list',
    fileType: 'string[]',
    arg: 'list',
    help: `Daemon socket(s) to connect to (default ${DEFAULTS.host})`,
  },
  { key: 'init-path', flag: 'init-path', kind: 'string', fileType: 'string', arg: 'string', help: 'Path to the docker-init binary' },
  {
    key: 'insecure-registries',
    flag: 'insecure-registry',
    kind: 'list',
    fileType: 'string[]',
    arg: 'list',
    help: 'Enable insecure registry communication (host[:port] or CIDR)',
  },
  {
    key: 'live-restore',
    flag: 'live-restore',
    kind: 'bool',
    fileType: 'boolean',
    help: 'Keep containers running while the daemon is down (default true in Berth; --live-restore=false to disable)',
  },
  {
    key: 'log-driver',
    flag: 'log-driver',
    kind: 'string',
    fileType: 'string',
    arg: 'string',
    help: 'Default driver for container logs: json-file or none (default "json-file")',
  },
  {
    key: 'log-level',
    flag: 'log-level',
    short: 'l',
    kind: 'string',
    fileType: 'string',
    arg: 'string',
    help: 'Set the logging level ("debug"|"info"|"warn"|"error"|"fatal") (default "info")',
  },
  {
    key: 'log-opts',
    flag: 'log-opt',
    kind: 'list',
    fileType: 'object',
    arg: 'map',
    help: 'Default log driver options for containers (max-size=10m, max-file=3, ...) (default map[])',
  },
  {
    key: 'pidfile',
    flag: 'pidfile',
    short: 'p',
    kind: 'string',
    fileType: 'string',
    arg: 'string',
    help: `Path to use for daemon PID file (default "${DEFAULTS.pidfile}")`,
  },
  { key: 'registry-mirrors', flag: 'registry-mirror', kind: 'list', fileType: 'string[]', arg: 'list', help: 'Preferred registry mirror' },
  {
    key: 'seccomp-profile',
    flag: 'seccomp-profile',
    kind: 'string',
    fileType: 'string',
    arg: 'string',
    help: 'Path to seccomp profile; "unconfined" to turn off the default profile (default "builtin")',
  },
  {
    key: 'storage-driver',
    flag: 'storage-driver',
    short: 's',
    kind: 'string',
    fileType: 'string',
    arg: 'string',
    help: 'Storage driver to use: overlayfs (overlay2) or native (vfs) (default "overlayfs")',
  },
  { key: 'tls', flag: 'tls', kind: 'bool', fileType: 'boolean', help: 'Use TLS; implied by --tlsverify' },
  { key: 'tlscacert', flag: 'tlscacert', kind: 'string', fileType: 'string', arg: 'string', help: 'Trust certs signed only by this CA' },
  { key: 'tlscert', flag: 'tlscert', kind: 'string', fileType: 'string', arg: 'string', help: 'Path to TLS certificate file' },
  { key: 'tlskey', flag: 'tlskey', kind: 'string', fileType: 'string', arg: 'string', help: 'Path to TLS key file' },
  { key: 'tlsverify', flag: 'tlsverify', kind: 'bool', fileType: 'boolean', help: 'Use TLS and verify the remote' },
];

/** Flags that are not directives: they steer the command, not the daemon. */
export const COMMAND_FLAGS: readonly Omit<Directive, 'key' | 'fileType'>[] = [
  { flag: 'config-file', kind: 'string', arg: 'string', help: `Daemon configuration file (default "${DEFAULTS.configFile}")` },
  { flag: 'help', short: 'h', kind: 'bool', help: 'Print usage' },
  { flag: 'version', short: 'v', kind: 'bool', help: 'Print version information and quit' },
];

/**
 * dockerd directives Berth does not implement. A daemon.json written for dockerd may hold them:
 * they are ignored with a warning rather than refused, so the file can be shared; on the
 * command line they are unknown flags, as there is nothing to share.
 */
export const IGNORED_DOCKERD_KEYS: ReadonlySet<string> = new Set([
  'bip',
  'bridge',
  'cgroup-parent',
  'default-address-pools',
  'dns',
  'dns-opts',
  'dns-search',
  'exec-opts',
  'experimental',
  'features',
  'fixed-cidr',
  'icc',
  'ip',
  'ip-forward',
  'ip-masq',
  'iptables',
  'ip6tables',
  'ipv6',
  'labels',
  'log-format',
  'max-concurrent-downloads',
  'max-concurrent-uploads',
  'max-download-attempts',
  'mtu',
  'shutdown-timeout',
  'storage-opts',
  'userland-proxy',
]);

export const directiveByKey = new Map(DIRECTIVES.map((d) => [d.key, d]));

/** The usage text, in dockerd's layout. */
export function usage(): string {
  const rows = [...DIRECTIVES, ...COMMAND_FLAGS]
    .map((d) => ({
      left: `${d.short ? `-${d.short}, ` : '    '}--${d.flag}${d.arg ? ` ${d.arg}` : ''}`,
      help: d.help,
      flag: d.flag,
    }))
    .sort((a, b) => a.flag.localeCompare(b.flag));
  const width = Math.max(...rows.map((r) => r.left.length)) + 3;
  const lines = rows.map((r) => `  ${r.left.padEnd(width)}${r.help}`);
  return `Usage:\tberthd [OPTIONS]\n\nA self-sufficient runtime for containers.\n\nOptions:\n${lines.join('\n')}\n`;
}
