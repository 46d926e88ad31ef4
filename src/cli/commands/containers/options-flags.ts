/**
 * The flags of `docker run` and `docker create`, as the v28 CLI declares them
 * (cli/command/container/opts.go addFlags, run.go, create.go): names, shorts, value names and
 * help texts verbatim from `docker run --help` / `docker create --help`.
 *
 * Kinds: Docker's ListOpts/MapOpts/MountOpt/NetworkOpt/UlimitOpt are repeatable and never split
 * on commas, so they are all `list`. Its custom scalar types (bytes, decimal, duration, uint16)
 * are `string` (or `int`) with the type's name as valueName; their values are checked by
 * options.ts with Docker's messages. Where pflag prints a default that a FlagSpec cannot express
 * (`(default [])`, `(default map[])` of list-typed flags), the text is part of the usage, as
 * Docker itself does for `--health-interval`.
 */
import type { FlagSpec } from '../../types.js';

const list = (name: string, usage: string, extra: Partial<FlagSpec> = {}): FlagSpec => ({
  name,
  kind: 'list',
  valueName: 'list',
  usage,
  ...extra,
});
const str = (name: string, usage: string, extra: Partial<FlagSpec> = {}): FlagSpec => ({
  name,
  kind: 'string',
  usage,
  ...extra,
});
const bytes = (name: string, usage: string, extra: Partial<FlagSpec> = {}): FlagSpec => str(name, usage, { valueName: 'bytes', ...extra });
const int = (name: string, usage: string, extra: Partial<FlagSpec> = {}): FlagSpec => ({
  name,
  kind: 'int',
  usage,
  ...extra,
});
const bool = (name: string, usage: string, extra: Partial<FlagSpec> = {}): FlagSpec => ({
  name,
  kind: 'bool',
  usage,
  ...extra,
});
const duration = (name: string, usage: string): FlagSpec => str(name, usage, { valueName: 'duration' });

