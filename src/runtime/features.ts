/**
 * What this runtime supports, in the runtime-spec's features document format
 * (runtime-spec features.md; `runc features` prints the same structure). Pure.
 */
import { HOOK_NAMES, NAMESPACE_TYPES, OCI_VERSION } from '../oci/spec.js';
import { CAPABILITIES } from './plan/capabilities.js';
import { KNOWN_MOUNT_OPTIONS } from './plan/mount-options.js';

export interface SeccompFeatures {
  enabled: boolean;
  actions?: string[];
  operators?: string[];
  archs?: string[];
  knownFlags?: string[];
  supportedFlags?: string[];
}

export interface Features {
  ociVersionMin: string;
  ociVersionMax: string;
  hooks: string[];
  mountOptions: string[];
  linux: {
    namespaces: string[];
    capabilities: string[];
    cgroup: { v1: boolean; v2: boolean; systemd: boolean; systemdUser: boolean; rdma: boolean };
    seccomp: SeccompFeatures;
    apparmor: { enabled: boolean };
    selinux: { enabled: boolean };
    intelRdt: { enabled: boolean };
  };
  annotations: Record<string, string>;
}

/**
 * Seccomp's part. PLACEHOLDER for the seccomp work in src/runtime/seccomp/: replace this with
 * its own description (actions, operators, archs, known/supported flags) once it exists.
 */
export function seccompFeatures(): SeccompFeatures {
  return { enabled: false };
}

export function features(version: string, seccomp: SeccompFeatures = seccompFeatures()): Features {
  return {
    ociVersionMin: '1.0.0',
    ociVersionMax: OCI_VERSION,
    hooks: [...HOOK_NAMES],
    mountOptions: [...KNOWN_MOUNT_OPTIONS],
    linux: {
      namespaces: [...NAMESPACE_TYPES].sort(),
      capabilities: [...CAPABILITIES],
      // cgroupfs drivers for v1, v2 and hybrid hosts; no systemd driver
      cgroup: { v1: true, v2: true, systemd: false, systemdUser: false, rdma: true },
      seccomp,
      apparmor: { enabled: false },
      selinux: { enabled: false },
      intelRdt: { enabled: false },
    },
    annotations: { 'io.github.berth.runtime.version': version },
  };
}
