/**
 * The credentials the CLI sends to the daemon for one registry (pull, push, pull-on-run): read
 * from config.json or its credential helper as the docker CLI does, and encoded as the
 * `X-Registry-Auth` header (base64url of the AuthConfig JSON; `e30=` — `{}` — when there are
 * none). The daemon never reads config.json itself.
 */
import { DOCKER_HUB_KEY, dockerConfigCredentials } from '../distribution/credentials.js';
import { DOCKER_HUB } from '../distribution/reference.js';
import type { AuthConfig } from '../distribution/types.js';
import type { CliContext } from './types.js';

/** The `auths` key a registry host is looked up under (and reported as `serveraddress`). */
export function serverAddressFor(host: string): string {
  return host === DOCKER_HUB ? DOCKER_HUB_KEY : host;
}

/** X-Registry-Auth for `auth` at `serverAddress`: Go's field order, empty fields left out. */
export function encodeRegistryAuth(auth: AuthConfig | undefined, serverAddress?: string): string {
  const j: Record<string, string> = {};
  if (auth?.username) j.username = auth.username;
  if (auth?.password) j.password = auth.password;
  if (auth && serverAddress) j.serveraddress = serverAddress;
  if (auth?.identityToken) j.identitytoken = auth.identityToken;
  if (auth?.registryToken) j.registrytoken = auth.registryToken;
  return Buffer.from(JSON.stringify(j))
    .toString('base64url')
    .padEnd(Math.ceil(Buffer.byteLength(JSON.stringify(j)) / 3) * 4, '=');
}

/**
 * The header for a registry host (`docker.io`, `localhost:5000`). A credential helper that
 * fails means anonymous, as in the docker CLI (it ignores that error).
 */
export async function registryAuthHeader(ctx: Pick<CliContext, 'configDir' | 'env'>, host: string): Promise<string> {
  let auth: AuthConfig | undefined;
  try {
    auth = await dockerConfigCredentials({ configDir: ctx.configDir, env: ctx.env }).get(host);
  } catch {
    auth = undefined;
  }
  return encodeRegistryAuth(auth, serverAddressFor(host));
}
