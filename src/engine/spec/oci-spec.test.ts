import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BerthError } from '../../common/errors.js';
import type { Mount } from '../../oci/spec.js';
import { validateSpec } from '../../oci/validate.js';
import { DEFAULT_CAPABILITIES } from './caps.js';
import { type CreateConfig, decodeCreateBody, type HostConfig } from './create-config.js';
import { mergeConfig } from './merge.js';
import {
  buildSpec,
  DEFAULT_MASKED_PATHS,
  DEFAULT_READONLY_PATHS,
  mergeTmpfsOptions,
  parseDeviceCgroupRule,
  parseSecurityOpt,
  type SpecInput,
} from './oci-spec.js';

const ID = 'cd'.repeat(32);
const PASSWD = 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n';
const GROUP = 'root:x:0:\naudio:x:29:app\n';

function spec(config: CreateConfig = {}, hostConfig: HostConfig = {}, extra: Partial<SpecInput> = {}) {
  const merged = mergeConfig({ image: { Cmd: ['/bin/sh'], Env: ['FOO=bar'] }, request: config, id: ID });
  return buildSpec({
    id: ID,
    config: merged,
    hostConfig,
    rootfs: '/r/rootfs',
    hostsPath: '/r/hosts',
    hostnamePath: '/r/hostname',
    resolvConfPath: '/r/resolv.conf',
    passwd: PASSWD,
    group: GROUP,
    ...extra,
    host: { arch: 'x86_64', kernel: '6.18.0', cgroupParent: '/docker', ...extra.host },
  });
}
const mount = (mounts: Mount[] | undefined, dest: string) => mounts?.find((m) => m.destination === dest);
const refuses = (fn: () => unknown, message: string | RegExp) =>
  assert.throws(
    fn,
    (e: unknown) =>
      e instanceof BerthError &&
      e.kind === 'invalid-argument' &&
      (typeof message === 'string' ? e.message === message : message.test(e.message)),
  );

