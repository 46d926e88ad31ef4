/**
 * Credentials from Docker's `config.json`, as the Docker CLI finds them (images.md §7,
 * engine-api.md §D): `credHelpers[host]`, else `credsStore`, else the plaintext `auths` entry.
 * Helpers are `docker-credential-<name>` programs speaking JSON on stdin/stdout.
 *
 * The caller passes the directory ($DOCKER_CONFIG or ~/.docker) and the environment the helpers
 * run in (its PATH is searched): library code reads no process-global state.
 */
import { spawn } from 'node:child_process';
import {
  accessSync,
  chmodSync,
  chownSync,
  closeSync,
  constants,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  realpathSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { basename, delimiter, dirname, join } from 'node:path';
import { BerthError, errnoCode, fromErrno } from '../common/errors.js';
import { DOCKER_HUB } from './reference.js';
import type { AuthConfig, CredentialSource } from './types.js';

/** Docker Hub's key in config.json and the server URL its helpers are asked about. */
export const DOCKER_HUB_KEY = 'https://index.docker.io/v1/';
/** Every name Docker Hub credentials may be stored under (tools on docker/cli's config package map them all). */
const HUB_ALIASES = [
  DOCKER_HUB_KEY,
  DOCKER_HUB,
  'index.docker.io',
  'registry-1.docker.io',
  'https://index.docker.io/v1',
  'https://registry-1.docker.io',
];

/** The helper's answer when it has nothing for the server: no credentials, not an error. */
export const NOT_FOUND_TEXT = 'credentials not found in native keychain';

export interface AuthEntry {
  auth?: string;
  username?: string;
  password?: string;
  identitytoken?: string;
  registrytoken?: string;
}

export interface DockerConfigFile {
  auths?: Record<string, AuthEntry>;
  credsStore?: string;
  credHelpers?: Record<string, string>;
}

export type Env = Record<string, string | undefined>;

/** `$DOCKER_CONFIG`, else `<home>/.docker` (the caller reads its own environment). */
export function dockerConfigDir(env: Env, home: string): string {
  return env.DOCKER_CONFIG || join(home, '.docker');
}

/** Parses config.json text; only the credential keys are looked at, the rest is kept by whoever writes it. */
export function parseDockerConfig(text: string, object = 'config.json'): DockerConfigFile {
  let j: unknown;
  try {
    j = JSON.parse(text);
  } catch (err) {
    throw new BerthError('invalid-argument', `read '${object}': not valid JSON: ${(err as Error).message}`, { object, cause: err });
  }
  if (j === null || typeof j !== 'object' || Array.isArray(j))
    throw new BerthError('invalid-argument', `read '${object}': not a JSON object`, { object });
  const o = j as Record<string, unknown>;
  const out: DockerConfigFile = {};
  if (o.auths && typeof o.auths === 'object') {
    out.auths = {};
    for (const [k, v] of Object.entries(o.auths as Record<string, unknown>)) {
      if (v && typeof v === 'object') Object.defineProperty(out.auths, k, { value: v as AuthEntry, enumerable: true });
    }
  }
  if (typeof o.credsStore === 'string' && o.credsStore) out.credsStore = o.credsStore;
  if (o.credHelpers && typeof o.credHelpers === 'object') {
    out.credHelpers = {};
    for (const [k, v] of Object.entries(o.credHelpers as Record<string, unknown>)) {
      if (typeof v === 'string' && v) Object.defineProperty(out.credHelpers, k, { value: v, enumerable: true });
    }
  }
  return out;
}

/** An `auths` entry as credentials: `auth` is standard base64 of `user:password`. */
export function authFromEntry(entry: AuthEntry, object = 'auths'): AuthConfig | undefined {
  const out: AuthConfig = {};
  if (typeof entry.auth === 'string' && entry.auth) {
    const text = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = text.indexOf(':');
    if (colon < 0)
      throw new BerthError('invalid-argument', `read credentials for '${object}': 'auth' is not base64 of user:password`, { object });
    out.username = text.slice(0, colon);
    out.password = text.slice(colon + 1);
  } else {
    if (typeof entry.username === 'string' && entry.username) out.username = entry.username;
    if (typeof entry.password === 'string' && entry.password) out.password = entry.password;
  }
  if (typeof entry.identitytoken === 'string' && entry.identitytoken) {
    out.identityToken = entry.identitytoken;
    // the CLI clears the password once it holds an identity token
    delete out.password;
  }
  if (typeof entry.registrytoken === 'string' && entry.registrytoken) out.registryToken = entry.registrytoken;
  return Object.keys(out).length ? out : undefined;
}

/** docker/cli's ConvertToHostname: `https://index.docker.io/v1/` → `index.docker.io`. */
export function keyHostname(key: string): string {
  return key.replace(/^https?:\/\//, '').split('/')[0]!;
}

/** The keys a registry host may be stored under, best first. */
export function keysFor(host: string): string[] {
  if (host === DOCKER_HUB || HUB_ALIASES.includes(host)) return HUB_ALIASES;
  return [host, `https://${host}`, `http://${host}`];
}

/** The server URL a helper is asked about: Hub's legacy URL, else the host. */
export function serverUrlFor(host: string): string {
  return keysFor(host)[0] === DOCKER_HUB_KEY ? DOCKER_HUB_KEY : host;
}

/** Which helper serves `host`, if any (credHelpers, then credsStore). */
export function helperFor(config: DockerConfigFile, host: string): string | undefined {
  for (const k of keysFor(host)) {
    const h = config.credHelpers && Object.hasOwn(config.credHelpers, k) ? config.credHelpers[k] : undefined;
    if (h) return h;
  }
  return config.credsStore;
}

/** The plaintext `auths` entry for `host`: an exact key first, then any key naming the same host. */
export function entryFor(config: DockerConfigFile, host: string): AuthEntry | undefined {
  const auths = config.auths ?? {};
  const keys = keysFor(host);
  for (const k of keys) if (Object.hasOwn(auths, k)) return auths[k];
  const names = new Set(keys.map(keyHostname));
  for (const [k, v] of Object.entries(auths)) if (names.has(keyHostname(k))) return v;
  return undefined;
}

function onPath(name: string, env: Env): string | undefined {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    try {
      accessSync(join(dir, name), constants.X_OK);
      return join(dir, name);
    } catch {
      /* next */
    }
  }
  return undefined;
}

/**
 * Runs `docker-credential-<helper> <action>` with `input` on stdin: its stdout, or undefined for
 * "credentials not found in native keychain". Errors follow the CLI's text.
 */
export function runCredentialHelper(
  helper: string,
  action: 'get' | 'list' | 'store' | 'erase',
  input: string,
  env: Env,
): Promise<string | undefined> {
  const program = `docker-credential-${helper}`;
  if (!/^[A-Za-z0-9._-]+$/.test(helper)) {
    return Promise.reject(new BerthError('invalid-argument', `credential helper '${helper}': not a valid helper name`, { object: helper }));
  }
  return new Promise((resolve, reject) => {
    const child = spawn(program, [action], { env: env as NodeJS.ProcessEnv, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.stdin.on('error', () => {
      /* a helper that exits without reading: its exit status tells */
    });
    child.on('error', (e) => {
      clearTimeout(timer);
      if (errnoCode(e) === 'ENOENT') {
        reject(
          new BerthError('failed-precondition', `exec: "${program}": executable file not found in $PATH`, { object: program, cause: e }),
        );
      } else reject(fromErrno('exec', program, e));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const text = Buffer.concat(out).toString('utf8').trim();
      if (code === 0) return resolve(text);
      if (text === NOT_FOUND_TEXT) return resolve(undefined);
      const status = signal ? `signal: ${signal}` : `exit status ${code}`;
      const shown = text || Buffer.concat(err).toString('utf8').trim();
      reject(new BerthError('unavailable', `error getting credentials - err: ${status}, out: \`${shown}\``, { object: program }));
    });
    child.stdin.end(input);
  });
}

/** A helper's `get` answer as credentials; Username `<token>` marks an identity token. */
export function authFromHelper(text: string, program: string): AuthConfig | undefined {
  let j: { Username?: unknown; Secret?: unknown };
  try {
    j = JSON.parse(text);
  } catch (err) {
    throw new BerthError('invalid-argument', `credential helper '${program}': answer is not JSON`, { object: program, cause: err });
  }
  const user = typeof j?.Username === 'string' ? j.Username : '';
  const secret = typeof j?.Secret === 'string' ? j.Secret : '';
  if (!secret && !user) return undefined;
  if (user === '<token>') return { identityToken: secret };
  return { username: user, password: secret };
}

/** The helper that holds `host`'s credentials: credHelpers, credsStore, else the CLI's default store (only for a config that names no store and holds no auths). */
function storeFor(config: DockerConfigFile, host: string, env: Env): string | undefined {
  const helper = helperFor(config, host);
  if (helper || config.credHelpers || config.auths) return helper;
  if (onPath('pass', env) && onPath('docker-credential-pass', env)) return 'pass';
  if (onPath('docker-credential-secretservice', env)) return 'secretservice';
  return undefined;
}

export interface DockerConfigOptions {
  /** the directory holding config.json: `$DOCKER_CONFIG`, else `~/.docker` (see dockerConfigDir) */
  configDir: string;
  /** the environment helpers run in; its PATH is where they are found */
  env: Env;
}

/**
 * The Docker CLI's credential lookup, read afresh on every call (a `docker login` in between is
 * seen). A missing config.json means no credentials.
 */
export function dockerConfigCredentials(opts: DockerConfigOptions): CredentialSource {
  const path = join(opts.configDir, 'config.json');
  return {
    async get(host: string): Promise<AuthConfig | undefined> {
      let text: string;
      try {
        text = readFileSync(path, 'utf8');
      } catch (err) {
        if (errnoCode(err) === 'ENOENT') return undefined;
        throw fromErrno('read', path, err);
      }
      const config = parseDockerConfig(text, path);
      const helper = storeFor(config, host, opts.env);
      if (helper) {
        const answer = await runCredentialHelper(helper, 'get', serverUrlFor(host), opts.env);
        return answer === undefined ? undefined : authFromHelper(answer, `docker-credential-${helper}`);
      }
      const entry = entryFor(config, host);
      return entry ? authFromEntry(entry, host) : undefined;
    },
  };
}

/** Fixed credentials (the engine's X-Registry-Auth for one request), for every host or one. */
export function staticCredentials(auth: AuthConfig | undefined, onlyHost?: string): CredentialSource {
  return { get: async (host) => (onlyHost === undefined || onlyHost === host ? auth : undefined) };
}

/**
 * Docker's `X-Registry-Auth` header (base64url JSON: username, password, serveraddress,
 * identitytoken, registrytoken; the CLI may send standard base64 too) as credentials for the
 * one server it names. An empty or `{}` header means anonymous.
 */
export function authFromRegistryAuthHeader(value: string | undefined): { auth?: AuthConfig; serverAddress?: string } {
  if (!value || !value.trim()) return {};
  let j: Record<string, unknown>;
  try {
    j = JSON.parse(Buffer.from(value.trim().replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8'));
  } catch (err) {
    throw new BerthError('invalid-argument', 'decode X-Registry-Auth: not base64 of a JSON object', { cause: err });
  }
  if (j === null || typeof j !== 'object' || Array.isArray(j))
    throw new BerthError('invalid-argument', 'decode X-Registry-Auth: not a JSON object');
  const str = (k: string) => (typeof j[k] === 'string' && j[k] ? (j[k] as string) : undefined);
  const auth: AuthConfig = {};
  const username = str('username');
  const password = str('password');
  if (username) auth.username = username;
  if (password) auth.password = password;
  if (!username && str('auth')) Object.assign(auth, authFromEntry({ auth: str('auth') }, 'X-Registry-Auth'));
  const identityToken = str('identitytoken');
  if (identityToken) auth.identityToken = identityToken;
  const registryToken = str('registrytoken');
  if (registryToken) auth.registryToken = registryToken;
  const serverAddress = str('serveraddress');
  const out: { auth?: AuthConfig; serverAddress?: string } = {};
  if (Object.keys(auth).length) out.auth = auth;
  if (serverAddress) out.serverAddress = serverAddress;
  return out;
}

/** The whole config.json as an object (every key kept for the rewrite); `{}` when there is none. */
function readConfigObject(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return {};
    throw fromErrno('read', path, err);
  }
  if (!text.trim()) return {};
  parseDockerConfig(text, path); // the same checks as a read
  return JSON.parse(text) as Record<string, unknown>;
}

/**
 * Writes config.json as the CLI does: tab-indented, HTML characters escaped as Go's encoder
 * does, through a temp file renamed over the target (a symlink's target), keeping an existing
 * file's mode and owner; a new file is 0600.
 */
function writeConfigObject(path: string, obj: Record<string, unknown>): void {
  let target = path;
  try {
    target = realpathSync(path);
  } catch {
    /* a new file */
  }
  const text = JSON.stringify(obj, null, '\t').replace(/[<>&]/g, (c) => `\\u00${c.charCodeAt(0).toString(16)}`);
  // a first login creates the config directory, private, as the CLI does
  mkdirSync(dirname(target), { recursive: true, mode: 0o700 });
  const tmp = join(dirname(target), `.${basename(target)}.${process.pid}.${Date.now()}.tmp`);
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    unlinkSync(tmp);
    throw fromErrno('write', tmp, err);
  }
  closeSync(fd);
  try {
    const st = statSync(target);
    chmodSync(tmp, st.mode & 0o7777);
    chownSync(tmp, st.uid, st.gid);
  } catch {
    /* no previous file: 0600 stays */
  }
  try {
    renameSync(tmp, target);
  } catch (err) {
    unlinkSync(tmp);
    throw fromErrno('rename', target, err);
  }
}

/** The key `docker login` stores a server under: Hub's legacy URL, else the bare host (ConvertToHostname). */
export function loginKey(serverAddress: string): string {
  const host = keyHostname(serverAddress);
  return keysFor(host)[0] === DOCKER_HUB_KEY ? DOCKER_HUB_KEY : host;
}

export interface StoredCredentials {
  /** config.json's path (named in the CLI's "stored unencrypted" warning) */
  path: string;
  /** the helper that holds the secret, or undefined: in config.json as base64 */
  helper?: string;
  /** false when config.json already held exactly these credentials (nothing was written) */
  changed: boolean;
}

/**
 * `docker login`'s store: the secret goes to the server's credential helper (credHelpers, then
 * credsStore; config.json then keeps an empty `auths` entry, as the CLI does), or into config.json
 * as `auth` = base64(user:password) plus `identitytoken`. Every other key of the file is kept.
 */
export async function storeCredentials(opts: DockerConfigOptions, serverAddress: string, auth: AuthConfig): Promise<StoredCredentials> {
  const path = join(opts.configDir, 'config.json');
  const key = loginKey(serverAddress);
  const obj = readConfigObject(path);
  const helper = storeFor(parseDockerConfig(JSON.stringify(obj), path), keyHostname(key), opts.env);
  const auths = obj.auths && typeof obj.auths === 'object' && !Array.isArray(obj.auths) ? (obj.auths as Record<string, unknown>) : {};
  let entry: AuthEntry = {};
  if (helper) {
    const input = auth.identityToken
      ? { ServerURL: key, Username: '<token>', Secret: auth.identityToken }
      : { ServerURL: key, Username: auth.username ?? '', Secret: auth.password ?? '' };
    await runCredentialHelper(helper, 'store', JSON.stringify(input), opts.env).catch((err: unknown) => {
      throw new BerthError(
        'unavailable',
        `Error saving credentials: ${(err as Error).message.replace('error getting credentials', 'error storing credentials')}`,
        { object: key, cause: err },
      );
    });
  } else {
    // The CLI clears the password once the registry gave an identity token.
    const password = auth.identityToken ? '' : (auth.password ?? '');
    entry = { auth: Buffer.from(`${auth.username ?? ''}:${password}`).toString('base64') };
    if (auth.identityToken) entry.identitytoken = auth.identityToken;
  }
  const before = Object.hasOwn(auths, key) ? auths[key] : undefined;
  if (!helper && JSON.stringify(before) === JSON.stringify(entry)) {
    // unchanged: the file is left as it is (the CLI skips the write too)
    return { path, changed: false };
  }
  Object.defineProperty(auths, key, { value: entry, enumerable: true, configurable: true, writable: true });
  obj.auths = auths;
  if (helper && !obj.credsStore && !(obj.credHelpers && typeof obj.credHelpers === 'object')) obj.credsStore = helper;
  writeConfigObject(path, obj);
  return helper ? { path, helper, changed: true } : { path, changed: true };
}

/**
 * `docker logout`'s erase of one key: from its helper (when one serves it) and from `auths`.
 * Nothing stored is not an error.
 */
export async function eraseCredentials(opts: DockerConfigOptions, key: string): Promise<void> {
  const path = join(opts.configDir, 'config.json');
  const obj = readConfigObject(path);
  const helper = helperFor(parseDockerConfig(JSON.stringify(obj), path), keyHostname(key));
  if (helper) await runCredentialHelper(helper, 'erase', key, opts.env);
  const auths = obj.auths;
  if (auths && typeof auths === 'object' && Object.hasOwn(auths, key)) {
    delete (auths as Record<string, unknown>)[key];
    writeConfigObject(path, obj);
  }
}
