/**
 * Parsers for the directives' values, with dockerd's wording where it has one: hosts, registry
 * hosts and mirrors, runtimes, ulimits, log options and byte sizes. Pure.
 */

import { isIP } from 'node:net';
import { invalid } from '../../common/errors.js';
import { ULIMIT_NAMES } from '../spec/create-config.js';
import { DEFAULTS } from './directives.js';
import type { Listener, LogOpts, RuntimeConfig, Ulimit } from './types.js';

const isLoopback = (host: string) =>
  host === 'localhost' || host === '::1' || (isIP(host) === 4 && host.startsWith('127.')) || host === '0:0:0:0:0:0:0:1';

/**
 * dockerd's `-H` forms: `unix://[path]`, `tcp://[host][:port]`, bare `host:port` (tcp).
 * Empty parts take the defaults (the default socket; 127.0.0.1, port 2375, 2376 with TLS).
 */
export function parseHost(addr: string, tls: boolean): Listener {
  const raw = addr.trim();
  if (raw === '') return parseHost(DEFAULTS.host, tls);
  const cut = raw.indexOf('://');
  const proto = cut < 0 ? 'tcp' : raw.slice(0, cut);
  const rest = cut < 0 ? raw : raw.slice(cut + 3);
  if (proto === 'unix') {
    const path = rest === '' ? DEFAULTS.host.slice('unix://'.length) : rest;
    if (!path.startsWith('/')) throw invalid(`invalid bind address (${raw}): unix socket path must be absolute`);
    if (path.includes('\0')) throw invalid(`invalid bind address (${raw}): NUL in path`);
    // sun_path holds 108 bytes with the terminating NUL; bind(2) would fail later, less clearly
    if (Buffer.byteLength(path) > 107) throw invalid(`invalid bind address (${raw}): unix socket path longer than 107 bytes`);
    return { proto: 'unix', path, addr: `unix://${path}` };
  }
  if (proto === 'fd') {
    throw invalid(`invalid bind address (${raw}): fd:// (systemd socket activation) is not supported by berthd; use unix:// or tcp://`);
  }
  if (proto !== 'tcp') throw invalid(`Invalid bind address format: ${raw}`);
  // [v6]:port, host:port, :port, host
  let host: string;
  let portText: string;
  const slash = rest.indexOf('/');
  if (slash >= 0 && rest.slice(slash) !== '/') throw invalid(`invalid bind address (${raw}): should not contain a path element`);
  const hp = slash >= 0 ? rest.slice(0, slash) : rest;
  const v6 = /^\[([^\]]*)\](?::(.*))?$/.exec(hp);
  if (v6) {
    host = v6[1]!;
    portText = v6[2] ?? '';
  } else {
    const colon = hp.lastIndexOf(':');
    if (colon >= 0 && hp.indexOf(':') !== colon) throw invalid(`invalid bind address (${raw}): IPv6 addresses must be in brackets`);
    host = colon < 0 ? hp : hp.slice(0, colon);
    portText = colon < 0 ? '' : hp.slice(colon + 1);
  }
  if (host === '') host = '127.0.0.1';
  if (host !== 'localhost' && isIP(host) === 0 && !/^[a-zA-Z0-9]([a-zA-Z0-9.-]*[a-zA-Z0-9])?$/.test(host)) {
    throw invalid(`invalid bind address (${raw}): invalid host '${host}'`);
  }
  const port = portText === '' ? (tls ? 2376 : 2375) : Number(portText);
  if (!/^[0-9]*$/.test(portText) || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw invalid(`invalid bind address (${raw}): invalid port '${portText}'`);
  }
  const shown = isIP(host) === 6 ? `[${host}]` : host;
  return { proto: 'tcp', host, port, addr: `tcp://${shown}:${port}`, loopback: isLoopback(host) };
}

/** An insecure registry: `host[:port]` or a CIDR (`10.0.0.0/8`, `fd00::/8`); no scheme. Returns the normalized form. */
export function parseInsecureRegistry(v: string): string {
  const s = v.trim();
  if (s.includes('://')) throw invalid(`insecure registry ${s} should not contain '://'`);
  const slash = s.indexOf('/');
  if (slash >= 0) {
    const ip = s.slice(0, slash);
    const bits = s.slice(slash + 1);
    const family = isIP(ip);
    const max = family === 4 ? 32 : 128;
    if (family === 0 || !/^[0-9]{1,3}$/.test(bits) || Number(bits) > max) throw invalid(`insecure registry ${s} is not a valid CIDR`);
    return s;
  }
  if (!/^(\[[0-9a-fA-F:.]+\]|[a-zA-Z0-9]([a-zA-Z0-9._-]*[a-zA-Z0-9])?)(:[0-9]{1,5})?$/.test(s)) {
    throw invalid(`insecure registry ${s} is not a valid host or CIDR`);
  }
  return s;
}

