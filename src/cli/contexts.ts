/**
 * Where `berth` connects: `-H`, `--context`, DOCKER_HOST, DOCKER_CONTEXT, config.json's
 * currentContext, and the docker CLI's context store (<config>/contexts/meta/<sha256(name)>/
 * meta.json, TLS files in <config>/contexts/tls/<sha256(name)>/docker/), read the way the docker
 * CLI reads them so `docker context create x --docker host=…` is honoured by berth too.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { normalizeHost, resolveTls, type TlsOptions } from '../client/host.js';
import { CliError } from './types.js';

export { DEFAULT_HOST as BERTH_SOCKET, defaultHost } from '../client/host.js';

import { defaultHost } from '../client/host.js';

export function configDirOf(env: NodeJS.ProcessEnv, flag?: string): string {
  return flag || env.DOCKER_CONFIG || join(env.HOME || homedir(), '.docker');
}

/** What to connect to, and how it was chosen. */
export interface Target {
  /** The context's name (`default` when DOCKER_HOST or -H decide). */
  context: string;
  host: string;
  tls?: TlsOptions;
  /** DOCKER_API_VERSION, if set: no negotiation. */
  apiVersion?: string;
  /** The host is Berth's default socket (berthd may be started on demand). */
  isDefault: boolean;
}

export interface ContextMeta {
  Name: string;
  Metadata?: { Description?: string; [k: string]: unknown };
  Endpoints: { docker?: { Host?: string; SkipTLSVerify?: boolean }; [k: string]: unknown };
}

export const contextDirName = (name: string) => createHash('sha256').update(name).digest('hex');

export interface ConfigFile {
  currentContext?: string;
  [k: string]: unknown;
}

/** Reads config.json; one that cannot be parsed counts as empty (configWarning says why), as in the docker CLI. */
export function readConfigFile(configDir: string): ConfigFile {
  return loadConfig(configDir).config;
}

/** docker's `WARNING: Error parsing config file (…): …`, when config.json is not a JSON object. */
export function configWarning(configDir: string): string | undefined {
  return loadConfig(configDir).warning;
}

function loadConfig(configDir: string): { config: ConfigFile; warning?: string } {
  const file = join(configDir, 'config.json');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return { config: {} };
  }
  if (text.trim() === '') return { config: {} };
  try {
    const v = JSON.parse(text) as unknown;
    if (v && typeof v === 'object' && !Array.isArray(v)) return { config: v as ConfigFile };
    return { config: {}, warning: `WARNING: Error parsing config file (${file}): not a JSON object` };
  } catch (err) {
    return { config: {}, warning: `WARNING: Error parsing config file (${file}): ${(err as Error).message}` };
  }
}

/** Sets config.json's currentContext, keeping every other key (atomic rename, the file's mode kept at 0600). */
export function writeCurrentContext(configDir: string, name: string): void {
  const { config: cfg, warning } = loadConfig(configDir);
  // never replace a file we could not read with one that has lost its content
  if (warning) throw new CliError(warning.replace(/^WARNING: /, ''));
  if (name === 'default' || name === '') delete cfg.currentContext;
  else cfg.currentContext = name;
  mkdirSync(configDir, { recursive: true, mode: 0o700 });
  const file = join(configDir, 'config.json');
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(cfg, null, '\t')}\n`, { mode: 0o600 });
  renameSync(tmp, file);
}

export function readContext(configDir: string, name: string): ContextMeta {
  const file = join(configDir, 'contexts', 'meta', contextDirName(name), 'meta.json');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'ENOENT' ? `open ${file}: no such file or directory` : e.message;
    throw new CliError(`context "${name}": context not found: ${why}`);
  }
  try {
    return JSON.parse(text) as ContextMeta;
  } catch (err) {
    throw new CliError(`context "${name}": invalid meta.json: ${(err as Error).message}`);
  }
}

/** Every stored context (the `default` one is not stored). */
export function listContexts(configDir: string): ContextMeta[] {
  const dir = join(configDir, 'contexts', 'meta');
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const out: ContextMeta[] = [];
  for (const d of names) {
    try {
      const meta = JSON.parse(readFileSync(join(dir, d, 'meta.json'), 'utf8')) as ContextMeta;
      if (typeof meta.Name === 'string') out.push(meta);
    } catch {}
  }
  return out.sort((a, b) => (a.Name < b.Name ? -1 : 1));
}

export function contextTls(configDir: string, name: string, skipVerify: boolean): TlsOptions | undefined {
  const dir = join(configDir, 'contexts', 'tls', contextDirName(name), 'docker');
  const f = (n: string) => (existsSync(join(dir, n)) ? join(dir, n) : undefined);
  const tls = { ca: f('ca.pem'), cert: f('cert.pem'), key: f('key.pem'), verify: !skipVerify };
  return tls.ca || tls.cert || tls.key ? tls : undefined;
}

export interface GlobalOptions {
  hosts: string[];
  context?: string;
  config?: string;
  tls?: boolean;
  tlsverify?: boolean;
  tlscacert?: string;
  tlscert?: string;
  tlskey?: string;
}

/** The context name in force: --context, DOCKER_CONTEXT, `default` under DOCKER_HOST / -H, config.json's, `default`. */
export function currentContextName(opts: Pick<GlobalOptions, 'hosts' | 'context'>, env: NodeJS.ProcessEnv, configDir: string): string {
  if (opts.context) return opts.context;
  if (opts.hosts.length > 0) return 'default';
  if (env.DOCKER_HOST) return 'default';
  if (env.DOCKER_CONTEXT) return env.DOCKER_CONTEXT;
  return readConfigFile(configDir).currentContext || 'default';
}

export function resolveTarget(opts: GlobalOptions, env: NodeJS.ProcessEnv, configDir: string): Target {
  if (opts.hosts.length > 1) throw new CliError('Specify only one -H');
  if (opts.hosts.length > 0 && opts.context) throw new CliError('conflicting options: either specify --host or --context, not both');
  const apiVersion = env.DOCKER_API_VERSION || undefined;
  const name = currentContextName(opts, env, configDir);
  let host: string;
  let tls: TlsOptions | undefined;
  try {
    if (name === 'default') {
      // DOCKER_CERT_PATH defaults to the config directory, as in the docker CLI
      tls = resolveTls(opts, { ...env, DOCKER_CERT_PATH: env.DOCKER_CERT_PATH || configDir });
      host = normalizeHost(opts.hosts[0] ?? env.DOCKER_HOST, { tls: tls !== undefined, env });
    } else {
      const ep = readContext(configDir, name).Endpoints?.docker;
      tls = contextTls(configDir, name, ep?.SkipTLSVerify === true);
      host = normalizeHost(ep?.Host, { env });
    }
  } catch (err) {
    throw new CliError(`Failed to initialize: unable to resolve docker endpoint: ${(err as Error).message}`);
  }
  return { context: name, host, tls, apiVersion, isDefault: host === defaultHost(env) };
}