/** The flags `run` and `create` share, except `--pull` (its help differs between the two). */
export const containerFlags: FlagSpec[] = [
  list('add-host', 'Add a custom host-to-IP mapping (host:ip)'),
  list('annotation', 'Add an annotation to the container (passed through to the OCI runtime) (default map[])', {
    valueName: 'map',
  }),
  list('attach', 'Attach to STDIN, STDOUT or STDERR', { short: 'a' }),
  int('blkio-weight', 'Block IO (relative weight), between 10 and 1000, or 0 to disable (default 0)', {
    valueName: 'uint16',
  }),
  list('blkio-weight-device', 'Block IO weight (relative device weight) (default [])'),
  list('cap-add', 'Add Linux capabilities'),
  list('cap-drop', 'Drop Linux capabilities'),
  str('cgroup-parent', 'Optional parent cgroup for the container'),
  str(
    'cgroupns',
    `Cgroup namespace to use (host|private)
'host':    Run the container in the Docker host's cgroup namespace
'private': Run the container in its own private cgroup namespace
'':        Use the cgroup namespace as configured by the
           default-cgroupns-mode option on the daemon (default)`,
  ),
  str('cidfile', 'Write the container ID to the file'),
  int('cpu-count', 'CPU count (Windows only)'),
  int('cpu-percent', 'CPU percent (Windows only)'),
  int('cpu-period', 'Limit CPU CFS (Completely Fair Scheduler) period'),
  int('cpu-quota', 'Limit CPU CFS (Completely Fair Scheduler) quota'),
  int('cpu-rt-period', 'Limit CPU real-time period in microseconds'),
  int('cpu-rt-runtime', 'Limit CPU real-time runtime in microseconds'),
  int('cpu-shares', 'CPU shares (relative weight)', { short: 'c' }),
  str('cpus', 'Number of CPUs', { valueName: 'decimal' }),
  str('cpuset-cpus', 'CPUs in which to allow execution (0-3, 0,1)'),
  str('cpuset-mems', 'MEMs in which to allow execution (0-3, 0,1)'),
  list('device', 'Add a host device to the container'),
  list('device-cgroup-rule', 'Add a rule to the cgroup allowed devices list'),
  list('device-read-bps', 'Limit read rate (bytes per second) from a device (default [])'),
  list('device-read-iops', 'Limit read rate (IO per second) from a device (default [])'),
  list('device-write-bps', 'Limit write rate (bytes per second) to a device (default [])'),
  list('device-write-iops', 'Limit write rate (IO per second) to a device (default [])'),
  bool('disable-content-trust', 'Skip image verification', { default: true }),
  list('dns', 'Set custom DNS servers'),
  list('dns-opt', 'Set DNS options', { hidden: true }),
  list('dns-option', 'Set DNS options'),
  list('dns-search', 'Set custom DNS search domains'),
  str('domainname', 'Container NIS domain name'),
  str('entrypoint', 'Overwrite the default ENTRYPOINT of the image'),
  list('env', 'Set environment variables', { short: 'e' }),
  list('env-file', 'Read in a file of environment variables'),
  list('expose', 'Expose a port or a range of ports'),
  list('gpus', "GPU devices to add to the container ('all' to pass all GPUs)", {
    valueName: 'gpu-request',
  }),
  list('group-add', 'Add additional groups to join'),
  str('health-cmd', 'Command to run to check health'),
  duration('health-interval', 'Time between running the check (ms|s|m|h) (default 0s)'),
  int('health-retries', 'Consecutive failures needed to report unhealthy'),
  duration('health-start-interval', 'Time between running the check during the start period (ms|s|m|h) (default 0s)'),
  duration(
    'health-start-period',
    'Start period for the container to initialize before starting health-retries countdown (ms|s|m|h) (default 0s)',
  ),
  duration('health-timeout', 'Maximum time to allow one check to run (ms|s|m|h) (default 0s)'),
  str('hostname', 'Container host name', { short: 'h' }),
  bool('init', 'Run an init inside the container that forwards signals and reaps processes'),
  bool('interactive', 'Keep STDIN open even if not attached', { short: 'i' }),
  bytes('io-maxbandwidth', 'Maximum IO bandwidth limit for the system drive (Windows only)'),
  int('io-maxiops', 'Maximum IOps limit for the system drive (Windows only)', { valueName: 'uint' }),
  str('ip', 'IPv4 address (e.g., 172.30.100.104)'),
  str('ip6', 'IPv6 address (e.g., 2001:db8::33)'),
  str('ipc', 'IPC mode to use'),
  str('isolation', 'Container isolation technology'),
  bytes('kernel-memory', 'Kernel memory limit'),
  list('label', 'Set meta data on a container', { short: 'l' }),
  list('label-file', 'Read in a line delimited file of labels'),
  list('link', 'Add link to another container'),
  list('link-local-ip', 'Container IPv4/IPv6 link-local addresses'),
  str('log-driver', 'Logging driver for the container'),
  list('log-opt', 'Log driver options'),
  str('mac-address', 'Container MAC address (e.g., 92:d0:c6:0a:29:33)'),
  bytes('memory', 'Memory limit', { short: 'm' }),
  bytes('memory-reservation', 'Memory soft limit'),
  bytes('memory-swap', "Swap limit equal to memory plus swap: '-1' to enable unlimited swap"),
  int('memory-swappiness', 'Tune container memory swappiness (0 to 100)', { default: -1 }),
  list('mount', 'Attach a filesystem mount to the container', { valueName: 'mount' }),
  str('name', 'Assign a name to the container'),
  list('net', 'Connect a container to a network', { valueName: 'network', hidden: true }),
  list('net-alias', 'Add network-scoped alias for the container', { hidden: true }),
  list('network', 'Connect a container to a network', { valueName: 'network' }),
  list('network-alias', 'Add network-scoped alias for the container'),
  bool('no-healthcheck', 'Disable any container-specified HEALTHCHECK'),
  bool('oom-kill-disable', 'Disable OOM Killer'),
  int('oom-score-adj', "Tune host's OOM preferences (-1000 to 1000)"),
  str('pid', 'PID namespace to use'),
  int('pids-limit', 'Tune container pids limit (set -1 for unlimited)'),
  str('platform', 'Set platform if server is multi-platform capable'),
  bool('privileged', 'Give extended privileges to this container'),
  list('publish', "Publish a container's port(s) to the host", { short: 'p' }),
  bool('publish-all', 'Publish all exposed ports to random ports', { short: 'P' }),
  bool('quiet', 'Suppress the pull output', { short: 'q' }),
  bool('read-only', "Mount the container's root filesystem as read only"),
  str('restart', 'Restart policy to apply when a container exits', { default: 'no' }),
  bool('rm', 'Automatically remove the container and its associated anonymous volumes when it exits'),
  str('runtime', 'Runtime to use for this container'),
  list('security-opt', 'Security Options'),
  bytes('shm-size', 'Size of /dev/shm'),
  str('stop-signal', 'Signal to stop the container'),
  int('stop-timeout', 'Timeout (in seconds) to stop a container'),
  list('storage-opt', 'Storage driver options for the container'),
  list('sysctl', 'Sysctl options (default map[])', { valueName: 'map' }),
  list('tmpfs', 'Mount a tmpfs directory'),
  bool('tty', 'Allocate a pseudo-TTY', { short: 't' }),
  list('ulimit', 'Ulimit options (default [])', { valueName: 'ulimit' }),
  bool('use-api-socket', 'Bind mount Docker API socket and required auth'),
  str('user', 'Username or UID (format: <name|uid>[:<group|gid>])', { short: 'u' }),
  str('userns', 'User namespace to use'),
  str('uts', 'UTS namespace to use'),
  list('volume', 'Bind mount a volume', { short: 'v' }),
  str('volume-driver', 'Optional volume driver for the container'),
  list('volumes-from', 'Mount volumes from the specified container(s)'),
  str('workdir', 'Working directory inside the container', { short: 'w' }),
];

/** Only `run` has these: detaching and signal proxying concern an attached client. */
export const runOnlyFlags: FlagSpec[] = [
  bool('detach', 'Run container in background and print container ID', { short: 'd' }),
  str('detach-keys', 'Override the key sequence for detaching a container'),
  bool('sig-proxy', 'Proxy received signals to the process', { default: true }),
];

/** `--pull` for run; create's help has Docker's own typo (`"|missing"`), kept verbatim. */
export const runPullFlag: FlagSpec = str('pull', 'Pull image before running ("always", "missing", "never")', { default: 'missing' });
export const createPullFlag: FlagSpec = str('pull', 'Pull image before creating ("always", "|missing", "never")', { default: 'missing' });

/** Every flag of `docker run`. */
export const runFlags: FlagSpec[] = [...containerFlags, runPullFlag, ...runOnlyFlags];
/** Every flag of `docker create`. */
export const createFlags: FlagSpec[] = [...containerFlags, createPullFlag];
