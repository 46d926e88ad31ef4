/**
 * From the command line and daemon.json to one DaemonConfig, as dockerd merges them: a key in
 * the file that no directive names is an error, a directive given both as a flag and in the file
 * is an error, otherwise the two are unioned and validated together. Pure (host facts come in
 * through a ConfigHost).
 */
import { BerthError, invalid } from '../../common/errors.js';
import { DEFAULTS, DIRECTIVES, directiveByKey, IGNORED_DOCKERD_KEYS } from './directives.js';
import { goValue, type ParsedFlags } from './flags.js';
import { JsonSyntaxError, parseJson } from './json.js';
import type { ConfigHost, DaemonConfig, Listener, LogLevel, RuntimeConfig, Ulimit } from './types.js';
import {
  checkUlimit,
  parseHost,
  parseInsecureRegistry,
  parseKeyValue,
  parseLogOpts,
  parseMirror,
  parseRuntimeFlag,
  parseUlimitFlag,
} from './values.js';

/** Directive values in daemon.json's shapes, by key. */
export type Directives = Record<string, unknown>;

const fileError = (file: string, why: string) => invalid(`unable to configure the Berth daemon with file ${file}: ${why}`);

/**
 * daemon.json's text as directives: JSON with a position on error, an object at the top, each
 * known key of the right type. Unknown keys are left for the conflict check to name.
 */
export function parseDaemonJson(text: string, file: string): Directives {
  // dockerd accepts a UTF-8 byte order mark (Notepad writes one); an empty file is an empty config
  const body = text.replace(/^\uFEFF/, '');
  if (body.trim() === '') return {};
  let v: unknown;
  try {
    v = parseJson(body);
  } catch (err) {
    if (err instanceof JsonSyntaxError) throw fileError(file, `invalid JSON: ${err.message}`);
    throw err;
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw fileError(file, 'the configuration must be a JSON object');
  const out = v as Directives;
  for (const [k, x] of Object.entries(out)) {
    const d = directiveByKey.get(k);
    if (!d) continue;
    const ok =
      d.fileType === 'string'
        ? typeof x === 'string'
        : d.fileType === 'boolean'
          ? typeof x === 'boolean'
          : d.fileType === 'string[]'
            ? Array.isArray(x) && x.every((e) => typeof e === 'string')
            : x !== null && typeof x === 'object' && !Array.isArray(x);
    if (!ok) {
      const want = d.fileType === 'string[]' ? 'an array of strings' : d.fileType === 'object' ? 'an object' : `a ${d.fileType}`;
      throw fileError(file, `"${k}" must be ${want}, not ${JSON.stringify(x)}`);
    }
  }
  return out;
}

/**
 * dockerd's findConfigurationConflicts: unknown keys first (all named), then directives given
 * both ways (all named, with both values as Go prints them). Returns warnings for dockerd keys
 * Berth ignores.
 */
export function checkConflicts(flags: ParsedFlags, file: Directives): string[] {
  const unknown = Object.keys(file)
    .filter((k) => !directiveByKey.has(k) && !IGNORED_DOCKERD_KEYS.has(k))
    .sort();
  if (unknown.length > 0) throw invalid(`the following directives don't match any configuration option: ${unknown.join(', ')}`);
  const conflicts: string[] = [];
  for (const d of DIRECTIVES) {
    const fv = flags.values.get(d.key);
    if (fv !== undefined && Object.hasOwn(file, d.key)) {
      conflicts.push(`${d.key}: (from flag: ${goValue(fv)}, from file: ${goValue(file[d.key])})`);
    }
  }
  if (conflicts.length > 0) {
    throw invalid(`the following directives are specified both as a flag and in the configuration file: ${conflicts.join(', ')}`);
  }
  return Object.keys(file)
    .filter((k) => IGNORED_DOCKERD_KEYS.has(k))
    .sort()
    .map((k) => `daemon.json: "${k}" is a dockerd option that berthd does not implement; ignored`);
}

/** The flags' values in daemon.json's shapes (`--add-runtime a=/p` → `runtimes: {a: {path: '/p'}}`). */
export function flagDirectives(flags: ParsedFlags): Directives {
  const out: Directives = {};
  for (const [key, v] of flags.values) {
    if (key === 'runtimes') {
      const rt: Record<string, RuntimeConfig> = {};
      for (const s of v as string[]) {
        const [name, r] = parseRuntimeFlag(s);
        if (Object.hasOwn(rt, name)) throw invalid(`runtime name '${name}' already registered`);
        rt[name] = r;
      }
      out[key] = rt;
    } else if (key === 'log-opts') {
      out[key] = Object.fromEntries((v as string[]).map((s) => parseKeyValue(s, 'log-opt')));
    } else if (key === 'default-ulimits') {
      const u: Record<string, { Name: string; Soft: number; Hard: number }> = {};
      for (const s of v as string[]) {
        const x = parseUlimitFlag(s);
        u[x.name] = { Name: x.name, Soft: x.soft, Hard: x.hard };
      }
      out[key] = u;
    } else {
      out[key] = v;
    }
  }
  return out;
}

const LOG_LEVELS = new Set<LogLevel>(['debug', 'info', 'warn', 'error', 'fatal']);

function runtimesOf(v: unknown): Record<string, RuntimeConfig> {
  const out: Record<string, RuntimeConfig> = {};
  for (const [name, r] of Object.entries((v ?? {}) as Record<string, unknown>)) {
    if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(name)) throw invalid(`invalid runtime name: ${JSON.stringify(name)}`);
    if (name === DEFAULTS.defaultRuntime) throw invalid(`runtime name '${name}' is reserved`);
    const o = r as { path?: unknown; runtimeArgs?: unknown } | null;
    if (o === null || typeof o !== 'object' || typeof o.path !== 'string' || o.path === '') {
      throw invalid(`runtime '${name}': "path" must be a non-empty string`);
    }
    const args = o.runtimeArgs ?? [];
    if (!Array.isArray(args) || !args.every((a) => typeof a === 'string'))
      throw invalid(`runtime '${name}': "runtimeArgs" must be an array of strings`);
    for (const k of Object.keys(o)) if (k !== 'path' && k !== 'runtimeArgs') throw invalid(`runtime '${name}': unknown field "${k}"`);
    out[name] = { path: o.path, runtimeArgs: args };
  }
  return out;
}

