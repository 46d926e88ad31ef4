/**
 * Volumes: the store of named and anonymous `local` volumes (store.ts), their options
 * (options.ts), API shapes and filters (shapes.ts), and the volume side of container creation
 * (mounts.ts: resolve at create, attach/detach at start/stop, copy-up from the image).
 */
export { type CopyUpResult, copyUp } from './copy-up.js';
export { type HostMounts, kernelMounts } from './host-mounts.js';
export {
  attachVolumes,
  detachVolumes,
  type InspectMount,
  inspectMounts,
  ociMounts,
  type PreparedMounts,
  prepareVolumeMounts,
  type ResolveInput,
  type RootfsView,
  removeAnonymousVolumes,
  resolveVolumeMounts,
  type VolumeMount,
} from './mounts.js';
export { ANONYMOUS_LABEL, anonymousName, checkVolumeName, isAnonymous, LOCAL_DRIVER } from './names.js';
export { type LocalMount, parseLocalOptions } from './options.js';
export { VOLUMES_MIGRATION } from './schema.js';
export { type ApiVolume, listFilter, pruneFilter, rfc3339, toApiVolume, type Volume } from './shapes.js';
export { type CreateVolume, type VolumeSource, VolumeStore, type VolumeStoreOptions } from './store.js';
