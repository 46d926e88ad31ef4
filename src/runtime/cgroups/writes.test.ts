import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runProgram } from './bpf.js';
import { parseResources } from './resources.js';
import { type CgroupWrite, type HostFacts, planResources, v2ControllersNeeded } from './writes.js';

type Files = Record<string, string>;

/** A host: v1 controllers with the files their container cgroup has, and/or a cgroup2 cgroup. */
function host(v1: Record<string, Files>, v2?: { controllers: string[]; files?: Files }): HostFacts {
  return {
    v1: new Set(Object.keys(v1)),
    v2: v2 ? new Set(v2.controllers) : undefined,
    v2Dir: v2 ? '/sys/fs/cgroup/c1' : undefined,
    hugepageSizes: ['2MB', '1GB'],
    view: (where) => {
      const files = where === 'cgroup2' ? (v2?.files ?? {}) : (v1[where] ?? {});
      return { exists: (f) => f in files, read: (f) => files[f] };
    },
  };
}

const V1_ALL = (): Record<string, Files> => ({
  cpuset: {},
  devices: { 'devices.list': 'a *:* rwm\n' },
  memory: {
    'memory.limit_in_bytes': '9223372036854771712\n',
    'memory.memsw.limit_in_bytes': '9223372036854771712\n',
    'memory.kmem.limit_in_bytes': '0',
  },
  cpu: { 'cpu.idle': '0', 'cpu.cfs_burst_us': '0' },
  pids: {},
  blkio: { 'blkio.bfq.weight': '100' },
  hugetlb: {},
  net_cls: {},
  net_prio: {},
  rdma: {},
});

const lines = (ws: readonly CgroupWrite[]) => ws.map((w) => `${w.where} ${w.file}=${w.value}`);

test('v1: every resource to its controller file, in runc order', () => {
  const r = parseResources({
    memory: { limit: 67108864, reservation: 33554432, swap: 134217728, kernel: 1048576, swappiness: 10, disableOOMKiller: true },
    cpu: {
      shares: 512,
      quota: 50000,
      period: 100000,
      burst: 1000,
      realtimeRuntime: 1000,
      realtimePeriod: 100000,
      cpus: '0-1',
      mems: '0',
      idle: 0,
    },
    pids: { limit: 42 },
    blockIO: {
      weight: 500,
      weightDevice: [{ major: 8, minor: 0, weight: 300 }],
      throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1048576 }],
      throttleWriteIOPSDevice: [{ major: 8, minor: 0, rate: 100 }],
    },
    hugepageLimits: [{ pageSize: '2MB', limit: 4194304 }],
    network: { classID: 0x100001, priorities: [{ name: 'eth0', priority: 5 }] },
    rdma: { mlx5_1: { hcaHandles: 3, hcaObjects: 10000 } },
  });
  const plan = planResources(r, host(V1_ALL()), { skipDevices: true });
  assert.deepEqual(lines(plan.writes), [
    'cpuset cpuset.cpus=0-1',
    'cpuset cpuset.mems=0',
    // memsw grows past the current memory limit? no (current is huge): memory first
    'memory memory.limit_in_bytes=67108864',
    'memory memory.memsw.limit_in_bytes=134217728',
    'memory memory.kmem.limit_in_bytes=1048576',
    'memory memory.soft_limit_in_bytes=33554432',
    'memory memory.oom_control=1',
    'memory memory.swappiness=10',
    'cpu cpu.shares=512',
    'cpu cpu.cfs_period_us=100000',
    'cpu cpu.cfs_quota_us=50000',
    'cpu cpu.cfs_burst_us=1000',
    'cpu cpu.rt_period_us=100000',
    'cpu cpu.rt_runtime_us=1000',
    'cpu cpu.idle=0',
    'pids pids.max=42',
    'blkio blkio.bfq.weight=500',
    'blkio blkio.bfq.weight_device=8:0 300',
    'blkio blkio.throttle.read_bps_device=8:0 1048576',
    'blkio blkio.throttle.write_iops_device=8:0 100',
    'hugetlb hugetlb.2MB.limit_in_bytes=4194304',
    'net_cls net_cls.classid=1048577',
    'net_prio net_prio.ifpriomap=eth0 5',
    'rdma rdma.max=mlx5_1 hca_handle=3 hca_object=10000',
  ]);
  assert.ok(plan.writes.find((w) => w.file === 'cpu.shares')?.readBack);
  assert.ok(plan.writes.find((w) => w.file === 'cpu.cfs_period_us')?.retryAfterEinval);
  assert.equal(plan.deviceProgram, undefined);
  // kernelTCP was not asked for; kernel was, and the file exists: no warnings
  assert.deepEqual(plan.warnings, []);
});

