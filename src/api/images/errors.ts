/**
 * Pull failures in dockerd's words (distribution/errors.go translatePullError and the Go
 * client's dial errors), because the CLIs print them as they are: an unknown tag is a 404
 * `manifest for <ref> not found: manifest unknown: …`, a refused connection a 500
 * `Get "http://host/v2/": dial tcp 127.0.0.1:5999: connect: connection refused`. Pure.
 */
import { BerthError } from '../../common/errors.js';
import { registryErrorText } from '../../distribution/auth.js';
import { registryErrorInfo } from '../../distribution/errors.js';
import { familiar, familiarName } from '../../distribution/reference.js';
import { isLoopbackHost } from '../../distribution/registry.js';
import type { Reference } from '../../distribution/types.js';

function findErrno(err: unknown, depth = 0): NodeJS.ErrnoException | undefined {
  if (depth > 8 || err === null || typeof err !== 'object') return undefined;
  const e = err as NodeJS.ErrnoException & { errors?: unknown[]; address?: string; port?: number };
  if (typeof e.code === 'string' && e.address !== undefined) return e;
  for (const inner of e.errors ?? []) {
    const found = findErrno(inner, depth + 1);
    if (found) return found;
  }
  if (typeof e.code === 'string' && /^E[A-Z]+$/.test(e.code) && e.syscall) return e;
  return findErrno(e.cause, depth + 1);
}

const DIAL_TEXT: Record<string, string> = {
  ECONNREFUSED: 'connect: connection refused',
  EHOSTUNREACH: 'connect: no route to host',
  ENETUNREACH: 'connect: network is unreachable',
  ETIMEDOUT: 'i/o timeout',
  ECONNRESET: 'read: connection reset by peer',
};

const STATUS_CODES: Record<number, string> = { 401: 'UNAUTHORIZED', 403: 'DENIED', 404: 'MANIFEST_UNKNOWN' };
const DEFAULT_MESSAGES: Record<string, string> = {
  MANIFEST_UNKNOWN: 'manifest unknown',
  UNAUTHORIZED: 'authentication required',
  DENIED: 'requested access to the resource is denied',
};

/** The error a pull failure is answered with: dockerd's text and status where it has one. */
export function pullError(err: unknown, ref: Reference): BerthError {
  const info = registryErrorInfo(err);
  if (info) {
    // a HEAD answer has no body: dockerd's client then words it from the status
    const code = info.code ?? STATUS_CODES[info.status];
    const text = registryErrorText(code, info.message ?? (code ? DEFAULT_MESSAGES[code] : undefined));
    if (code === 'MANIFEST_UNKNOWN') {
      return new BerthError('not-found', `manifest for ${familiar(ref)} not found: ${text}`, { object: familiar(ref), cause: err });
    }
    if (code === 'NAME_UNKNOWN') {
      return new BerthError('not-found', `repository ${familiarName(ref)} not found: ${text}`, { object: familiar(ref), cause: err });
    }
    if (code === 'DENIED' || code === 'UNAUTHORIZED') {
      return new BerthError(
        'not-found',
        `pull access denied for ${familiarName(ref)}, repository does not exist or may require 'docker login': ${text}`,
        { object: familiar(ref), cause: err },
      );
    }
  }
  const errno = findErrno(err);
  if (errno?.code === 'ENOTFOUND' || errno?.code === 'EAI_AGAIN') {
    const host = ref.domain === 'docker.io' ? 'registry-1.docker.io' : ref.domain;
    const scheme = isLoopbackHost(host) ? 'http' : 'https';
    const name = (errno as { hostname?: string }).hostname ?? host;
    return new BerthError('internal', `Get "${scheme}://${host}/v2/": dial tcp: lookup ${name}: no such host`, {
      object: host,
      cause: err,
    });
  }
  const dial = errno?.code ? DIAL_TEXT[errno.code] : undefined;
  if (errno && dial) {
    const e = errno as NodeJS.ErrnoException & { address?: string; port?: number };
    const host = ref.domain === 'docker.io' ? 'registry-1.docker.io' : ref.domain;
    const scheme = isLoopbackHost(host) ? 'http' : 'https';
    const addr = e.address === undefined ? host : `${e.address.includes(':') ? `[${e.address}]` : e.address}:${e.port ?? ''}`;
    return new BerthError('internal', `Get "${scheme}://${host}/v2/": dial tcp ${addr}: ${dial}`, { object: host, cause: err });
  }
  // dockerd's platform miss, without our verb-and-object prefixes
  const msg = String((err as Error)?.message ?? err);
  const at = msg.indexOf('no matching manifest for ');
  if (at >= 0) return new BerthError('not-found', msg.slice(at), { object: familiar(ref), cause: err });
  if (err instanceof BerthError) return err;
  return new BerthError('internal', String((err as Error)?.message ?? err), { cause: err });
}
