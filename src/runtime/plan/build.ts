/**
 * OCI spec → launch plan. Pure: everything the host contributes (cgroup directories, the
 * capability bounding set, paths of the state directory) comes in through PlanContext, so the
 * whole decision can be unit-tested without root.
 */
import path from 'node:path';
import { BerthError, invalid } from '../../common/errors.js';
import type { Mount, NamespaceType, Process, Spec } from '../../oci/spec.js';
import type { Mount as SnapshotMount } from '../../snapshots/types.js';
import { planSeccomp } from '../seccomp/index.js';
import { capabilitySetMask } from './capabilities.js';
import { DEFAULT_DEVICES, DEV_SYMLINKS } from './devices.js';
import { checkUserInNamespace, type IdMapHost, type IdMapWriters, idMapWriters } from './idmap.js';
import { MS, PROPAGATION, parseMountOptions } from './mount-options.js';
import type { KernelNamespace, LaunchPlan, PlanHook, RootfsOp } from './plan.js';
import { planRlimits } from './rlimits.js';
import { planRootfsMounts } from './rootfs-mounts.js';

/** A hierarchy as the container should see it under /sys/fs/cgroup. */
export interface CgroupMountSource {
  /** Directory name under /sys/fs/cgroup ('memory', 'cpu,cpuacct', 'systemd', 'unified'). */
  name: string;
  /** The container's cgroup directory on the host. */
  hostDir: string;
  version: 1 | 2;
  /** Extra links for co-mounted controllers ('cpu' → 'cpu,cpuacct'). */
  aliases: string[];
}

export interface PlanContext {
  id: string;
  /** Absolute bundle directory. */
  bundle: string;
  spec: Spec;
  /** Foreground run: nsinit's parent stage waits for the container. */
  wait: boolean;
  /** Where the start socket is bound (create only): `<state>/<id>/exec.sock`. */
  startSocket?: string;
  consoleSocket?: string;
  noPivot: boolean;
  preserveFds: number;
  cgroupProcs: string[];
  /** How the cgroup hierarchies are laid out, for a `cgroup` mount. 'v2' means a single cgroup2 tree. */
  cgroupMode: 'v1' | 'hybrid' | 'v2';
  cgroupMounts: CgroupMountSource[];
  /** --no-new-keyring: keep the caller's session keyring. */
  noNewKeyring?: boolean;
  /** runc links /dev/core to /proc/kcore only when the kernel has one. */
  hostHasKcore: boolean;
  /** Capabilities this process can pass on (its own bounding set). */
  grantableCaps: bigint;
  /** The OCI state for createContainer/startContainer hooks, as JSON without pid and closing brace. */
  hookState: string;
  /** Who is creating the container, for the id maps of a new user namespace (default: root). */
  idMapHost?: IdMapHost;
  /**
   * The root filesystem as mounts (a snapshotter's, e.g. an overlay of image layers), stacked on
   * `root.path` inside the container's own mount namespace only (rootfs-mounts.ts).
   */
  rootfsMounts?: readonly SnapshotMount[];
}

const ROOT_HOST: IdMapHost = { euid: 0, egid: 0, capSetuid: true, capSetgid: true };

export interface BuiltPlan {
  plan: LaunchPlan;
  warnings: string[];
}

const KERNEL_NS: Record<NamespaceType, KernelNamespace> = {
  pid: 'pid',
  network: 'net',
  mount: 'mount',
  ipc: 'ipc',
  uts: 'uts',
  user: 'user',
  cgroup: 'cgroup',
  time: 'time',
};

function cleanDestination(dest: string): string {
  const normalized = path.posix.normalize(`/${dest}`);
  return normalized.length > 1 ? normalized.replace(/\/$/, '') : normalized;
}

