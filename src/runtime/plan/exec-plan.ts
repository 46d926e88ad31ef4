/**
 * A plan that runs one more process in a running container (`exec`): join every namespace
 * and the cgroup of the container's init process, no mounts, the process's own user,
 * capabilities, rlimits and environment. Pure.
 */
import { invalid } from '../../common/errors.js';
import type { NamespaceType, Process } from '../../oci/spec.js';
import { planSeccomp } from '../seccomp/index.js';
import { capabilitySets } from './capabilities.js';
import type { KernelNamespace, LaunchPlan, PlanSeccomp } from './plan.js';
import { planRlimits } from './rlimits.js';

/** The file name under /proc/<pid>/ns/ of each namespace type. */
const NS_FILE: Record<NamespaceType, [KernelNamespace, string]> = {
  pid: ['pid', 'pid'],
  network: ['net', 'net'],
  mount: ['mount', 'mnt'],
  ipc: ['ipc', 'ipc'],
  uts: ['uts', 'uts'],
  user: ['user', 'user'],
  cgroup: ['cgroup', 'cgroup'],
  time: ['time', 'time'],
};

export interface ExecPlanContext {
  id: string;
  /** Host pid of the container's init process, whose namespaces are joined. */
  initPid: number;
  /** The namespace types the container has (new or joined at create). */
  namespaces: NamespaceType[];
  rootfs: string;
  process: Process;
  wait: boolean;
  consoleSocket?: string;
  preserveFds: number;
  cgroupProcs: string[];
  grantableCaps: bigint;
  /** The container's user namespace denies setgroups(2) (its /proc/<pid>/setgroups: a rootless single mapping). */
  setgroupsDenied?: boolean;
  /** The container has no mount namespace of its own: its processes are chrooted into `rootfs`. */
  chroot?: boolean;
  /** The container's linux.seccomp: an exec'd process gets the same filter, as with runc. */
  seccomp?: unknown;
  /** That filter compiled already (the container's own plan has it): not compiled again. */
  compiledSeccomp?: PlanSeccomp;
}

export function buildExecPlan(ctx: ExecPlanContext): { plan: LaunchPlan; warnings: string[] } {
  const proc = ctx.process;
  const warnings: string[] = [];
  if (!proc.args || proc.args.length === 0) throw invalid('exec: process.args must not be empty', 'args');
  if (!proc.cwd.startsWith('/')) throw invalid(`exec: cwd '${proc.cwd}' is not an absolute path`, 'cwd');
  const joinNamespaces = ctx.namespaces.map((type) => {
    const [kernel, file] = NS_FILE[type];
    return { type: kernel, path: `/proc/${ctx.initPid}/ns/${file}` };
  });
  // The user namespace first: the others belong to it.
  joinNamespaces.sort((a, b) => Number(b.type === 'user') - Number(a.type === 'user'));
  if (ctx.setgroupsDenied && (proc.user.additionalGids?.length ?? 0) > 0)
    throw invalid('exec: cannot set additional groups: the container denies setgroups (a rootless single gid mapping)', 'additionalGids');
  const plan: LaunchPlan = {
    id: ctx.id,
    wait: ctx.wait,
    terminal: proc.terminal ?? false,
    consoleSocket: ctx.consoleSocket,
    syncHooks: false,
    rootfs: ctx.rootfs,
    rootfsPropagation: 0,
    rootPropagationAfter: 0,
    noPivot: false,
    chroot: ctx.chroot ?? false,
    rootReadonly: false,
    newNamespaces: [],
    joinNamespaces,
    uidMaps: [],
    gidMaps: [],
    setgroups: ctx.setgroupsDenied ? 'deny' : undefined,
    timeOffsets: [],
    cgroupProcs: ctx.cgroupProcs,
    rootfsOps: [],
    masked: [],
    readonly: [],
    sysctl: [],
    oomScoreAdj: proc.oomScoreAdj,
    rlimits: planRlimits(proc.rlimits),
    process: {
      args: proc.args,
      env: proc.env ?? [],
      cwd: proc.cwd,
      uid: proc.user.uid,
      gid: proc.user.gid,
      umask: proc.user.umask ?? 0o022,
      groups: proc.user.additionalGids ?? [],
      capabilities: proc.capabilities ? capabilitySets(proc.capabilities, ctx.grantableCaps, warnings) : undefined,
      noNewPrivileges: proc.noNewPrivileges ?? false,
    },
    preserveFds: ctx.preserveFds,
    seccomp: ctx.compiledSeccomp ?? planSeccomp(ctx.seccomp),
    hooks: [],
  };
  return { plan, warnings };
}
