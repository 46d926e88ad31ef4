import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BerthError } from '../../common/errors.js';
import { defaultSpec } from '../../oci/default-spec.js';
import type { Spec } from '../../oci/spec.js';
import { buildPlan, type PlanContext } from './build.js';
import { encodePlan } from './encode.js';
import { MS } from './mount-options.js';
import type { PlanMount } from './plan.js';

function ctx(spec: Spec, over: Partial<PlanContext> = {}): PlanContext {
  return {
    id: 'c1',
    bundle: '/b',
    spec,
    wait: false,
    startSocket: '/run/x/c1/exec.sock',
    noPivot: false,
    preserveFds: 0,
    cgroupProcs: ['/sys/fs/cgroup/memory/c1/cgroup.procs'],
    cgroupMode: 'hybrid',
    cgroupMounts: [
      { name: 'memory', hostDir: '/sys/fs/cgroup/memory/c1', version: 1, aliases: [] },
      { name: 'cpu,cpuacct', hostDir: '/sys/fs/cgroup/cpu,cpuacct/c1', version: 1, aliases: ['cpu', 'cpuacct'] },
      { name: 'unified', hostDir: '/sys/fs/cgroup/unified/c1', version: 2, aliases: [] },
    ],
    grantableCaps: ~0n,
    hostHasKcore: false,
    hookState: '{"ociVersion":"1.0.2-dev","id":"c1","status":"creating","bundle":"/b"',
    ...over,
  };
}

