/**
 * Where the client connects: `-H`/`DOCKER_HOST` parsed as the docker CLI parses them
 * (docker/cli opts/hosts.go ParseHost), and the TLS settings of `--tls`, `--tlsverify`,
 * `DOCKER_TLS_VERIFY` and `DOCKER_CERT_PATH` (docker/cli cli/flags/options.go). Pure: files are
 * only named here; client.ts reads them.
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { BerthError } from '../common/errors.js';

/** berthd's socket. Tests point the default elsewhere with BERTH_DEFAULT_HOST. */
export const DEFAULT_HOST = 'unix:///run/berth/berth.sock';
const DEFAULT_TCP_HOST = 'localhost';
const DEFAULT_TCP_PORT = '2375';
const DEFAULT_TLS_PORT = '2376';

export function defaultHost(env: NodeJS.ProcessEnv = process.env): string {
  return env.BERTH_DEFAULT_HOST || DEFAULT_HOST;
}

export type Endpoint =
  | { proto: 'unix'; path: string; host: string }
  /** `basePath` is a path after host:port (`tcp://h:2375/prefix`), prefixed to every request. */
  | { proto: 'tcp'; hostname: string; port: number; basePath: string; host: string };

const invalidAddr = (addr: string) => new BerthError('invalid-argument', `invalid bind address format: ${addr}`, { object: addr });

/**
 * Normalises a host as the docker CLI does: `''` → the default (TLS: tcp://localhost:2376),
 * `foo` → `tcp://foo:2375`, `unix://` → the default socket path, `tcp://:p` → localhost.
 * ssh://, npipe:// and fd:// are refused (berth speaks to a unix socket or tcp only).
 */
export function normalizeHost(raw: string | undefined, o: { tls?: boolean; env?: NodeJS.ProcessEnv } = {}): string {
  const val = (raw ?? '').trim();
  if (val === '') return o.tls ? `tcp://${DEFAULT_TCP_HOST}:${DEFAULT_TLS_PORT}` : defaultHost(o.env);
  const sep = val.indexOf('://');
  const [proto, rest] = sep < 0 ? ['tcp', val] : [val.slice(0, sep), val.slice(sep + 3)];
  switch (proto) {
    case 'tcp':
      return normalizeTcp(rest, val);
    case 'unix': {
      if (rest.includes('://')) throw new BerthError('invalid-argument', `invalid proto, expected unix: ${rest}`, { object: val });
      if (rest === '') return defaultUnix(o.env);
      return `unix://${rest}`;
    }
    case 'ssh':
    case 'npipe':
    case 'fd':
      throw new BerthError(
        'invalid-argument',
        `unsupported host ${val}: berth connects to unix:// and tcp:// hosts only (${proto}:// is not supported)`,
        {
          object: val,
        },
      );
    default:
      throw invalidAddr(val);
  }
}

function defaultUnix(env?: NodeJS.ProcessEnv): string {
  const d = defaultHost(env);
  return d.startsWith('unix://') ? d : DEFAULT_HOST;
}

function normalizeTcp(addr: string, original: string): string {
  if (addr === '') return `tcp://${DEFAULT_TCP_HOST}:${DEFAULT_TCP_PORT}`;
  if (addr.includes('://')) throw new BerthError('invalid-argument', `invalid proto, expected tcp: ${addr}`, { object: original });
  const slash = addr.indexOf('/');
  const hostPort = slash < 0 ? addr : addr.slice(0, slash);
  const path = slash < 0 ? '' : addr.slice(slash);
  let host: string;
  let port: string;
  const bracket = /^\[([^\]]*)\](?::(.*))?$/.exec(hostPort);
  if (bracket) {
    host = bracket[1] ?? '';
    port = bracket[2] ?? '';
  } else {
    const colons = hostPort.split(':').length - 1;
    if (colons > 1) throw invalidAddr(original); // an IPv6 address needs brackets
    const i = hostPort.lastIndexOf(':');
    [host, port] = i < 0 ? [hostPort, ''] : [hostPort.slice(0, i), hostPort.slice(i + 1)];
  }
  // Go's url.Parse refuses a non-numeric port with this message, before ParseTCPAddr runs.
  if (port !== '' && !/^[0-9]+$/.test(port)) {
    throw new BerthError('invalid-argument', `parse "tcp://${addr}": invalid port ":${port}" after host`, { object: original });
  }
  if (host === '') host = DEFAULT_TCP_HOST;
  if (port === '') port = DEFAULT_TCP_PORT;
  const n = Number(port);
  if (n > 65535) throw invalidAddr(original);
  const joined = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  return `tcp://${joined}${path}`;
}

/** A normalised host as an endpoint to dial. */
export function parseHost(raw: string | undefined, o: { tls?: boolean; env?: NodeJS.ProcessEnv } = {}): Endpoint {
  const host = normalizeHost(raw, o);
  if (host.startsWith('unix://')) return { proto: 'unix', path: host.slice('unix://'.length), host };
  const rest = host.slice('tcp://'.length);
  const slash = rest.indexOf('/');
  const hostPort = slash < 0 ? rest : rest.slice(0, slash);
  const basePath = slash < 0 ? '' : rest.slice(slash).replace(/\/+$/, '');
  const i = hostPort.lastIndexOf(':');
  const hostname = hostPort.slice(0, i).replace(/^\[(.*)\]$/, '$1');
  return { proto: 'tcp', hostname, port: Number(hostPort.slice(i + 1)), basePath, host };
}

/** TLS as the client uses it: file paths (read at connect) and whether the server is verified. */
export interface TlsOptions {
  /** CA bundle to verify the daemon with (only used when `verify`). */
  ca?: string;
  cert?: string;
  key?: string;
  /** false with `--tls` alone: encrypted, but the daemon's certificate is not checked. */
  verify: boolean;
}

/** The TLS flags as given on the command line; `undefined` means "not given". */
export interface TlsFlags {
  tls?: boolean;
  tlsverify?: boolean;
  tlscacert?: string;
  tlscert?: string;
  tlskey?: string;
}

/**
 * docker/cli's rules: `--tlsverify` defaults to DOCKER_TLS_VERIFY being non-empty, `--tls` to
 * DOCKER_TLS; giving `--tlsverify` at all (even `=false`) turns TLS on; the files default to
 * ca.pem/cert.pem/key.pem in DOCKER_CERT_PATH (default ~/.docker), and a default cert or key
 * that does not exist is dropped (a verified connection without a client certificate).
 * `undefined`: plain TCP.
 */
export function resolveTls(
  flags: TlsFlags,
  env: NodeJS.ProcessEnv = process.env,
  exists: (p: string) => boolean = existsSync,
): TlsOptions | undefined {
  const verify = flags.tlsverify ?? (env.DOCKER_TLS_VERIFY ?? '') !== '';
  const on = flags.tlsverify !== undefined || verify || (flags.tls ?? (env.DOCKER_TLS ?? '') !== '');
  if (!on) return undefined;
  const dir = env.DOCKER_CERT_PATH || join(env.HOME || homedir(), '.docker');
  const ca = flags.tlscacert ?? join(dir, 'ca.pem');
  let cert = flags.tlscert ?? join(dir, 'cert.pem');
  let key = flags.tlskey ?? join(dir, 'key.pem');
  if (flags.tlscert === undefined && !exists(cert)) cert = '';
  if (flags.tlskey === undefined && !exists(key)) key = '';
  const out: TlsOptions = { verify };
  if (verify) out.ca = ca;
  if (cert) out.cert = cert;
  if (key) out.key = key;
  return out;
}