test('v1 memory and swap are written in the order the kernel accepts', () => {
  const facts = (current: string) => host({ memory: { 'memory.limit_in_bytes': current, 'memory.memsw.limit_in_bytes': current } });
  const order = (current: string, limit: number, swap: number) =>
    lines(planResources(parseResources({ memory: { limit, swap } }), facts(current), { skipDevices: true }).writes);
  // growing: memsw first
  assert.deepEqual(order('1000', 2000, 3000), ['memory memory.memsw.limit_in_bytes=3000', 'memory memory.limit_in_bytes=2000']);
  // shrinking: memory first
  assert.deepEqual(order('5000', 2000, 3000), ['memory memory.limit_in_bytes=2000', 'memory memory.memsw.limit_in_bytes=3000']);
  // unlimited memory implies unlimited memsw, memsw first
  assert.deepEqual(order('5000', -1, 0), ['memory memory.memsw.limit_in_bytes=-1', 'memory memory.limit_in_bytes=-1']);
  // no swap accounting: a swap limit is refused with the reason
  assert.throws(
    () => planResources(parseResources({ memory: { limit: 1, swap: 2 } }), host({ memory: {} }), { skipDevices: true }),
    /swap accounting is disabled/,
  );
});

test('v1 devices: the deny-all transition from a fresh cgroup', () => {
  const plan = planResources(parseResources({ devices: [{ allow: false, access: 'rwm' }] }), host(V1_ALL()));
  assert.deepEqual(lines(plan.writes).slice(0, 3), [
    'devices devices.deny=a *:* rwm',
    'devices devices.allow=b *:* m',
    'devices devices.allow=c *:* m',
  ]);
});

test('v1: old CFQ weight files when the kernel has them; warnings for what the kernel lacks', () => {
  const v1 = V1_ALL();
  v1.blkio = { 'blkio.weight': '500' };
  v1.memory = { 'memory.limit_in_bytes': '1' };
  v1.cpu = {};
  const plan = planResources(
    parseResources({
      blockIO: { weight: 300, weightDevice: [{ major: 8, minor: 0, weight: 200, leafWeight: 100 }] },
      memory: { kernelTCP: 5 },
      cpu: { burst: 7 },
    }),
    host(v1),
    { skipDevices: true },
  );
  assert.deepEqual(lines(plan.writes), [
    'blkio blkio.weight=300',
    'blkio blkio.weight_device=8:0 200',
    'blkio blkio.leaf_weight_device=8:0 100',
  ]);
  assert.deepEqual(plan.warnings, [
    'memory.kernelTCP ignored: this kernel has no memory.kmem.tcp.limit_in_bytes',
    'cpu.burst ignored: this kernel has no cpu.cfs_burst_us',
  ]);
});

test('v1: unified is refused, a missing controller is named, network is only warned about', () => {
  assert.throws(
    () => planResources(parseResources({ unified: { 'memory.high': '1' } }), host(V1_ALL()), { skipDevices: true }),
    /unified resources are not supported on cgroup v1/,
  );
  assert.throws(
    () => planResources(parseResources({ hugepageLimits: [{ pageSize: '2MB', limit: 1 }] }), host({ memory: {} }), { skipDevices: true }),
    /cannot set hugetlb resources: the hugetlb controller is not available: it is not mounted as a cgroup v1 hierarchy/,
  );
  assert.throws(
    () => planResources(parseResources({ hugepageLimits: [{ pageSize: '4MB', limit: 1 }] }), host(V1_ALL()), { skipDevices: true }),
    /invalid hugepage size '4MB' \(this host has 2MB, 1GB\)/,
  );
  const plan = planResources(parseResources({ network: { classID: 1 } }), host({ memory: {} }), { skipDevices: true });
  assert.deepEqual(plan.warnings, ['network.classID ignored: no net_cls cgroup v1 hierarchy on this host']);
});

const V2_ALL = ['cpuset', 'cpu', 'io', 'memory', 'hugetlb', 'pids', 'rdma', 'misc'];

test('v2: runc fs2 mapping and conversions', () => {
  const r = parseResources({
    memory: { limit: 67108864, reservation: 33554432, swap: 134217728 },
    cpu: { shares: 1024, quota: 50000, period: 100000, cpus: '0', mems: '0', idle: 1 },
    pids: { limit: -1 },
    blockIO: {
      weight: 500,
      weightDevice: [{ major: 8, minor: 0, weight: 10 }],
      throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1024 }],
    },
    hugepageLimits: [{ pageSize: '1GB', limit: 0 }],
    unified: { 'memory.high': '50000000', 'cgroup.max.descendants': '3' },
  });
  const files = {
    'memory.swap.max': 'max',
    'cpu.idle': '0',
    'memory.high': 'max',
    'cgroup.max.descendants': 'max',
    'hugetlb.1GB.rsvd.max': 'max',
  };
  const plan = planResources(r, host({}, { controllers: V2_ALL, files }), { skipDevices: true });
  assert.deepEqual(lines(plan.writes), [
    'cgroup2 pids.max=max',
    'cgroup2 memory.swap.max=67108864', // swap - limit
    'cgroup2 memory.max=67108864',
    'cgroup2 memory.low=33554432',
    'cgroup2 io.weight=4950', // no BFQ: converted
    'cgroup2 io.weight=8:0 1',
    'cgroup2 io.max=8:0 rbps=1024',
    'cgroup2 cpu.weight=100', // 1024 shares
    'cgroup2 cpu.max=50000 100000',
    'cgroup2 cpu.idle=1',
    'cgroup2 cpuset.cpus=0',
    'cgroup2 cpuset.mems=0',
    'cgroup2 hugetlb.1GB.max=0',
    'cgroup2 hugetlb.1GB.rsvd.max=0',
    'cgroup2 memory.high=50000000',
    'cgroup2 cgroup.max.descendants=3',
  ]);
});