function ulimitsOf(v: unknown): Record<string, Ulimit> {
  const out: Record<string, Ulimit> = {};
  for (const [name, u] of Object.entries((v ?? {}) as Record<string, unknown>)) {
    const o = u as { Name?: unknown; Soft?: unknown; Hard?: unknown } | null;
    if (o === null || typeof o !== 'object' || !Number.isSafeInteger(o.Soft) || !Number.isSafeInteger(o.Hard)) {
      throw invalid(`default-ulimits '${name}': want {"Name": "${name}", "Soft": <int>, "Hard": <int>}`);
    }
    if (o.Name !== undefined && o.Name !== name)
      throw invalid(`default-ulimits '${name}': Name "${String(o.Name)}" does not match its key`);
    out[name] = checkUlimit({ name, soft: o.Soft as number, hard: o.Hard as number });
  }
  return out;
}

function storageDriverOf(v: string): 'overlayfs' | 'native' {
  if (v === 'overlay2' || v === 'overlayfs' || v === 'overlay') return 'overlayfs';
  if (v === 'vfs' || v === 'native') return 'native';
  throw invalid(`unsupported storage driver: ${v} (berthd has overlayfs (alias overlay2) and native (alias vfs))`);
}

const str = (d: Directives, k: string): string | undefined => d[k] as string | undefined;

/**
 * Validates the merged directives and applies the defaults. `host` answers the questions that
 * need the machine (does the socket group exist, do the TLS files exist).
 */