export function buildPlan(ctx: PlanContext): BuiltPlan {
  const { spec } = ctx;
  const warnings: string[] = [];
  // `process` is required only by start (config.md): without it the container is created, its
  // init waits for a start that then fails (start.ts, and nsinit if asked anyway).
  const proc: Process = spec.process ?? { cwd: '/', user: { uid: 0, gid: 0 }, args: [] };
  if (spec.process && (!proc.args || proc.args.length === 0)) throw invalid('config.json: process.args: must not be empty', 'process.args');
  if (!proc.cwd.startsWith('/')) throw invalid(`config.json: process.cwd: '${proc.cwd}' is not an absolute path`, 'process.cwd');
  if (!spec.root) throw invalid('config.json: root: required', 'root');
  const linux = spec.linux ?? {};
  for (const [field, present] of [
    ['linux.intelRdt', linux.intelRdt !== undefined],
    ['linux.personality', linux.personality !== undefined],
    ['process.apparmorProfile', !!proc.apparmorProfile],
    ['process.selinuxLabel', !!proc.selinuxLabel],
  ] as const) {
    // Refuse rather than run a container with less confinement than its config asks for.
    if (present) throw new BerthError('not-implemented', `config.json: ${field}: not supported by this runtime yet`, { object: field });
  }

  // Namespaces.
  const newNamespaces: KernelNamespace[] = [];
  const joinNamespaces: { type: KernelNamespace; path: string }[] = [];
  const seen = new Set<NamespaceType>();
  for (const ns of linux.namespaces ?? []) {
    if (seen.has(ns.type)) throw invalid(`config.json: linux.namespaces: duplicate namespace '${ns.type}'`, ns.type);
    seen.add(ns.type);
    if (ns.path) {
      if (!ns.path.startsWith('/'))
        throw invalid(`config.json: linux.namespaces: path '${ns.path}' of '${ns.type}' is not absolute`, ns.path);
      joinNamespaces.push({ type: KERNEL_NS[ns.type], path: ns.path });
    } else newNamespaces.push(KERNEL_NS[ns.type]);
  }
  // The user namespace is joined first: the others may belong to it.
  joinNamespaces.sort((a, b) => Number(b.type === 'user') - Number(a.type === 'user'));
  // A mount namespace of the container's own is set up and pivoted into. A joined one (by path)
  // gets the same mounts, under a bind of the rootfs onto itself in that namespace, and the
  // container is chrooted there: pivot_root would move the root of every process in it (the
  // mounts stay in that namespace after the container is gone: it belongs to its holder). An
  // inherited one (no 'mount' in linux.namespaces) is the runtime's own, the host's: the
  // container is chrooted into its rootfs and nothing may be mounted, since every mount would
  // change the host's mounts and outlive the container.
  const ownMountNs = newNamespaces.includes('mount');
  const mountNs = ownMountNs || joinNamespaces.some((ns) => ns.type === 'mount');
  if (!mountNs) {
    const needs = [
      ['mounts', (spec.mounts?.length ?? 0) > 0],
      ['linux.maskedPaths', (linux.maskedPaths?.length ?? 0) > 0],
      ['linux.readonlyPaths', (linux.readonlyPaths?.length ?? 0) > 0],
      ['linux.devices', (linux.devices?.length ?? 0) > 0],
      ['linux.rootfsPropagation', !!linux.rootfsPropagation],
      ['root.readonly', !!spec.root.readonly],
    ]
      .filter(([, present]) => present)
      .map(([field]) => field);
    if (needs.length > 0)
      throw invalid(
        `config.json: ${needs.join(', ')}: need a mount namespace other than the runtime's (linux.namespaces has no 'mount'): they would change the host's mounts and outlive the container; add {"type": "mount"}, or a path to join`,
        String(needs[0]),
      );
  }
  // The rootfs mounts live exactly as long as the container's own mount namespace; in the host's
  // they would outlive the container, in a joined one they would be its holder's to clean up.
  if (ctx.rootfsMounts?.length && !ownMountNs)
    throw invalid(
      `rootfsMounts: the root filesystem is mounted in the container's own mount namespace, and linux.namespaces ${mountNs ? 'joins one' : "has no 'mount'"}: add {"type": "mount"} without a path`,
      'rootfsMounts',
    );
  const rootfsMounts = ctx.rootfsMounts?.length ? planRootfsMounts(ctx.rootfsMounts) : undefined;
  const newUserNs = newNamespaces.includes('user');
  const uidMaps = (linux.uidMappings ?? []).map((m) => ({ inside: m.containerID, outside: m.hostID, count: m.size }));
  const gidMaps = (linux.gidMappings ?? []).map((m) => ({ inside: m.containerID, outside: m.hostID, count: m.size }));
  if (newUserNs && (uidMaps.length === 0 || gidMaps.length === 0))
    throw invalid('config.json: linux.uidMappings: a new user namespace needs uid and gid mappings', 'linux.uidMappings');
  if (!newUserNs && (uidMaps.length > 0 || gidMaps.length > 0))
    throw invalid('config.json: linux.uidMappings: mappings need a new user namespace', 'linux.uidMappings');
  let idWriters: IdMapWriters = {};
  if (newUserNs) {
    idWriters = idMapWriters(uidMaps, gidMaps, ctx.idMapHost ?? ROOT_HOST);
    checkUserInNamespace(uidMaps, gidMaps, proc.user, idWriters.setgroups);
  }
  if ((spec.hostname || spec.domainname) && !seen.has('uts'))
    throw invalid('config.json: hostname: cannot set a hostname without a private uts namespace', 'hostname');
  const timeOffsets = Object.entries(linux.timeOffsets ?? {}).map(([clock, off]) => {
    if (clock !== 'monotonic' && clock !== 'boottime') throw invalid(`config.json: linux.timeOffsets: unknown clock '${clock}'`, clock);
    return { clock, secs: off?.secs ?? 0, nanosecs: off?.nanosecs ?? 0 } as const;
  });
  if (timeOffsets.length > 0 && !newNamespaces.includes('time'))
    throw invalid('config.json: linux.timeOffsets: offsets need a new time namespace', 'linux.timeOffsets');

  // Root.
  const rootfs = path.resolve(ctx.bundle, spec.root.path);
  let rootfsPropagation = MS.SLAVE | MS.REC;
  let rootPropagationAfter = 0;
  if (linux.rootfsPropagation) {
    const flags = PROPAGATION[linux.rootfsPropagation] as number;
    // Slave and private apply to the whole inherited tree first, so that the rootfs bound from
    // it keeps (or drops) its master; then to the new / again after pivot_root. Shared cannot go
    // recursive first unless asked (rshared): the bind of the rootfs needs a non-shared parent
    // (nsinit makes that one private), and the new / gets a peer group of its own after the
    // pivot. Unbindable is private first, since the rootfs must still be bound from that tree,
    // and becomes unbindable on the new / after the pivot.
    if (flags & MS.UNBINDABLE) rootfsPropagation = (flags & ~MS.UNBINDABLE) | MS.PRIVATE;
    else rootfsPropagation = flags & (MS.SLAVE | MS.PRIVATE) ? flags | MS.REC : flags;
    rootPropagationAfter = flags;
  }

  // Mounts, then devices and /dev links, in the order the kernel needs them.
  const rootfsOps: RootfsOp[] = [];
  let devIsBound = false;
  let hasDevpts = false;
  let hasProc = false;
  for (const [i, m] of (spec.mounts ?? []).entries()) {
    const dest = cleanDestination(m.destination);
    if (m.type === 'cgroup') {
      rootfsOps.push(...cgroupMounts(ctx, dest, m, newNamespaces.includes('cgroup')));
      continue;
    }
    const opts = parseMountOptions(m.options);
    const isBind = m.type === 'bind' || (opts.flags & MS.BIND) !== 0;
    if (isBind) {
      if (!m.source) throw invalid(`config.json: mounts[${i}].source: a bind mount needs a source`, `mounts[${i}]`);
      if (dest === '/dev') devIsBound = true;
      rootfsOps.push({
        op: 'mount',
        source: path.resolve(ctx.bundle, m.source),
        destination: dest,
        fstype: '',
        flags: opts.flags | MS.BIND,
        propagation: opts.propagation,
        data: '',
      });
      continue;
    }
    if (!m.type) throw invalid(`config.json: mounts[${i}].type: required for a non-bind mount of '${dest}'`, `mounts[${i}]`);
    if (m.type === 'devpts' && dest === '/dev/pts') hasDevpts = true;
    if (m.type === 'proc') hasProc = true;
    rootfsOps.push({
      op: 'mount',
      source: m.source ?? m.type,
      destination: dest,
      fstype: m.type,
      flags: opts.flags,
      propagation: opts.propagation,
      data: opts.data,
    });
  }
  if (!devIsBound && mountNs) {
    const devices = new Map<string, RootfsOp>();
    for (const d of DEFAULT_DEVICES)
      devices.set(d.path, {
        op: 'device',
        path: d.path,
        type: 'c',
        major: d.major,
        minor: d.minor,
        mode: d.fileMode,
        uid: d.uid,
        gid: d.gid,
        bind: newUserNs,
      });
    for (const [i, d] of (linux.devices ?? []).entries()) {
      if (!d.path.startsWith('/dev/')) throw invalid(`config.json: linux.devices[${i}].path: '${d.path}' is not under /dev`, d.path);
      if (d.type !== 'p' && (d.major === undefined || d.minor === undefined))
        throw invalid(`config.json: linux.devices[${i}]: major and minor are required for '${d.path}'`, d.path);
      devices.set(d.path, {
        op: 'device',
        path: cleanDestination(d.path),
        type: d.type as 'c' | 'b' | 'p' | 'u',
        major: d.major ?? 0,
        minor: d.minor ?? 0,
        mode: d.fileMode ?? 0o666,
        uid: d.uid ?? 0,
        gid: d.gid ?? 0,
        bind: newUserNs,
      });
    }
    // /dev/ptmx becomes a link to the devpts instance's ptmx; a device node asked for at that
    // path (dockerd --privileged lists every host device, ptmx included) gives way to it, as runc
    // removes whatever is there before making the link.
    if (hasDevpts) for (const [key, op] of devices) if (op.op === 'device' && op.path === '/dev/ptmx') devices.delete(key);
    rootfsOps.push(...devices.values());
    for (const [target, link] of DEV_SYMLINKS) rootfsOps.push({ op: 'symlink', target, linkpath: link });
    if (hasProc && ctx.hostHasKcore) rootfsOps.push({ op: 'symlink', target: '/proc/kcore', linkpath: '/dev/core' });
    if (hasDevpts) rootfsOps.push({ op: 'symlink', target: 'pts/ptmx', linkpath: '/dev/ptmx' });
  }

  // Sysctls must land in a namespace of the container's own, never the host's.
  const sysctl = Object.entries(linux.sysctl ?? {});
  for (const [key] of sysctl) {
    const needs = sysctlNamespace(key);
    if (!needs) throw invalid(`config.json: linux.sysctl: '${key}' is not namespaced and cannot be set in a container`, key);
    if (!seen.has(needs)) throw invalid(`config.json: linux.sysctl: '${key}' needs a private ${needs} namespace`, key);
  }

  // Process.
  const env = proc.env ?? [];
  const caps = proc.capabilities;
  let capabilities: LaunchPlan['process']['capabilities'];
  if (caps) {
    const sets = ['bounding', 'effective', 'permitted', 'inheritable', 'ambient'] as const;
    const masks = Object.fromEntries(
      sets.map((s) => {
        return [s, capabilitySetMask(caps[s], s, ctx.grantableCaps, warnings)];
      }),
    ) as Record<(typeof sets)[number], bigint>;
    capabilities = masks;
  }
  const hooks: PlanHook[] = [];
  for (const stage of ['createContainer', 'startContainer'] as const) {
    for (const h of spec.hooks?.[stage] ?? []) {
      hooks.push({ stage, path: h.path, args: h.args ?? [h.path], env: h.env ?? [], timeout: h.timeout ?? 0 });
    }
  }
  const syncHooks = (spec.hooks?.prestart?.length ?? 0) + (spec.hooks?.createRuntime?.length ?? 0) > 0;
  const plan: LaunchPlan = {
    id: ctx.id,
    wait: ctx.wait,
    terminal: proc.terminal ?? false,
    consoleSocket: ctx.consoleSocket,
    startSocket: ctx.startSocket,
    syncHooks,
    rootfs,
    ...(rootfsMounts ? { rootfsMounts } : {}),
    rootfsPropagation,
    rootPropagationAfter,
    noPivot: ownMountNs && ctx.noPivot,
    chroot: !ownMountNs,
    rootReadonly: spec.root.readonly ?? false,
    hostname: spec.hostname,
    domainname: spec.domainname,
    keyring: ctx.noNewKeyring ? undefined : ctx.id,
    newNamespaces,
    joinNamespaces,
    uidMaps,
    gidMaps,
    ...idWriters,
    timeOffsets,
    cgroupProcs: ctx.cgroupProcs,
    rootfsOps,
    masked: (linux.maskedPaths ?? []).map(cleanDestination),
    readonly: (linux.readonlyPaths ?? []).map(cleanDestination),
    sysctl,
    oomScoreAdj: proc.oomScoreAdj,
    rlimits: planRlimits(proc.rlimits),
    process: {
      args: proc.args ?? [],
      env,
      cwd: proc.cwd,
      uid: proc.user.uid,
      gid: proc.user.gid,
      umask: proc.user.umask ?? 0o022,
      groups: proc.user.additionalGids ?? [],
      capabilities,
      noNewPrivileges: proc.noNewPrivileges ?? false,
    },
    seccomp: planSeccomp(linux.seccomp),
    preserveFds: ctx.preserveFds,
    hookState: hooks.length > 0 ? ctx.hookState : undefined,
    hooks,
  };
  return { plan, warnings };
}