test('v2: swap equal to the limit means no swap; quota alone gets the default period; BFQ keeps v1 weights', () => {
  const files = { 'memory.swap.max': 'max', 'io.bfq.weight': 'default 100' };
  const plan = planResources(
    parseResources({ memory: { limit: 1000, swap: 1000 }, cpu: { quota: -1, period: 0 }, blockIO: { weight: 500 } }),
    host({}, { controllers: V2_ALL, files }),
    { skipDevices: true },
  );
  // quota -1 is "no limit": max
  assert.deepEqual(lines(plan.writes), [
    'cgroup2 memory.swap.max=0',
    'cgroup2 memory.max=1000',
    'cgroup2 io.bfq.weight=500',
    'cgroup2 cpu.max=max 100000',
  ]);
  const quota = planResources(parseResources({ cpu: { quota: 20000 } }), host({}, { controllers: V2_ALL }), { skipDevices: true });
  assert.deepEqual(lines(quota.writes), ['cgroup2 cpu.max=20000 100000']);
});

test('v2: what v2 cannot do is refused or warned about', () => {
  const h = host({}, { controllers: V2_ALL, files: { 'memory.current': '5000' } });
  assert.throws(
    () => planResources(parseResources({ cpu: { realtimeRuntime: 1 } }), h, { skipDevices: true }),
    /not supported on cgroup v2/,
  );
  assert.throws(
    () => planResources(parseResources({ memory: { limit: 4000, checkBeforeUpdate: true } }), h, { skipDevices: true }),
    /rejecting memory limit 4000 below current usage 5000/,
  );
  assert.throws(
    () => planResources(parseResources({ unified: { 'memory.nope': '1' } }), h, { skipDevices: true }),
    /unified resource 'memory.nope': no such cgroup file/,
  );
  assert.throws(
    () =>
      planResources(parseResources({ unified: { 'hugetlb.2MB.max': '1' } }), host({}, { controllers: ['memory'] }), { skipDevices: true }),
    /the 'hugetlb' controller is not available in the cgroup2 hierarchy/,
  );
  const plan = planResources(parseResources({ memory: { kernel: 5, swappiness: 0, disableOOMKiller: true } }), h, { skipDevices: true });
  assert.deepEqual(plan.writes, []);
  assert.equal(plan.warnings.length, 3);
});

test('v2: devices become a BPF program; an allow-all set attaches none', () => {
  const h = host({}, { controllers: V2_ALL });
  const plan = planResources(parseResources({ devices: [{ allow: false, access: 'rwm' }] }), h);
  assert.ok(plan.deviceProgram && plan.deviceProgram.length % 8 === 0);
  assert.equal(planResources(parseResources({}), h).deviceProgram, undefined);
  // decode and run it: /dev/null readable, /dev/mem not
  const bytes = plan.deviceProgram;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const insns = [];
  for (let i = 0; i < bytes.length; i += 8) {
    const regs = view.getUint8(i + 1);
    insns.push({
      code: view.getUint8(i),
      dst: regs & 0xf,
      src: regs >> 4,
      off: view.getInt16(i + 2, true),
      imm: view.getInt32(i + 4, true),
    });
  }
  assert.equal(runProgram(insns, { type: 2, access: 2, major: 1, minor: 3 }), 1);
  assert.equal(runProgram(insns, { type: 2, access: 2, major: 1, minor: 1 }), 0);
});

test('hybrid: each group goes to v1 when mounted there, else to cgroup2 (hugetlb on the CI host)', () => {
  const v1 = V1_ALL();
  delete v1.hugetlb;
  const h = host(v1, { controllers: ['hugetlb'] });
  const r = parseResources({
    memory: { limit: 100 },
    hugepageLimits: [{ pageSize: '2MB', limit: 2097152 }],
    devices: [{ allow: false, access: 'rwm' }],
  });
  const plan = planResources(r, h);
  assert.ok(lines(plan.writes).includes('memory memory.limit_in_bytes=100'));
  assert.ok(lines(plan.writes).includes('cgroup2 hugetlb.2MB.max=2097152'));
  assert.ok(lines(plan.writes).includes('devices devices.deny=a *:* rwm'));
  assert.equal(plan.deviceProgram, undefined, 'v1 devices controller preferred');
  assert.deepEqual(v2ControllersNeeded(r, h.v1), ['hugetlb']);
  assert.throws(
    () => planResources(parseResources({ memory: { limit: 1 } }), host({ cpu: {} }, { controllers: ['hugetlb'] }), { skipDevices: true }),
    /memory controller is not available: neither a cgroup v1 hierarchy nor the cgroup2 hierarchy/,
  );
});
