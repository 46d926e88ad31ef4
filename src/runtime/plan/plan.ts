/**
 * The launch plan: everything berth-nsinit needs, as plain data. Computed by pure code from an
 * OCI spec (build.ts), serialized by encode.ts in the format of docs/plan-format.md, executed in C.
 */

/** A serialized mount(2) call, with the destination inside the container's root. */
export interface PlanMount {
  op: 'mount';
  source: string;
  destination: string;
  fstype: string;
  flags: number;
  propagation: number;
  data: string;
}
export interface PlanSymlink {
  op: 'symlink';
  target: string;
  linkpath: string;
}
export interface PlanDevice {
  op: 'device';
  path: string;
  type: 'c' | 'b' | 'p' | 'u';
  major: number;
  minor: number;
  mode: number;
  uid: number;
  gid: number;
  /** Bind the host's node instead of mknod (user namespaces cannot mknod). */
  bind: boolean;
}
/**
 * A mount(2) call onto the rootfs directory itself (the container's root filesystem: an overlay
 * of image layers, say), made by berth-nsinit in the container's new mount namespace before
 * anything else is mounted, so it never exists on the host.
 */
export interface PlanRootfsMount {
  source: string;
  fstype: string;
  flags: number;
  data: string;
  /** Where relative paths in `data` start (overlay lowerdirs compacted to fit a page); '' for none. */
  cwd: string;
}
/** Mount-phase operations, executed in order before pivot_root. */
export type RootfsOp = PlanMount | PlanSymlink | PlanDevice;

export type KernelNamespace = 'user' | 'pid' | 'net' | 'ipc' | 'uts' | 'mount' | 'cgroup' | 'time';

export interface PlanHook {
  stage: 'createContainer' | 'startContainer';
  path: string;
  args: string[];
  env: string[];
  timeout: number;
}

export interface IdMap {
  inside: number;
  outside: number;
  count: number;
}

export interface CapabilityMasks {
  bounding: bigint;
  effective: bigint;
  permitted: bigint;
  inheritable: bigint;
  ambient: bigint;
}

/** A seccomp filter, compiled (src/runtime/seccomp/); loaded just before exec. */
export interface PlanSeccomp {
  /** SECCOMP_FILTER_FLAG_* for seccomp(2). */
  flags: number;
  /** The struct sock_filter array in hex, 8 bytes per instruction, little-endian. */
  program: string;
}

export interface LaunchPlan {
  id: string;
  /** Parent stage waits for the container and exits with its status (foreground run). */
  wait: boolean;
  terminal: boolean;
  consoleSocket?: string;
  /** Host path of the unix socket `start` connects to (create only; docs/plan-format.md). */
  startSocket?: string;
  syncHooks: boolean;
  /**
   * The parent stage waits for the line `cgroups` before it opens the `cgroup.procs` files: the
   * caller makes the cgroups while the helper starts (launchPrepared).
   */
  cgroupsWait?: boolean;
  rootfs: string;
  /** Stacked on `rootfs`, in order, in the container's own mount namespace (needs one: 'mount' in newNamespaces). */
  rootfsMounts?: PlanRootfsMount[];
  rootfsPropagation: number;
  rootPropagationAfter: number;
  noPivot: boolean;
  /**
   * No mount namespace of the container's own (inherited or joined): chroot into the rootfs
   * instead of pivot_root, which would move the root of every process in that namespace. In a
   * joined one the rootfs ops, masked and read-only paths are carried out there first, under a
   * bind of the rootfs onto itself; in an inherited one there are none (buildPlan refuses them).
   */
  chroot?: boolean;
  rootReadonly: boolean;
  hostname?: string;
  domainname?: string;
  /** Name of a new session keyring for the container (absent: keep the caller's). */
  keyring?: string;
  newNamespaces: KernelNamespace[];
  joinNamespaces: { type: KernelNamespace; path: string }[];
  uidMaps: IdMap[];
  gidMaps: IdMap[];
  setgroups?: 'allow' | 'deny';
  /** newuidmap/newgidmap to run instead of writing the map (an unprivileged caller's wider maps: idmap.ts). */
  uidMapTool?: string;
  gidMapTool?: string;
  timeOffsets: { clock: 'monotonic' | 'boottime'; secs: number; nanosecs: number }[];
  cgroupProcs: string[];
  rootfsOps: RootfsOp[];
  masked: string[];
  readonly: string[];
  sysctl: [string, string][];
  oomScoreAdj?: number;
  rlimits: { resource: number; soft: bigint | 'unlimited'; hard: bigint | 'unlimited' }[];
  process: {
    args: string[];
    env: string[];
    cwd: string;
    uid: number;
    gid: number;
    umask?: number;
    groups: number[];
    capabilities?: CapabilityMasks;
    noNewPrivileges: boolean;
  };
  seccomp?: PlanSeccomp;
  preserveFds: number;
  hookState?: string;
  hooks: PlanHook[];
}
