/**
 * Container creation, the pure part: the create body (create-config.ts), the merge with the
 * image's config (merge.ts), the user (user.ts), capabilities (caps.ts), Docker's default
 * seccomp profile (seccomp-default.ts) and the OCI spec dockerd would hand its runtime
 * (oci-spec.ts), -v/--mount/--tmpfs mount points (binds.ts). The engine performs the effects around it (ids, files, rootfs, devices).
 */
export { bindMount, type MountPoint, mountPoints, parseBind, parseMount, specMounts } from './binds.js';
export { ALL_CAPABILITIES, DEFAULT_CAPABILITIES, knownCapabilities, normalizeCapability, tweakCapabilities } from './caps.js';
export {
  type CreateConfig,
  type CreateRequest,
  decodeCreateBody,
  type HostConfig,
  type HostFacts,
  MIN_MEMORY,
  validateCreate,
} from './create-config.js';
export { cleanPath, containerEnv, DEFAULT_PATH, type MergeInput, mergeConfig, processOf, replaceOrAppendEnv } from './merge.js';
export {
  blkioDevicePaths,
  buildSpec,
  DEFAULT_MASKED_PATHS,
  DEFAULT_READONLY_PATHS,
  DEFAULT_SHM_SIZE,
  defaultDeviceRules,
  defaultMounts,
  type HostDevice,
  mergeTmpfsOptions,
  parseDeviceCgroupRule,
  parseSecurityOpt,
  type SpecInput,
  tmpfsMounts,
} from './oci-spec.js';
export { DOCKER_SECCOMP_PROFILE_VERSION, dockerDefaultSeccompProfile } from './seccomp-default.js';
export { parseGroup, parsePasswd, type ResolvedUser, resolveUser } from './user.js';
