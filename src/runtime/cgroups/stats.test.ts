import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  emptyStats,
  parseBlkioStat,
  parseCpuList,
  pidsStats,
  statsJson,
  v1BlkioStats,
  v1CpuacctStats,
  v1MemoryStats,
  v2CpuStats,
  v2IoStats,
  v2MemoryStats,
} from './stats.js';
import type { FileView } from './writes.js';

const view = (files: Record<string, string>): FileView => ({ exists: (f) => f in files, read: (f) => files[f] });

test('v1 cpuacct: totals, per cpu, user/kernel in ns (USER_HZ ticks), in runc key order', () => {
  const s = emptyStats();
  v1CpuacctStats(
    s,
    view({
      'cpuacct.usage': '42907717\n',
      'cpuacct.usage_percpu': '7927837 34979880 \n',
      'cpuacct.usage_all': 'cpu user system\n0 0 8000000\n1 16000000 28000000\n',
      'cpuacct.stat': 'user 1\nsystem 2\n',
    }),
  );
  assert.equal(
    JSON.stringify(s.cpu.usage),
    '{"total":42907717,"percpu":[7927837,34979880],"percpu_kernel":[8000000,28000000],"percpu_user":[0,16000000],"kernel":20000000,"user":10000000}',
  );
});

test('v1 memory: entries from the four file families, zero values left out as runc does', () => {
  const s = emptyStats();
  v1MemoryStats(
    s,
    view({
      'memory.stat': 'cache 0\nrss 49152\ntotal_rss 49152\n',
      'memory.usage_in_bytes': '659456',
      'memory.max_usage_in_bytes': '2228224',
      'memory.limit_in_bytes': '67108864',
      'memory.failcnt': '0',
      'memory.memsw.usage_in_bytes': '659456',
      'memory.memsw.max_usage_in_bytes': '2228224',
      'memory.memsw.limit_in_bytes': '9223372036854771712',
      'memory.memsw.failcnt': '0',
      'memory.kmem.tcp.usage_in_bytes': '0',
      'memory.kmem.tcp.limit_in_bytes': '9223372036854771712',
      'memory.kmem.tcp.max_usage_in_bytes': '0',
      'memory.kmem.tcp.failcnt': '0',
    }),
  );
  assert.equal(
    statsJson(s.memory),
    '{"usage":{"limit":67108864,"usage":659456,"max":2228224,"failcnt":0},"swap":{"limit":9223372036854771712,"usage":659456,"max":2228224,"failcnt":0},"kernel":{"limit":0,"failcnt":0},"kernelTCP":{"limit":9223372036854771712,"failcnt":0},"raw":{"cache":0,"rss":49152,"total_rss":49152}}',
  );
});

test('v2 memory: max as 2^64-1 printed exactly, swap reported as memory+swap', () => {
  const s = emptyStats();
  v2MemoryStats(
    s,
    view({
      'memory.stat': 'file 4096\nanon 8192\n',
      'memory.current': '12288',
      'memory.max': 'max',
      'memory.events': 'low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n',
      'memory.swap.current': '100',
      'memory.swap.max': 'max',
    }),
  );
  assert.equal(s.memory.cache, 4096);
  assert.equal(s.memory.usage.failcnt, 3);
  assert.equal(s.memory.swap.usage, 12388);
  assert.match(statsJson(s.memory.usage), /"limit":18446744073709551615/);
});

test('v2 cpu and io', () => {
  const s = emptyStats();
  v2CpuStats(s, view({ 'cpu.stat': 'usage_usec 100\nuser_usec 60\nsystem_usec 40\nnr_periods 5\nnr_throttled 2\nthrottled_usec 7\n' }));
  assert.deepEqual(s.cpu, {
    usage: { total: 100000, kernel: 40000, user: 60000 },
    throttling: { periods: 5, throttledPeriods: 2, throttledTime: 7000 },
  });
  v2IoStats(s, view({ 'io.stat': '254:0 rbytes=1024 wbytes=0 rios=3 wios=0 dbytes=0 dios=0\n' }));
  assert.deepEqual(s.blkio.ioServiceBytesRecursive, [
    { major: 254, minor: undefined, op: 'Read', value: 1024 },
    { major: 254, minor: undefined, op: 'Write', value: undefined },
  ]);
  assert.equal(s.blkio.ioServicedRecursive?.[0]?.value, 3);
});

test('v1 blkio: the first group of files the kernel has (BFQ here), pids, cpu lists', () => {
  const s = emptyStats();
  v1BlkioStats(
    s,
    view({
      'blkio.bfq.io_serviced_recursive': '254:0 Read 3\n254:0 Write 1\nTotal 4\n',
      'blkio.bfq.io_service_bytes_recursive': '254:0 Read 4096\n',
    }),
  );
  assert.deepEqual(
    s.blkio.ioServicedRecursive?.map((e) => `${e.major}:${e.minor} ${e.op} ${e.value}`),
    ['254:undefined Read 3', '254:undefined Write 1'],
  );
  assert.deepEqual(parseBlkioStat('8:16 Read 5\n'), [{ major: 8, minor: 16, op: 'Read', value: 5 }]);
  pidsStats(s, view({ 'pids.current': '3', 'pids.max': 'max' }));
  assert.deepEqual(s.pids, { current: 3, limit: undefined });
  assert.deepEqual(parseCpuList('0-2,7'), [0, 1, 2, 7]);
  assert.equal(parseCpuList(''), undefined);
});

test('the event JSON has runc shape and order', () => {
  const s = emptyStats();
  const text = statsJson({ type: 'stats', id: 'x', data: s });
  assert.match(text, /^\{"type":"stats","id":"x","data":\{"cpu":\{"usage":\{"kernel":0,"user":0\},"throttling":\{\}\},"cpuset":\{/);
  assert.match(text, /"pids":\{\},"blkio":\{\},"hugetlb":\{\},"intel_rdt":\{\},"network_interfaces":null\}\}$/);
  assert.equal(statsJson({ type: 'oom', id: 'x' }), '{"type":"oom","id":"x"}');
});