/** A mirror: an http(s) URL with no path, query or fragment (dockerd's ValidateMirror), normalized with a trailing slash. */
export function parseMirror(v: string): string {
  let u: URL;
  try {
    u = new URL(v.trim());
  } catch {
    throw invalid(`invalid mirror: "${v}" is not a valid URI`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw invalid(`invalid mirror: unsupported scheme "${u.protocol.slice(0, -1)}" in "${v}"`);
  }
  if ((u.pathname !== '/' && u.pathname !== '') || u.search || u.hash) {
    throw invalid(`invalid mirror: path, query, or fragment at end of the URI "${v}"`);
  }
  if (u.username || u.password) throw invalid(`invalid mirror: credentials in the URI "${v}"`);
  return `${u.protocol}//${u.host}/`;
}

/** `--add-runtime name=path`. */
export function parseRuntimeFlag(v: string): [string, RuntimeConfig] {
  const eq = v.indexOf('=');
  const name = v.slice(0, eq).trim();
  const path = v.slice(eq + 1).trim();
  if (eq < 0 || name === '' || path === '') throw invalid(`invalid runtime argument: ${v}`);
  return [name, { path, runtimeArgs: [] }];
}

export const ULIMITS: ReadonlySet<string> = new Set(ULIMIT_NAMES);

function ulimitNumber(text: string, whole: string): number {
  if (!/^-?[0-9]+$/.test(text)) throw invalid(`invalid ulimit argument: ${whole}`);
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < -1) throw invalid(`invalid ulimit argument: ${whole}`);
  return n;
}

export function checkUlimit(u: Ulimit): Ulimit {
  if (!ULIMITS.has(u.name)) throw invalid(`invalid ulimit type: ${u.name}`);
  // -1 is unlimited; it compares as the largest value
  const big = (n: number) => (n === -1 ? Number.POSITIVE_INFINITY : n);
  if (big(u.soft) > big(u.hard)) throw invalid(`ulimit soft limit must be less than or equal to hard limit: ${u.soft} > ${u.hard}`);
  return u;
}

/** `--default-ulimit name=soft[:hard]` (docker's units.ParseUlimit). */
export function parseUlimitFlag(v: string): Ulimit {
  const eq = v.indexOf('=');
  if (eq < 0) throw invalid(`invalid ulimit argument: ${v}`);
  const name = v.slice(0, eq);
  const [s, h, extra] = v.slice(eq + 1).split(':');
  if (extra !== undefined || s === undefined)
    throw invalid(`too many limit value arguments - ${v.slice(eq + 1)}, can only have up to two, \`soft[:hard]\``);
  const soft = ulimitNumber(s, v);
  const hard = h === undefined ? soft : ulimitNumber(h, v);
  if (!ULIMITS.has(name)) throw invalid(`invalid ulimit type: ${name}`);
  return checkUlimit({ name, soft, hard });
}

const UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, kb: 1024, m: 1024 ** 2, mb: 1024 ** 2, g: 1024 ** 3, gb: 1024 ** 3 };

/** A size like `10m`, `512k`, `1g`, `100` (bytes) — binary units, as json-file's max-size (go-units RAMInBytes). */
export function parseSize(v: string): number {
  const m = /^([0-9]+(?:\.[0-9]+)?)\s*([a-zA-Z]*)$/.exec(v.trim());
  const unit = m ? UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) throw invalid(`invalid size: '${v}'`);
  const n = Math.floor(Number(m[1]) * unit);
  if (!Number.isSafeInteger(n)) throw invalid(`invalid size: '${v}'`);
  return n;
}

/** json-file's options (the ones dockerd's json-file accepts). */
const JSON_FILE_OPTS = new Set(['max-size', 'max-file', 'compress', 'labels', 'labels-regex', 'env', 'env-regex', 'tag']);

export function parseLogOpts(driver: 'json-file' | 'none', raw: Record<string, string>): LogOpts {
  const keys = Object.keys(raw);
  if (driver === 'none') {
    if (keys.length > 0) throw invalid(`log-opts are not supported by the none log driver: ${keys.sort().join(', ')}`);
    return { raw };
  }
  for (const k of keys) if (!JSON_FILE_OPTS.has(k)) throw invalid(`unknown log opt '${k}' for json-file log driver`);
  let maxSize: number | undefined;
  let maxFile: number | undefined;
  if (raw['max-size'] !== undefined && raw['max-size'] !== '-1') {
    maxSize = parseSize(raw['max-size']);
    if (maxSize <= 0) throw invalid(`max-size must be a positive number: ${raw['max-size']}`);
  }
  if (raw['max-file'] !== undefined) {
    const t = raw['max-file'];
    maxFile = /^[0-9]{1,3}$/.test(t) ? Number(t) : Number.NaN;
    if (!(maxFile >= 1 && maxFile <= 100)) throw invalid(`max-file must be an integer from 1 to 100: ${t}`);
    if (maxFile > 1 && maxSize === undefined) throw invalid('max-file cannot be greater than 1 when max-size is not set');
  }
  if (raw.compress !== undefined && !['true', 'false', '1', '0'].includes(raw.compress)) {
    throw invalid(`error reading compress log option: invalid syntax: ${raw.compress}`);
  }
  return { ...(maxSize === undefined ? {} : { maxSize }), ...(maxFile === undefined ? {} : { maxFile }), raw };
}

/** `--log-opt k=v`. */
export function parseKeyValue(v: string, what: string): [string, string] {
  const eq = v.indexOf('=');
  if (eq <= 0) throw invalid(`invalid key value pair format in ${what}: ${v}`);
  return [v.slice(0, eq), v.slice(eq + 1)];
}