export function resolveConfig(d: Directives, host: Pick<ConfigHost, 'fileExists' | 'groupExists'>, configFile?: string): DaemonConfig {
  const warnings: string[] = [];
  const debug = (d.debug as boolean | undefined) ?? false;
  const levelText = str(d, 'log-level');
  if (levelText !== undefined && !LOG_LEVELS.has(levelText.toLowerCase() as LogLevel)) throw invalid(`invalid logging level: ${levelText}`);
  // dockerd: --debug raises the level to debug unless a level was given
  const logLevel = (levelText?.toLowerCase() as LogLevel | undefined) ?? (debug ? 'debug' : DEFAULTS.logLevel);

  const tlsVerify = (d.tlsverify as boolean | undefined) ?? false;
  const tlsExplicit = d.tls as boolean | undefined;
  const tlsOn = tlsVerify || (tlsExplicit ?? false);
  const caCert = str(d, 'tlscacert');
  const cert = str(d, 'tlscert');
  const key = str(d, 'tlskey');
  if (tlsVerify) {
    const missing = (
      [
        ['--tlscacert', caCert],
        ['--tlscert', cert],
        ['--tlskey', key],
      ] as const
    )
      .filter(([, v]) => !v)
      .map(([f]) => f);
    if (missing.length > 0) throw invalid(`--tlsverify requires ${missing.join(', ')}`);
  } else if (tlsOn && (!cert || !key)) {
    throw invalid('--tls requires --tlscert and --tlskey');
  }
  if (tlsOn) {
    for (const [what, p] of [
      ['CA certificate', tlsVerify ? caCert : undefined],
      ['TLS certificate', cert],
      ['TLS key', key],
    ] as const) {
      if (p !== undefined && !host.fileExists(p)) throw invalid(`could not read ${what} "${p}": no such file or directory`);
    }
  }

  const hostList = (d.hosts as string[] | undefined) ?? [];
  const listeners: Listener[] = [];
  for (const h of hostList.length === 0 ? [DEFAULTS.host] : hostList) {
    const l = parseHost(h, tlsOn);
    if (listeners.some((x) => x.addr === l.addr)) continue;
    listeners.push(l);
    if (l.proto === 'unix' || tlsVerify) continue;
    if (tlsOn) {
      warnings.push(
        `API is accessible on https://${l.addr.slice(6)} without client authentication (--tlsverify): anyone who can reach it has root on this host`,
      );
    } else if (l.loopback) {
      warnings.push(
        `API is accessible on http://${l.addr.slice(6)} without encryption: any local user can reach it, and it is equivalent to root on this host`,
      );
    } else if (tlsExplicit === false) {
      // as dockerd 27: an unauthenticated remote listener only when TLS is turned off explicitly
      warnings.push(
        `API is accessible on http://${l.addr.slice(6)} without encryption or authentication (--tls=false): anyone who can reach it has root on this host`,
      );
    } else {
      throw new BerthError(
        'invalid-argument',
        `API is accessible on http://${l.addr.slice(6)} without encryption: refusing to listen. Use --tlsverify with --tlscacert, --tlscert and --tlskey, listen on a loopback address, or pass --tls=false to accept unauthenticated remote root access`,
      );
    }
  }

  const logDriverText = str(d, 'log-driver') ?? DEFAULTS.logDriver;
  if (logDriverText !== 'json-file' && logDriverText !== 'none') {
    throw invalid(`log driver '${logDriverText}' is not supported by berthd (json-file, none)`);
  }
  const rawOpts = (d['log-opts'] ?? {}) as Record<string, unknown>;
  for (const [k, v] of Object.entries(rawOpts)) if (typeof v !== 'string') throw invalid(`log-opts: "${k}" must be a string`);
  const logOpts = parseLogOpts(logDriverText, rawOpts as Record<string, string>);

  const runtimes = runtimesOf(d.runtimes);
  const defaultRuntime = str(d, 'default-runtime') ?? DEFAULTS.defaultRuntime;
  if (defaultRuntime !== DEFAULTS.defaultRuntime && !Object.hasOwn(runtimes, defaultRuntime)) {
    throw invalid(`specified default runtime '${defaultRuntime}' does not exist`);
  }

  const seccomp = str(d, 'seccomp-profile');
  if (seccomp !== undefined && seccomp !== 'unconfined' && seccomp !== 'builtin' && !host.fileExists(seccomp)) {
    throw invalid(`opening seccomp profile (${seccomp}) failed: no such file or directory`);
  }
  const initPath = str(d, 'init-path');

  const abs = (k: string, dflt: string): string => {
    const v = str(d, k) ?? dflt;
    if (!v.startsWith('/')) throw invalid(`${k} must be an absolute path: ${v}`);
    return v.replace(/(.)\/+$/, '$1');
  };
  const group = str(d, 'group') ?? (host.groupExists('docker') ? 'docker' : 'berth');

  return {
    action: 'run',
    listeners,
    hosts: listeners.map((l) => l.addr),
    dataRoot: abs('data-root', DEFAULTS.dataRoot),
    execRoot: abs('exec-root', DEFAULTS.execRoot),
    pidfile: abs('pidfile', DEFAULTS.pidfile),
    ...(configFile === undefined ? {} : { configFile }),
    insecureRegistries: ((d['insecure-registries'] as string[] | undefined) ?? []).map(parseInsecureRegistry),
    registryMirrors: ((d['registry-mirrors'] as string[] | undefined) ?? []).map(parseMirror),
    defaultRuntime,
    runtimes,
    logLevel,
    debug,
    liveRestore: (d['live-restore'] as boolean | undefined) ?? DEFAULTS.liveRestore,
    logDriver: logDriverText,
    logOpts,
    tls: {
      enabled: tlsOn,
      verify: tlsVerify,
      ...(caCert === undefined ? {} : { caCert }),
      ...(cert === undefined ? {} : { cert }),
      ...(key === undefined ? {} : { key }),
    },
    group,
    defaultUlimits: ulimitsOf(d['default-ulimits']),
    ...(seccomp === undefined || seccomp === 'builtin' ? {} : { seccompProfile: seccomp }),
    storageDriver: storageDriverOf(str(d, 'storage-driver') ?? DEFAULTS.storageDriver),
    ...(initPath === undefined ? {} : { initPath }),
    warnings,
  };
}