describe('buildPlan', () => {
  test('linux.seccomp is compiled into the plan and written as the seccomp record', () => {
    const spec = defaultSpec();
    spec.linux = {
      ...spec.linux,
      seccomp: {
        defaultAction: 'SCMP_ACT_ERRNO',
        flags: ['SECCOMP_FILTER_FLAG_LOG'],
        syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW' }],
      },
    };
    const { plan } = buildPlan(ctx(spec));
    assert.equal(plan.seccomp?.flags, 2);
    assert.match(plan.seccomp?.program ?? '', /^([0-9a-f]{16})+$/);
    assert.ok(encodePlan(plan).includes(`\nseccomp 2 ${plan.seccomp?.program}\n`));
    const none = buildPlan(ctx(defaultSpec())).plan;
    assert.equal(none.seccomp, undefined);
    assert.doesNotMatch(encodePlan(none), /^seccomp /m);
    spec.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['read'], action: 'SCMP_ACT_NOTIFY' }] };
    assert.throws(() => buildPlan(ctx(spec)), /linux\.seccomp\.syscalls\[0\]\.action: SCMP_ACT_NOTIFY .*not supported/);
  });

  test('the default spec gives runc-like namespaces, root and process', () => {
    const { plan, warnings } = buildPlan(ctx(defaultSpec()));
    assert.deepEqual(warnings, []);
    assert.deepEqual(plan.newNamespaces, ['pid', 'net', 'ipc', 'uts', 'mount']);
    assert.equal(plan.rootfs, '/b/rootfs');
    assert.equal(plan.rootReadonly, true);
    assert.equal(plan.rootfsPropagation, MS.SLAVE | MS.REC);
    assert.equal(plan.hostname, 'runc');
    assert.deepEqual(plan.process.args, ['sh']);
    assert.equal(plan.process.umask, 0o022);
    assert.equal(plan.process.noNewPrivileges, true);
    // CAP_AUDIT_WRITE(29), CAP_KILL(5), CAP_NET_BIND_SERVICE(10)
    const mask = (1n << 29n) | (1n << 5n) | (1n << 10n);
    assert.deepEqual(plan.process.capabilities, { bounding: mask, effective: mask, permitted: mask, inheritable: 0n, ambient: mask });
    assert.deepEqual(plan.rlimits, [{ resource: 7, soft: 1024n, hard: 1024n }]);
    assert.equal(plan.masked.length, 10);
    assert.ok(plan.readonly.includes('/proc/sys'));
  });

  test('the start socket replaces the exec fifo and start status', () => {
    const text = encodePlan(buildPlan(ctx(defaultSpec())).plan);
    assert.match(text, /^start-socket \/run\/x\/c1\/exec\.sock$/m);
    assert.doesNotMatch(text, /^(exec-fifo|start-status) /m);
  });

  test('a config without process plans a container with no process (start then fails)', () => {
    const spec = defaultSpec();
    delete spec.process;
    const { plan } = buildPlan(ctx(spec));
    assert.deepEqual(plan.process.args, []);
    assert.doesNotMatch(encodePlan(plan), /^arg /m);
  });

  test('rootfsPropagation: before the rootfs bind, and on the new / after the pivot', () => {
    const cases: [string, number, number][] = [
      ['slave', MS.SLAVE | MS.REC, MS.SLAVE],
      ['rprivate', MS.PRIVATE | MS.REC, MS.PRIVATE | MS.REC],
      ['shared', MS.SHARED, MS.SHARED],
      ['rshared', MS.SHARED | MS.REC, MS.SHARED | MS.REC],
      // The rootfs is bound from that tree, so it must stay bindable until the pivot.
      ['unbindable', MS.PRIVATE, MS.UNBINDABLE],
      ['runbindable', MS.PRIVATE | MS.REC, MS.UNBINDABLE | MS.REC],
    ];
    for (const [mode, before, after] of cases) {
      const spec = defaultSpec();
      spec.linux!.rootfsPropagation = mode;
      const { plan } = buildPlan(ctx(spec));
      assert.deepEqual([plan.rootfsPropagation, plan.rootPropagationAfter], [before, after], mode);
    }
  });

  test('mount options become flags and data, in order, with devices after the mounts', () => {
    const { plan } = buildPlan(ctx(defaultSpec()));
    const mounts = plan.rootfsOps.filter((o): o is PlanMount => o.op === 'mount');
    const dev = mounts.find((m) => m.destination === '/dev');
    assert.deepEqual(dev, {
      op: 'mount',
      source: 'tmpfs',
      destination: '/dev',
      fstype: 'tmpfs',
      flags: MS.NOSUID | MS.STRICTATIME,
      propagation: 0,
      data: 'mode=755,size=65536k',
    });
    const sys = mounts.find((m) => m.destination === '/sys');
    assert.equal(sys?.flags, MS.NOSUID | MS.NOEXEC | MS.NODEV | MS.RDONLY);
    const firstDevice = plan.rootfsOps.findIndex((o) => o.op === 'device');
    const lastMount = plan.rootfsOps.map((o) => o.op).lastIndexOf('mount');
    assert.ok(firstDevice > lastMount, 'devices are created after every mount');
    assert.ok(
      plan.rootfsOps.some((o) => o.op === 'symlink' && o.linkpath === '/dev/ptmx' && (o as { target: string }).target === 'pts/ptmx'),
    );
  });

  test('a /dev/ptmx device in linux.devices gives way to the pts/ptmx link (dockerd --privileged)', () => {
    const spec = defaultSpec();
    spec.linux = {
      ...spec.linux,
      devices: [
        { path: '/dev/ptmx', type: 'c', major: 5, minor: 2, fileMode: 0o666, uid: 0, gid: 0 },
        { path: '/dev/kmsg', type: 'c', major: 1, minor: 11, fileMode: 0o644, uid: 0, gid: 0 },
      ],
    };
    const opsAt = (s: Spec, p: string) =>
      buildPlan(ctx(s))
        .plan.rootfsOps.filter((o) => ('path' in o && o.path === p) || ('linkpath' in o && o.linkpath === p))
        .map((o) => o.op);
    assert.deepEqual(opsAt(spec, '/dev/ptmx'), ['symlink']);
    assert.deepEqual(opsAt(spec, '/dev/kmsg'), ['device']);
    // Without a devpts mount there is no link, and the device stays.
    spec.mounts = spec.mounts?.filter((m) => m.type !== 'devpts');
    assert.deepEqual(opsAt(spec, '/dev/ptmx'), ['device']);
  });

  test('a cgroup mount becomes a tmpfs, one bind per hierarchy, aliases and a read-only remount', () => {
    const { plan } = buildPlan(ctx(defaultSpec()));
    const ops = plan.rootfsOps.filter((o) => o.op !== 'device' && JSON.stringify(o).includes('/sys/fs/cgroup'));
    assert.deepEqual(
      ops.map((o) =>
        o.op === 'mount' ? `${o.destination} ${o.fstype || 'bind'} ${o.source}` : o.op === 'symlink' ? `${o.linkpath} -> ${o.target}` : '',
      ),
      [
        '/sys/fs/cgroup tmpfs tmpfs',
        '/sys/fs/cgroup/memory bind /sys/fs/cgroup/memory/c1',
        '/sys/fs/cgroup/cpu,cpuacct bind /sys/fs/cgroup/cpu,cpuacct/c1',
        '/sys/fs/cgroup/cpu -> cpu,cpuacct',
        '/sys/fs/cgroup/cpuacct -> cpu,cpuacct',
        '/sys/fs/cgroup/unified bind /sys/fs/cgroup/unified/c1',
        '/sys/fs/cgroup bind ',
      ],
    );
    const last = ops.at(-1) as PlanMount;
    assert.equal(last.flags & MS.REMOUNT, MS.REMOUNT);
    assert.equal(last.flags & MS.RDONLY, MS.RDONLY);
  });

  test('bind sources resolve against the bundle; relative destinations against /', () => {
    const spec = defaultSpec();
    spec.mounts = [{ destination: 'data/../x', type: 'bind', source: 'vol', options: ['rbind', 'ro'] }];
    const { plan } = buildPlan(ctx(spec));
    const m = plan.rootfsOps[0] as PlanMount;
    assert.equal(m.source, '/b/vol');
    assert.equal(m.destination, '/x');
    assert.equal(m.flags, MS.BIND | MS.REC | MS.RDONLY);
  });

  test('a user namespace needs mappings, and devices are then bound instead of made', () => {
    const spec = defaultSpec();
    spec.linux?.namespaces?.push({ type: 'user' });
    assert.throws(() => buildPlan(ctx(spec)), /needs uid and gid mappings/);
    spec.linux = {
      ...spec.linux,
      uidMappings: [{ containerID: 0, hostID: 1000, size: 10 }],
      gidMappings: [{ containerID: 0, hostID: 1000, size: 10 }],
    };
    const { plan } = buildPlan(ctx(spec));
    assert.deepEqual(plan.uidMaps, [{ inside: 0, outside: 1000, count: 10 }]);
    assert.ok(plan.rootfsOps.filter((o) => o.op === 'device').every((d) => d.op === 'device' && d.bind));
  });

  test('namespaces given by path are joined, the user namespace first', () => {
    const spec = defaultSpec();
    spec.linux = {
      ...spec.linux,
      namespaces: [{ type: 'mount' }, { type: 'network', path: '/proc/1/ns/net' }, { type: 'user', path: '/proc/1/ns/user' }],
    };
    delete spec.hostname;
    const { plan } = buildPlan(ctx(spec));
    assert.deepEqual(
      plan.joinNamespaces.map((n) => n.type),
      ['user', 'net'],
    );
    assert.deepEqual(plan.newNamespaces, ['mount']);
  });

  test('bad configs name the field', () => {
    const noUts = defaultSpec();
    noUts.linux = { ...noUts.linux, namespaces: [{ type: 'mount' }] };
    assert.throws(() => buildPlan(ctx(noUts)), /hostname: cannot set a hostname without a private uts namespace/);
    const sysctl = defaultSpec();
    sysctl.linux = { ...sysctl.linux, sysctl: { 'kernel.panic': '1' } };
    assert.throws(() => buildPlan(ctx(sysctl)), /'kernel.panic' is not namespaced/);
    const netSysctl = defaultSpec();
    netSysctl.linux = { ...netSysctl.linux, namespaces: [{ type: 'mount' }, { type: 'uts' }], sysctl: { 'net.ipv4.ip_forward': '1' } };
    assert.throws(() => buildPlan(ctx(netSysctl)), /needs a private network namespace/);
    const dup = defaultSpec();
    dup.linux?.namespaces?.push({ type: 'pid' });
    assert.throws(() => buildPlan(ctx(dup)), /duplicate namespace 'pid'/);
    // With the runtime's mount namespace (inherited), nothing that mounts is accepted (the default spec has all of them).
    const noMnt = defaultSpec();
    noMnt.linux = { ...noMnt.linux, namespaces: [{ type: 'uts' }] };
    assert.throws(
      () => buildPlan(ctx(noMnt)),
      /config\.json: mounts, linux\.maskedPaths, linux\.readonlyPaths, root\.readonly: need a mount namespace other than the runtime's \(linux\.namespaces has no 'mount'\)/,
    );
  });

  test('an inherited mount namespace: the root is a chroot and nothing is mounted', () => {
    const spec = defaultSpec();
    spec.linux = { ...spec.linux, namespaces: [{ type: 'pid' }], maskedPaths: [], readonlyPaths: [] };
    spec.mounts = [];
    spec.root = { path: 'rootfs', readonly: false };
    delete spec.hostname;
    const { plan } = buildPlan({ ...ctx(spec), noPivot: true });
    assert.deepEqual(plan.newNamespaces, ['pid']);
    assert.deepEqual(plan.joinNamespaces, []);
    assert.equal(plan.chroot, true);
    assert.equal(plan.noPivot, false);
    assert.deepEqual(plan.rootfsOps, [], 'no devices or links are made in the runtime’s mount namespace');
    assert.match(encodePlan(plan), /^chroot 1$/m);
    assert.equal(buildPlan(ctx(defaultSpec())).plan.chroot, false);
    assert.doesNotMatch(encodePlan(buildPlan(ctx(defaultSpec())).plan), /^chroot /m);
  });

  test('a joined mount namespace gets the mounts, devices, masked and read-only paths of a new one; the root is a chroot', () => {
    const joined = defaultSpec();
    joined.linux = { ...joined.linux, namespaces: [{ type: 'pid' }, { type: 'mount', path: '/proc/1/ns/mnt' }] };
    joined.root = { path: 'rootfs', readonly: true };
    delete joined.hostname;
    const own = structuredClone(joined);
    own.linux!.namespaces = [{ type: 'pid' }, { type: 'mount' }];
    const { plan } = buildPlan({ ...ctx(joined), noPivot: true });
    const ref = buildPlan({ ...ctx(own), noPivot: true }).plan;
    assert.deepEqual(plan.joinNamespaces, [{ type: 'mount', path: '/proc/1/ns/mnt' }]);
    assert.equal(plan.chroot, true);
    assert.equal(plan.noPivot, false, 'never moved over the joined namespace’s /');
    assert.ok(plan.rootfsOps.some((o) => o.op === 'mount' && o.fstype === 'proc'));
    assert.ok(plan.rootfsOps.some((o) => o.op === 'device' && o.path === '/dev/null'));
    for (const k of ['rootfsOps', 'masked', 'readonly', 'rootReadonly', 'rootfsPropagation', 'rootPropagationAfter'] as const)
      assert.deepEqual(plan[k], ref[k], `${k}: as with a mount namespace of its own`);
    assert.equal(ref.chroot, false);
    assert.equal(ref.noPivot, true);
  });

  test('capabilities this process cannot grant are dropped with a warning, not an error', () => {
    const spec = defaultSpec();
    spec.process?.capabilities?.bounding?.push('CAP_SYS_RESOURCE');
    const grantable = ~(1n << 24n); // CAP_SYS_RESOURCE missing, as on this project's CI machine
    const { plan, warnings } = buildPlan(ctx(spec, { grantableCaps: grantable }));
    assert.equal((plan.process.capabilities?.bounding ?? 0n) & (1n << 24n), 0n);
    assert.deepEqual(warnings, ["capability 'CAP_SYS_RESOURCE' in process.capabilities.bounding cannot be granted: ignored"]);
  });

  test('an unknown capability name is an error naming the set and the name (config.md: cannot be mapped MUST error)', () => {
    for (const set of ['bounding', 'effective', 'permitted', 'inheritable', 'ambient'] as const) {
      const spec = defaultSpec();
      const caps = spec.process?.capabilities ?? {};
      caps[set] = [...(caps[set] ?? []), 'CAP_NOT_A_CAP'];
      assert.throws(
        () => buildPlan(ctx(spec)),
        (e: unknown) =>
          e instanceof BerthError &&
          e.kind === 'invalid-argument' &&
          e.message === `process.capabilities.${set}: unknown capability 'CAP_NOT_A_CAP'`,
      );
    }
  });

  test('the encoded plan is line records with escaped fields', () => {
    const spec = defaultSpec();
    spec.process = { ...spec.process!, args: ['sh', '-c', 'echo 100% done'] };
    const text = encodePlan(buildPlan(ctx(spec)).plan);
    assert.ok(text.startsWith('berth-plan 1\n'));
    assert.ok(text.endsWith('\nend\n'));
    assert.ok(text.includes('\narg echo%20100%25%20done\n'));
    assert.ok(text.includes('\nns-new mount\n'));
    assert.ok(text.includes('\nuser 0 0 22\n'));
    assert.ok(text.includes('\ncaps 20000420 20000420 20000420 0 20000420\n'));
  });
});
