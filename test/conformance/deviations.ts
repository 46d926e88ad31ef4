/**
 * Known deviations of runc (Debian's 1.1.5) from the spec, as this suite
 * checks it. A runc run that fails one of these checks is expected; a runc
 * failure elsewhere, or a pass here, is an unexpected difference and fails the
 * test. Keep README.md's list in sync (a test checks that).
 *
 * BERTH_DEVIATIONS are berth-runtime's deliberate choices: where runc and the spec disagree
 * berth follows the spec, unless containerd or dockerd depend on runc's behaviour; each entry
 * says which. Every other check berth must pass.
 */
export interface Deviation {
  id: string;
  reason: string;
}

export const RUNC_DEVIATIONS: readonly Deviation[] = [
  {
    id: 'runtime/delete-created-error',
    reason: 'runc deletes (kills) a container in the created state instead of refusing; crun does the same',
  },
  {
    id: 'config/process-user-umask-unset',
    reason: "runc sets umask 0022 when process.user.umask is unset instead of keeping the caller's umask",
  },
  {
    id: 'config/process-capabilities-ungrantable',
    reason: 'runc fails the container ("unable to apply caps: operation not permitted") instead of warning and going on',
  },
  {
    id: 'config/process-capabilities-unknown',
    reason:
      'runc 1.1.5 warns ("ignoring unknown or unavailable capabilities") and runs the container instead of refusing an unknown capability name',
  },
  {
    id: 'config/domainname',
    reason: 'runc 1.1.5 ignores the domainname field (the container sees "(none)")',
  },
  {
    id: 'config/hooks-order',
    reason: 'runc 1.1.5 runs the poststart hooks during create, before startContainer, not after the program is executed',
  },
  {
    id: 'config/hooks-poststart-after-exec',
    reason: 'runc 1.1.5 runs the poststart hooks during create, while the container process is still "runc init"',
  },
  {
    id: 'config/hooks-startContainer-failure',
    reason: 'runc runs startContainer hooks in runc init after start has already succeeded: the failure is logged, start exits 0',
  },
  {
    id: 'config/hooks-poststart-failure-continues',
    reason: 'runc treats a failing poststart hook as fatal (and, running poststart at create, fails create)',
  },
  {
    id: 'config/hooks-poststop-failure-continues',
    reason: 'runc stops running poststop hooks at the first one that fails',
  },
  {
    id: 'config-linux/namespaces-time',
    reason: 'runc 1.1.5 does not know the time namespace (added in runc 1.2.0): create fails',
  },
  {
    id: 'config-linux/devices-path-conflict',
    reason: 'runc ignores EEXIST when creating a device node and keeps the existing file',
  },
  {
    id: 'config-linux/rootfs-propagation-shared',
    reason: "runc 1.1.5 leaves the container's / private whatever rootfsPropagation says",
  },
  {
    id: 'config-linux/rootfs-propagation-slave',
    reason: "runc 1.1.5 leaves the container's / private whatever rootfsPropagation says (no master: peer)",
  },
  {
    id: 'config-linux/rootfs-propagation-unbindable',
    reason: "runc 1.1.5 leaves the container's / private whatever rootfsPropagation says",
  },
  {
    id: 'runtime/create-without-process',
    reason: 'runc refuses create without process ("process property must not be empty"); the spec requires process only for start',
  },
  {
    id: 'config-linux/namespaces-inherit-mount',
    reason:
      'without a mount namespace runc 1.1.5 still changes root into the rootfs, where nothing is mounted: "error closing exec fds: open /proc/self/fd: no such file or directory"',
  },
  {
    id: 'config-linux/rootfs-propagation-shared-plain-dir',
    reason: "runc 1.1.5 leaves the container's / private whatever rootfsPropagation says",
  },
  {
    id: 'config-linux/rootfs-propagation-unbindable-plain-dir',
    reason: 'runc 1.1.5 makes the host / unbindable in its mount namespace, then cannot bind the rootfs: "flags: 0x5000: invalid argument"',
  },
];

export const BERTH_DEVIATIONS: readonly Deviation[] = [
  {
    id: 'config/process-user-umask-unset',
    reason:
      "berth sets umask 0022 when process.user.umask is unset, as runc does: images and dockerd assume it, and a shim's own umask must not leak into containers",
  },
];

export function knownDeviation(id: string, runtime: 'runc' | 'berth' = 'runc'): string | undefined {
  return (runtime === 'runc' ? RUNC_DEVIATIONS : BERTH_DEVIATIONS).find((d) => d.id === id)?.reason;
}
