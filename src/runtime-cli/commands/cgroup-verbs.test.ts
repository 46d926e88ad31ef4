import assert from 'node:assert/strict';
import { test } from 'node:test';
import { features } from '../../runtime/features.js';
import { parseDuration } from './events.js';
import { filterPsOutput } from './ps.js';
import { resourcesFromFlags } from './update.js';

test('ps: the header and the lines of the container pids, as runc filters them', () => {
  const out =
    'UID        PID  PPID  C STIME TTY          TIME CMD\nroot         1     0  0 09:00 ?        00:00:01 init\nroot     27425     1  7 09:49 ?        00:00:00 sleep 1000\n';
  assert.equal(
    filterPsOutput(out, [27425]),
    'UID        PID  PPID  C STIME TTY          TIME CMD\nroot     27425     1  7 09:49 ?        00:00:00 sleep 1000\n',
  );
  assert.equal(filterPsOutput('  PID STAT\n   12 S\n', []), '  PID STAT\n');
  assert.throws(() => filterPsOutput('USER COMMAND\nroot x\n', [1]), /couldn't find PID field in ps output/);
});

test('events: Go durations', () => {
  assert.equal(parseDuration('5s'), 5000);
  assert.equal(parseDuration('100ms'), 100);
  assert.equal(parseDuration('1m30s'), 90_000);
  assert.equal(parseDuration('1.5h'), 5_400_000);
  assert.equal(parseDuration('0'), 0);
  assert.equal(parseDuration('-1s'), -1000);
  assert.equal(parseDuration('5'), undefined);
  assert.equal(parseDuration('5x'), undefined);
});

test("update: runc's flags become resources; unset and zero flags change nothing", () => {
  assert.deepEqual(
    resourcesFromFlags({
      memory: '64m',
      memorySwap: '-1',
      memoryReservation: '32M',
      kernelMemory: '1g',
      cpuShare: '512',
      cpuQuota: '-1',
      cpuPeriod: '100000',
      cpuRtPeriod: '1000000',
      cpuRtRuntime: '950000',
      cpusetCpus: '0',
      cpusetMems: '0',
      pidsLimit: '20',
      blkioWeight: '300',
    }),
    {
      blockIO: { weight: 300 },
      cpu: { cpus: '0', mems: '0', period: 100000, realtimePeriod: 1000000, shares: 512, quota: -1, realtimeRuntime: 950000 },
      memory: { limit: 67108864, swap: -1, reservation: 33554432, kernel: 1073741824 },
      pids: { limit: 20 },
    },
  );
  assert.deepEqual(resourcesFromFlags({ cpuShares: '100', pidsLimit: '0', blkioWeight: '0' }), { cpu: { shares: 100 } });
  assert.throws(() => resourcesFromFlags({ memory: 'lots' }), /invalid value for --memory: 'lots'/);
  assert.throws(() => resourcesFromFlags({ cpuPeriod: '-5' }), /invalid value for --cpu-period/);
  assert.throws(() => resourcesFromFlags({ l3CacheSchema: 'L3:0=f' }), /Intel RDT\/CAT: l3 cache schema is not supported/);
  assert.throws(() => resourcesFromFlags({ memBwSchema: 'MB:0=50' }), /Intel RDT\/MBA: memory bandwidth schema is not supported/);
});

test('features: the runtime-spec document', () => {
  const f = features('1.2.3');
  assert.equal(f.ociVersionMin, '1.0.0');
  assert.ok(f.hooks.includes('createRuntime'));
  assert.ok(f.mountOptions.includes('rbind') && f.mountOptions.includes('rprivate') && f.mountOptions.includes('tmpcopyup'));
  assert.deepEqual([...f.mountOptions], [...f.mountOptions].sort());
  assert.ok(f.linux.namespaces.includes('cgroup'));
  assert.ok(f.linux.capabilities.includes('CAP_SYS_ADMIN'));
  assert.deepEqual(f.linux.cgroup, { v1: true, v2: true, systemd: false, systemdUser: false, rdma: true });
  assert.equal(typeof f.linux.seccomp.enabled, 'boolean');
});
