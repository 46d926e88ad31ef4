/**
 * What this runtime supports, in the runtime-spec's features document format
 * (runtime-spec features.md; `runc features` prints the same structure). Pure.
 */
import { HOOK_NAMES, NAMESPACE_TYPES, OCI_VERSION } from '../oci/spec.js';
import { CAPABILITIES } from './plan/capabilities.js';
import { KNOWN_MOUNT_OPTIONS } from './plan/mount-options.js';
import { SCMP_ARCHES } from './seccomp/arch.js';
import { SECCOMP_ACTIONS, SECCOMP_FLAGS, SECCOMP_OPERATORS } from './seccomp/compile.js';

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

/** Seccomp's part: what src/runtime/seccomp compiles (notify is not among the actions). */
export function seccompFeatures(): SeccompFeatures {
  return {
    enabled: true,
    actions: [...SECCOMP_ACTIONS],
    operators: [...SECCOMP_OPERATORS],
    archs: Object.entries(SCMP_ARCHES)
      .filter(([, abi]) => abi !== undefined)
      .map(([name]) => name)
      .sort(),
    knownFlags: [...SECCOMP_FLAGS],
    // WAIT_KILLABLE_RECV is accepted but only means something with a notify listener.
    supportedFlags: SECCOMP_FLAGS.filter((f) => f !== 'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'),
  };
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
