/**
 * berthd's configuration: dockerd's flags and daemon.json, merged as dockerd merges them.
 *
 *   const cfg = loadDaemonConfig(process.argv.slice(2));
 *   if (cfg.action === 'help') process.stdout.write(daemonUsage());
 *   for (const w of cfg.warnings) log.warn(w);
 *
 * Errors are BerthError('invalid-argument') with dockerd's wording; berthd prints the message
 * (and, for flag errors, "See 'berthd --help'.") and exits 1.
 */
import { readFileSync, statSync } from 'node:fs';
import { errnoCode, fromErrno, invalid } from '../../common/errors.js';
import { DEFAULTS, usage } from './directives.js';
import { parseFlags } from './flags.js';
import { checkConflicts, type Directives, flagDirectives, parseDaemonJson, resolveConfig } from './resolve.js';
import type { ConfigHost, DaemonConfig } from './types.js';

export { DEFAULTS, DIRECTIVES } from './directives.js';
export { parseFlags } from './flags.js';
export { type ClaimedPidfile, claimPidfile, type Pidfile, readPidfile, writePidfile } from './pidfile.js';
export { parseDaemonJson } from './resolve.js';
export type * from './types.js';
export { parseHost, parseSize } from './values.js';

export const daemonUsage = usage;

/** The machine as the configuration sees it. */
export const systemHost: ConfigHost = {
  readFile(path) {
    try {
      return readFileSync(path, 'utf8');
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return undefined;
      throw fromErrno('read configuration file', path, err);
    }
  },
  fileExists(path) {
    try {
      return statSync(path).isFile();
    } catch {
      return false;
    }
  },
  groupExists(name) {
    try {
      return readFileSync('/etc/group', 'utf8')
        .split('\n')
        .some((l) => l.split(':')[0] === name);
    } catch {
      return false;
    }
  },
};

const placeholder = (action: 'help' | 'version', host: ConfigHost): DaemonConfig => ({ ...resolveConfig({}, host), action });

/** The command line alone (no daemon.json), validated, defaults applied. */
export function parseDaemonArgs(argv: readonly string[], host: ConfigHost = systemHost): DaemonConfig {
  const flags = parseFlags(argv);
  if (flags.help) return placeholder('help', host);
  if (flags.version) return placeholder('version', host);
  return resolveConfig(flagDirectives(flags), host);
}

/**
 * The command line merged with daemon.json (`--config-file`, default /etc/berth/daemon.json: a
 * missing default file is an empty configuration, a missing explicit one an error).
 */
export function loadDaemonConfig(argv: readonly string[], host: ConfigHost = systemHost): DaemonConfig {
  const flags = parseFlags(argv);
  if (flags.help) return placeholder('help', host);
  if (flags.version) return placeholder('version', host);
  const file = flags.configFile ?? DEFAULTS.configFile;
  const text = host.readFile(file);
  if (text === undefined && flags.configFile !== undefined) {
    throw invalid(`unable to configure the Berth daemon with file ${file}: open ${file}: no such file or directory`);
  }
  let fileDirectives: Directives = {};
  const warnings: string[] = [];
  if (text !== undefined) {
    fileDirectives = parseDaemonJson(text, file);
    warnings.push(...checkConflicts(flags, fileDirectives));
  }
  const merged = { ...fileDirectives, ...flagDirectives(flags) };
  const cfg = resolveConfig(merged, host, text === undefined ? undefined : file);
  return { ...cfg, warnings: [...warnings, ...cfg.warnings] };
}