describe('the OCI spec dockerd produces', () => {
  test('a default container', () => {
    const s = spec();
    assert.equal(s.hostname, ID.slice(0, 12));
    assert.deepEqual(s.root, { path: '/r/rootfs' });
    assert.deepEqual(s.process?.args, ['/bin/sh']);
    assert.deepEqual(s.process?.env, [
      'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      `HOSTNAME=${ID.slice(0, 12)}`,
      'FOO=bar',
    ]);
    assert.equal(s.process?.cwd, '/');
    assert.equal(s.process?.terminal, undefined);
    assert.deepEqual(s.process?.user, { uid: 0, gid: 0, additionalGids: [0] });
    assert.deepEqual(s.process?.capabilities, {
      bounding: DEFAULT_CAPABILITIES,
      effective: DEFAULT_CAPABILITIES,
      permitted: DEFAULT_CAPABILITIES,
    });
    assert.equal(s.process?.noNewPrivileges, undefined);
    assert.equal(s.process?.oomScoreAdj, 0);
    assert.equal(s.process?.rlimits, undefined);
    assert.deepEqual(
      s.mounts?.map((m) => m.destination),
      ['/proc', '/dev', '/dev/pts', '/sys', '/sys/fs/cgroup', '/dev/mqueue', '/dev/shm', '/etc/resolv.conf', '/etc/hostname', '/etc/hosts'],
    );
    assert.deepEqual(mount(s.mounts, '/dev/pts')?.options, ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5']);
    assert.deepEqual(mount(s.mounts, '/sys')?.options, ['nosuid', 'noexec', 'nodev', 'ro']);
    assert.deepEqual(mount(s.mounts, '/sys/fs/cgroup')?.options, ['ro', 'nosuid', 'noexec', 'nodev']);
    assert.deepEqual(mount(s.mounts, '/dev/shm')?.options, ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=67108864']);
    assert.deepEqual(mount(s.mounts, '/etc/hosts'), {
      destination: '/etc/hosts',
      type: 'bind',
      source: '/r/hosts',
      options: ['rbind', 'rprivate'],
    });
    assert.deepEqual(s.linux?.namespaces, [{ type: 'mount' }, { type: 'network' }, { type: 'uts' }, { type: 'pid' }, { type: 'ipc' }]);
    assert.deepEqual(s.linux?.maskedPaths, DEFAULT_MASKED_PATHS);
    assert.deepEqual(s.linux?.readonlyPaths, DEFAULT_READONLY_PATHS);
    assert.equal(s.linux?.devices, undefined, 'runc makes the default nodes');
    assert.equal(s.linux?.resources?.devices?.length, 8);
    assert.deepEqual(s.linux?.resources?.devices?.[0], { allow: false, access: 'rwm' });
    assert.deepEqual(s.linux?.resources?.memory, { disableOOMKiller: false });
    assert.deepEqual(s.linux?.resources?.cpu, { shares: 0 });
    assert.equal(s.linux?.resources?.pids, undefined);
    assert.equal(s.linux?.cgroupsPath, `/docker/${ID}`);
    assert.deepEqual(s.linux?.sysctl, { 'net.ipv4.ip_unprivileged_port_start': '0', 'net.ipv4.ping_group_range': '0 2147483647' });
    assert.equal((s.linux?.seccomp as any)?.defaultAction, 'SCMP_ACT_ERRNO');
    validateSpec(s);
  });

  test('--privileged: every capability and host device, no masks, no seccomp, /sys and cgroups writable', () => {
    const devices = [{ path: '/dev/sda', device: { type: 'b' as const, major: 8, minor: 0, fileMode: 0o660, uid: 0, gid: 6 } }];
    const s = spec(
      {},
      { Privileged: true, Devices: [{ PathOnHost: '/dev/sda', PathInContainer: '/dev/sda', CgroupPermissions: 'r' }] },
      { host: { arch: 'x86_64', kernel: '6.18.0', lastCap: 40, devices } },
    );
    assert.equal(s.process?.capabilities?.bounding?.length, 41);
    assert.deepEqual(s.linux?.devices, [{ path: '/dev/sda', type: 'b', major: 8, minor: 0, fileMode: 0o660, uid: 0, gid: 6 }]);
    assert.deepEqual(s.linux?.resources?.devices, [{ allow: true, access: 'rwm' }]);
    assert.equal(s.linux?.maskedPaths, undefined);
    assert.equal(s.linux?.readonlyPaths, undefined);
    assert.equal(s.linux?.seccomp, undefined);
    assert.deepEqual(mount(s.mounts, '/sys')?.options, ['nosuid', 'noexec', 'nodev']);
    assert.deepEqual(mount(s.mounts, '/sys/fs/cgroup')?.options, ['nosuid', 'noexec', 'nodev']);
  });

  test('a non-root user gets only the bounding set (as execve would)', () => {
    const s = spec({ User: 'app' }, { GroupAdd: ['7'] });
    assert.deepEqual(s.process?.user, { uid: 1000, gid: 1000, additionalGids: [1000, 29, 7] });
    assert.deepEqual(s.process?.capabilities, { bounding: DEFAULT_CAPABILITIES });
  });

  test('-t, --read-only, --shm-size, --ulimit, no-new-privileges, --oom-score-adj', () => {
    const s = spec(
      { Tty: true },
      {
        ReadonlyRootfs: true,
        ShmSize: 32 << 20,
        Ulimits: [{ Name: 'nofile', Soft: 100, Hard: 200 }],
        SecurityOpt: ['no-new-privileges'],
        OomScoreAdj: 100,
      },
      { host: { arch: 'x86_64', kernel: '6.18.0', defaultUlimits: { nofile: { soft: 1, hard: 1 }, nproc: { soft: 5, hard: 6 } } } },
    );
    assert.equal(s.process?.terminal, true);
    assert.ok(s.process?.env?.includes('TERM=xterm'));
    assert.deepEqual(s.root, { path: '/r/rootfs', readonly: true });
    assert.deepEqual(mount(s.mounts, '/etc/resolv.conf')?.options, ['rbind', 'ro', 'rprivate']);
    assert.equal(mount(s.mounts, '/dev/shm')?.options?.at(-1), 'size=33554432');
    assert.deepEqual(s.process?.rlimits, [
      { type: 'RLIMIT_NOFILE', hard: 200, soft: 100 },
      { type: 'RLIMIT_NPROC', hard: 6, soft: 5 },
    ]);
    assert.equal(s.process?.noNewPrivileges, true);
    assert.equal(s.process?.oomScoreAdj, 100);
    const twice = spec(
      {},
      {
        Ulimits: [
          { Name: 'nofile', Soft: 1, Hard: 2 },
          { Name: 'core', Soft: 0, Hard: 0 },
          { Name: 'nofile', Soft: 3, Hard: 4 },
        ],
      },
    );
    assert.deepEqual(twice.process?.rlimits, [
      { type: 'RLIMIT_NOFILE', hard: 4, soft: 3 },
      { type: 'RLIMIT_CORE', hard: 0, soft: 0 },
    ]);
  });

  test('resources from --memory, --memory-swap, --memory-reservation, --cpus, --cpu-shares, --cpuset-cpus, --pids-limit', () => {
    const r = spec({}, { Memory: 64 << 20, MemoryReservation: 32 << 20, NanoCpus: 1.5e9, CpuShares: 512, CpusetCpus: '0', PidsLimit: 50 })
      .linux?.resources;
    assert.deepEqual(r?.memory, { limit: 64 << 20, reservation: 32 << 20, swap: 128 << 20, disableOOMKiller: false });
    assert.deepEqual(r?.cpu, { shares: 512, cpus: '0', quota: 150000, period: 100000 });
    assert.deepEqual(r?.pids, { limit: 50 });
    const u = spec({}, { Memory: 64 << 20, MemorySwap: -1, PidsLimit: -1, CpuPeriod: 50000, CpuQuota: 25000, MemorySwappiness: 10 }).linux
      ?.resources;
    assert.deepEqual(u?.memory, { limit: 64 << 20, swappiness: 10, disableOOMKiller: false });
    assert.deepEqual(u?.cpu, { shares: 0, period: 50000, quota: 25000 });
    assert.equal(u?.pids, undefined);
  });

  test('--cap-add/--cap-drop reach the seccomp profile (CAP_SYS_ADMIN allows mount)', () => {
    const names = (s: any) => s.linux.seccomp.syscalls.flatMap((r: any) => r.names);
    assert.ok(!names(spec()).includes('mount'));
    assert.ok(names(spec({}, { CapAdd: ['sys_admin'] })).includes('mount'));
    assert.equal(spec({}, { SecurityOpt: ['seccomp=unconfined'] }).linux?.seccomp, undefined);
    const custom = spec(
      {},
      {
        SecurityOpt: [
          `seccomp=${JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mount'], action: 'SCMP_ACT_ERRNO' }] })}`,
        ],
      },
    );
    assert.deepEqual(custom.linux?.seccomp, {
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [{ names: ['mount'], action: 'SCMP_ACT_ERRNO' }],
    });
    refuses(() => spec({}, { SecurityOpt: ['seccomp={bad'] }), /^Decoding seccomp profile failed: /);
  });

  test('namespaces: host and container: modes as data', () => {
    const s = spec({}, { NetworkMode: 'host', PidMode: 'host', IpcMode: 'host', UTSMode: 'host' });
    assert.deepEqual(s.linux?.namespaces, [{ type: 'mount' }]);
    assert.equal(s.hostname, undefined);
    assert.deepEqual(mount(s.mounts, '/dev/shm'), {
      destination: '/dev/shm',
      type: 'bind',
      source: '/dev/shm',
      options: ['rbind', 'rprivate'],
    });
    assert.equal(s.linux?.sysctl?.['net.ipv4.ip_unprivileged_port_start'], undefined, 'the host network namespace is not ours to tune');
    const j = spec(
      {},
      { NetworkMode: 'container:web', PidMode: 'container:web', IpcMode: 'container:web' },
      { namespacePath: (ref, type) => `/proc/42/ns/${type === 'network' ? 'net' : type}#${ref}`, shmPath: (ref) => `/shm/${ref}` },
    );
    assert.deepEqual(j.linux?.namespaces, [
      { type: 'mount' },
      { type: 'network', path: '/proc/42/ns/net#web' },
      { type: 'uts' },
      { type: 'pid', path: '/proc/42/ns/pid#web' },
      { type: 'ipc', path: '/proc/42/ns/ipc#web' },
    ]);
    assert.equal(mount(j.mounts, '/dev/shm')?.source, '/shm/web');
    assert.equal(mount(spec({}, { IpcMode: 'none' }).mounts, '/dev/shm'), undefined);
    assert.deepEqual(spec({}, { CgroupnsMode: 'private' }).linux?.namespaces?.at(-1), { type: 'cgroup' });
    refuses(() => spec({}, { PidMode: 'bogus' }), 'invalid PidMode: bogus');
    refuses(() => spec({}, { NetworkMode: 'container:web' }), /cannot join the network namespace of container web/);
  });

  test('--sysctl: namespaced ones only; --domainname as kernel.domainname', () => {
    const s = spec(
      { Domainname: 'example.org' },
      { Sysctls: { 'net.ipv4.ip_forward': '1', 'kernel.shmmax': '100', 'fs.mqueue.msg_max': '20' } },
    );
    assert.equal(s.linux?.sysctl?.['kernel.domainname'], 'example.org');
    assert.equal(s.linux?.sysctl?.['net.ipv4.ip_forward'], '1');
    refuses(() => spec({}, { Sysctls: { 'kernel.panic': '1' } }), 'sysctl "kernel.panic" is not in a separate kernel namespace');
    refuses(
      () => spec({}, { NetworkMode: 'host', Sysctls: { 'net.ipv4.ip_forward': '1' } }),
      'sysctl "net.ipv4.ip_forward" not allowed in host network namespace',
    );
    refuses(() => spec({}, { IpcMode: 'host', Sysctls: { 'kernel.shmmax': '1' } }), /not allowed in host IPC namespace/);
    assert.equal(
      spec({}, { Sysctls: { 'net.ipv4.ping_group_range': '1 1' } }).linux?.sysctl?.['net.ipv4.ping_group_range'],
      '1 1',
      'the request wins',
    );
  });

  test('--device and --device-cgroup-rule', () => {
    const deviceInfo = { '/dev/null': { type: 'c' as const, major: 1, minor: 3, fileMode: 0o666, uid: 0, gid: 0 } };
    const s = spec(
      {},
      {
        Devices: [{ PathOnHost: '/dev/null', PathInContainer: '/dev/mynull', CgroupPermissions: 'rw' }],
        DeviceCgroupRules: ['c 42:* rmw'],
      },
      { host: { arch: 'x86_64', kernel: '6.18.0', deviceInfo } },
    );
    assert.deepEqual(s.linux?.devices, [{ path: '/dev/mynull', type: 'c', major: 1, minor: 3, fileMode: 0o666, uid: 0, gid: 0 }]);
    assert.deepEqual(s.linux?.resources?.devices?.slice(-2), [
      { allow: true, type: 'c', major: 1, minor: 3, access: 'rw' },
      { allow: true, type: 'c', major: 42, minor: -1, access: 'rmw' },
    ]);
    refuses(
      () => spec({}, { Devices: [{ PathOnHost: '/dev/nope', PathInContainer: '', CgroupPermissions: 'rwm' }] }),
      /adding custom device "\/dev\/nope": not a device node/,
    );
    assert.deepEqual(parseDeviceCgroupRule('a *:* m'), { allow: true, type: 'a', major: -1, minor: -1, access: 'm' });
    refuses(() => parseDeviceCgroupRule('x 1:1 rwm'), "invalid device cgroup format 'x 1:1 rwm'");
  });

  test('mounts from the engine are sorted with the container files by depth', () => {
    const s = spec(
      {},
      {},
      {
        extraMounts: [
          { destination: '/a/b/c', type: 'bind', source: '/v1' },
          { destination: '/data', type: 'bind', source: '/v2' },
        ],
      },
    );
    assert.deepEqual(
      s.mounts?.slice(7).map((m) => m.destination),
      ['/data', '/etc/resolv.conf', '/etc/hostname', '/etc/hosts', '/a/b/c'],
    );
  });

  test('--tmpfs: moby defaults merged with the options, the last of a kind winning', () => {
    const s = spec({}, { Tmpfs: { '/run': 'size=1m,exec', '/a/b/c': '' } });
    assert.deepEqual(mount(s.mounts, '/run'), {
      destination: '/run',
      type: 'tmpfs',
      source: 'tmpfs',
      options: ['nosuid', 'nodev', 'rprivate', 'size=1m', 'exec'],
    });
    assert.deepEqual(mount(s.mounts, '/a/b/c')?.options, ['noexec', 'nosuid', 'nodev', 'rprivate']);
    assert.deepEqual(
      s.mounts?.slice(7).map((m) => m.destination),
      ['/run', '/etc/resolv.conf', '/etc/hostname', '/etc/hosts', '/a/b/c'],
    );
    assert.deepEqual(mergeTmpfsOptions(['defaults', 'size=1', 'mode=1777', 'size=2', 'shared', 'rprivate', 'ro']), [
      'mode=1777',
      'size=2',
      'rprivate',
      'ro',
    ]);
    refuses(() => spec({}, { Tmpfs: { '/x': 'bogus' } }), 'Invalid tmpfs option ["bogus"]');
    refuses(() => spec({}, { Tmpfs: { '/x': 'foo=1' } }), 'Invalid tmpfs option ["foo" "1"]');
    refuses(() => spec({}, { Tmpfs: { rel: '' } }), /mount path must be absolute/);
  });

  test('--security-opt parsing and systempaths=unconfined (empty MaskedPaths/ReadonlyPaths)', () => {
    assert.deepEqual(parseSecurityOpt(['no-new-privileges:true', 'apparmor=x', 'label=disable']), {
      noNewPrivileges: true,
      apparmor: 'x',
      label: ['disable'],
    });
    assert.equal(parseSecurityOpt(['no-new-privileges=false']).noNewPrivileges, false);
    refuses(() => parseSecurityOpt(['bogus']), 'invalid --security-opt 1: "bogus"');
    refuses(() => parseSecurityOpt(['no-new-privileges=maybe']), 'invalid --security-opt 2: "no-new-privileges=maybe"');
    refuses(() => parseSecurityOpt(['foo=bar']), 'invalid --security-opt 2: "foo=bar"');
    const s = spec({}, { MaskedPaths: [], ReadonlyPaths: [] });
    assert.equal(s.linux?.maskedPaths, undefined);
    assert.equal(s.linux?.readonlyPaths, undefined);
  });

  test('a create body straight from the wire', () => {
    const req = decodeCreateBody({ Cmd: 'echo hi', Tty: true, HostConfig: { CapDrop: 'ALL', Memory: 64 << 20 } });
    const s = buildSpec({
      id: ID,
      config: mergeConfig({ image: undefined, request: req.config, id: ID }),
      hostConfig: req.hostConfig,
      rootfs: '/r',
      hostsPath: '/h',
      hostnamePath: '/n',
      resolvConfPath: '/c',
      host: { arch: 'aarch64', kernel: '5.10' },
    });
    assert.deepEqual(s.process?.args, ['echo hi']);
    assert.deepEqual(s.process?.capabilities?.bounding, []);
    assert.equal(s.linux?.cgroupsPath, `/berth/${ID}`);
    assert.deepEqual((s.linux?.seccomp as any)?.architectures, ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM']);
    validateSpec(s);
  });
});

describe('blkio options', () => {
  const blockDevices = { '/dev/vda': { major: 254, minor: 0 }, '/dev/sdb': { major: 8, minor: 16 } };
  const body = decodeCreateBody({
    HostConfig: {
      BlkioWeight: 300,
      BlkioWeightDevice: [{ Path: '/dev/sdb', Weight: 200 }],
      BlkioDeviceReadBps: [{ Path: '/dev/vda', Rate: 1048576 }],
      BlkioDeviceWriteBps: [{ Path: '/dev/sdb', Rate: 2097152 }],
      BlkioDeviceReadIOps: [{ Path: '/dev/vda', Rate: 100 }],
      BlkioDeviceWriteIOps: null,
    },
  });

  test('weights and throttles by major:minor, as moby stats the paths', () => {
    const s = spec({}, body.hostConfig, { host: { arch: 'x86_64', kernel: '6.18.0', blockDevices } });
    assert.deepEqual(s.linux?.resources?.blockIO, {
      weight: 300,
      weightDevice: [{ major: 8, minor: 16, weight: 200 }],
      throttleReadBpsDevice: [{ major: 254, minor: 0, rate: 1048576 }],
      throttleWriteBpsDevice: [{ major: 8, minor: 16, rate: 2097152 }],
      throttleReadIOPSDevice: [{ major: 254, minor: 0, rate: 100 }],
    });
  });

  test('weights are discarded where the host cannot weigh; throttles stay', () => {
    const s = spec({}, body.hostConfig, { host: { arch: 'x86_64', kernel: '6.18.0', blockDevices, blkioWeight: false } });
    assert.deepEqual(s.linux?.resources?.blockIO, {
      weight: 0,
      throttleReadBpsDevice: [{ major: 254, minor: 0, rate: 1048576 }],
      throttleWriteBpsDevice: [{ major: 8, minor: 16, rate: 2097152 }],
      throttleReadIOPSDevice: [{ major: 254, minor: 0, rate: 100 }],
    });
  });

  test('the decoder keeps the lists and refuses what Go would', () => {
    assert.deepEqual(body.hostConfig.BlkioDeviceReadBps, [{ Path: '/dev/vda', Rate: 1048576 }]);
    assert.equal(body.hostConfig.BlkioDeviceWriteIOps, undefined);
    assert.throws(() => decodeCreateBody({ HostConfig: { BlkioDeviceReadBps: [{ Path: '/dev/vda', Rate: -1 }] } }), /uint64/);
    assert.throws(() => decodeCreateBody({ HostConfig: { BlkioWeightDevice: {} } }), /WeightDevice/);
    // a path the engine found no device number for is refused, not written as 0:0
    refuses(
      () => spec({}, body.hostConfig, { host: { arch: 'x86_64', kernel: '6.18.0', blockDevices: {} } }),
      /no device number for block device '\/dev\/sdb'/,
    );
  });
});
