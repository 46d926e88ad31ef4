/**
 * The registry client's public surface: references, the Resolver over HTTP(S), credentials,
 * platform selection. See types.ts for the roles and registry.ts for how a request goes.
 */
export { type Challenge, formatChallenge, parseWwwAuthenticate, pullScope, pushScope, pushScopes, TokenCache } from './auth.js';
export {
  authFromEntry,
  authFromRegistryAuthHeader,
  DOCKER_HUB_KEY,
  type DockerConfigOptions,
  dockerConfigCredentials,
  dockerConfigDir,
  parseDockerConfig,
  runCredentialHelper,
  staticCredentials,
} from './credentials.js';
export { type RegistryErrorInfo, registryErrorInfo } from './errors.js';
export { formatPlatform, hostPlatform, isAttestation, normalizePlatform, parsePlatform, selectManifest } from './platform.js';
export {
  DEFAULT_TAG,
  DOCKER_HUB,
  familiar,
  familiarName,
  formatReference,
  manifestReference,
  normalizeReference,
  parseReference,
  repositoryName,
} from './reference.js';
export {
  type ClientOptions,
  createResolver,
  DOCKER_HUB_API,
  isLoopbackHost,
  type LoginResult,
  MANIFEST_ACCEPT,
  MANIFEST_LIMIT,
  RegistryClient,
  verifying,
} from './registry.js';
export type * from './types.js';