/** Which namespace makes a sysctl safe to set, or undefined if none does (runc's rules). */
function sysctlNamespace(key: string): NamespaceType | undefined {
  if (
    [
      'kernel.msgmax',
      'kernel.msgmnb',
      'kernel.msgmni',
      'kernel.sem',
      'kernel.shmall',
      'kernel.shmmax',
      'kernel.shmmni',
      'kernel.shm_rmid_forced',
    ].includes(key) ||
    key.startsWith('fs.mqueue.')
  )
    return 'ipc';
  if (key.startsWith('net.')) return 'network';
  if (key === 'kernel.hostname' || key === 'kernel.domainname') return 'uts';
  return undefined;
}

/**
 * A `cgroup` mount becomes: a tmpfs on the destination, the container's own cgroup directory of
 * each hierarchy bound under it (so the container sees its cgroup as the root, the way runc
 * shows it), aliases for co-mounted controllers, and a final read-only remount of the tmpfs. On a
 * pure v2 host with a cgroup namespace it is a plain cgroup2 mount, rooted at the namespace.
 */
function cgroupMounts(ctx: PlanContext, dest: string, m: Mount, cgroupNs: boolean): RootfsOp[] {
  const opts = parseMountOptions(m.options);
  const readonly = (opts.flags & MS.RDONLY) !== 0;
  const base = opts.flags & ~MS.RDONLY & ~MS.BIND & ~MS.REC;
  if (ctx.cgroupMode === 'v2') {
    if (cgroupNs)
      return [{ op: 'mount', source: 'cgroup', destination: dest, fstype: 'cgroup2', flags: opts.flags, propagation: 0, data: '' }];
    const host = ctx.cgroupMounts[0];
    if (!host) return [];
    return [
      { op: 'mount', source: host.hostDir, destination: dest, fstype: '', flags: opts.flags | MS.BIND | MS.REC, propagation: 0, data: '' },
    ];
  }
  const ops: RootfsOp[] = [
    { op: 'mount', source: 'tmpfs', destination: dest, fstype: 'tmpfs', flags: base, propagation: 0, data: 'mode=755' },
  ];
  for (const h of ctx.cgroupMounts) {
    ops.push({
      op: 'mount',
      source: h.hostDir,
      destination: `${dest}/${h.name}`,
      fstype: '',
      flags: opts.flags | MS.BIND,
      propagation: 0,
      data: '',
    });
    for (const alias of h.aliases) ops.push({ op: 'symlink', target: h.name, linkpath: `${dest}/${alias}` });
  }
  if (readonly)
    ops.push({
      op: 'mount',
      source: '',
      destination: dest,
      fstype: '',
      flags: base | MS.REMOUNT | MS.RDONLY,
      propagation: 0,
      data: 'mode=755',
    });
  return ops;
}
