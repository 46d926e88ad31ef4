import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  blkioWeightToIoWeight,
  formatInt,
  hugepageDirToSize,
  mergeResources,
  pageSizeBytes,
  parseResources,
  ramInBytes,
  sharesToWeight,
  sharesToWeightLinear,
  swapToV2,
} from './resources.js';

test('cpu shares → weight: the quadratic fit (runc ≥ 1.3, crun ≥ 1.23) maps min, default and max', () => {
  // the table of opencontainers/cgroups' TestConvertCPUSharesToCgroupV2Value
  const cases: [number, number][] = [
    [0, 0],
    [1, 1],
    [2, 1],
    [3, 2],
    [1024, 100],
    [262143, 10000],
    [262144, 10000],
    [262145, 10000],
  ];
  for (const [shares, weight] of cases) assert.equal(sharesToWeight(shares), weight, `shares ${shares}`);
  // monotonic over the whole range
  let last = 0;
  for (let s = 2; s <= 262144; s += 97) {
    const w = sharesToWeight(s);
    assert.ok(w >= last && w >= 1 && w <= 10000, `shares ${s} → ${w}`);
    last = w;
  }
});

test('cpu shares → weight: the older linear formula, for reference', () => {
  assert.equal(sharesToWeightLinear(0), 0);
  assert.equal(sharesToWeightLinear(2), 1);
  assert.equal(sharesToWeightLinear(1024), 39);
  assert.equal(sharesToWeightLinear(262144), 10000);
});

test('blkio weight → io.weight as runc converts it', () => {
  assert.equal(blkioWeightToIoWeight(0), 0);
  assert.equal(blkioWeightToIoWeight(10), 1);
  assert.equal(blkioWeightToIoWeight(500), 4950);
  assert.equal(blkioWeightToIoWeight(1000), 10000);
});

test('memory+swap → memory.swap.max (runc TestConvertMemorySwapToCgroupV2Value)', () => {
  const ok: [number, number, number][] = [
    [0, 0, 0],
    [-1, 0, -1],
    [-1, -1, -1],
    [0, -1, -1], // unlimited memory, swap unset: unlimited swap
    [-1, 1000, -1],
    [1000, 1000, 0],
    [500, 200, 300],
  ];
  for (const [swap, limit, want] of ok) assert.equal(swapToV2(swap, limit), want, `swap ${swap} limit ${limit}`);
  assert.throws(() => swapToV2(300, 400), /memory\+swap limit should be >= memory limit/);
  assert.throws(() => swapToV2(300, 0), /without memory limit/);
  assert.throws(() => swapToV2(300, -1), /without memory limit/);
});

test('config errors name the field', () => {
  assert.throws(
    () => parseResources({ memory: { limit: '1g' } }),
    /config\.json: linux\.resources\.memory\.limit: expected integer, got string/,
  );
  assert.throws(() => parseResources({ cpu: { shares: -1 } }), /linux\.resources\.cpu\.shares: expected non-negative integer/);
  assert.throws(() => parseResources({ pids: {} }), /linux\.resources\.pids\.limit: required field is missing/);
  assert.throws(() => parseResources({ devices: [{ allow: true, access: 'rwx' }] }), /devices\[0\]\.access: invalid device access 'rwx'/);
  assert.throws(() => parseResources({ unified: { '../x': '1' } }), /invalid key '\.\.\/x'/);
  assert.throws(() => parseResources({ hugepageLimits: [{ pageSize: '2M', limit: 1 }] }), /pageSize: invalid page size '2M'/);
  assert.throws(() => parseResources({ memory: { swappiness: 101 } }), /valid range is 0-100/);
  assert.throws(
    () => parseResources({ blockIO: { weight: 70000 } }, 'resources'),
    /resources\.blockIO\.weight: expected integer in 0\.\.65535/,
  );
  assert.deepEqual(parseResources(undefined), {});
  const r = parseResources({ memory: { limit: 1, swappiness: null }, devices: [{ allow: false, major: null }] });
  assert.equal(r.memory?.limit, 1);
});

test('integers print exactly, beyond 2^53 too', () => {
  assert.equal(formatInt(2 ** 63 - 4096), '9223372036854771712');
  assert.equal(formatInt(-1), '-1');
  assert.equal(formatInt(1e21), '1000000000000000000000');
});

test('sizes: docker units as runc update parses them, huge page names', () => {
  assert.equal(ramInBytes('100'), 100);
  assert.equal(ramInBytes('64m'), 64 * 1024 * 1024);
  assert.equal(ramInBytes('1g'), 1024 ** 3);
  assert.equal(ramInBytes('1.5g'), 1.5 * 1024 ** 3);
  assert.equal(ramInBytes('512KiB'), 512 * 1024);
  assert.equal(ramInBytes('2 MB'), 2 * 1024 * 1024);
  assert.equal(ramInBytes('x'), undefined);
  assert.equal(ramInBytes('-5'), undefined);
  assert.equal(hugepageDirToSize('hugepages-2048kB'), '2MB');
  assert.equal(hugepageDirToSize('hugepages-1048576kB'), '1GB');
  assert.equal(hugepageDirToSize('hugepages-64kB'), '64KB');
  assert.equal(pageSizeBytes('2MB'), 2097152);
});

test('update merges as runc: given fields replace, absent (or 0) keep, -1 memory frees swap', () => {
  const cur = parseResources({
    memory: { limit: 100, swap: 200, reservation: 50 },
    cpu: { shares: 512, quota: 1000, cpus: '0' },
    pids: { limit: 10 },
    devices: [{ allow: false, access: 'rwm' }],
    unified: { 'memory.high': '90' },
  });
  const m = mergeResources(cur, {
    memory: { limit: 300 },
    cpu: { quota: 0, period: 50000 },
    pids: { limit: 0 },
    unified: { 'pids.max': '5' },
  });
  assert.deepEqual(m.memory, { limit: 300, swap: 200, reservation: 50 });
  assert.deepEqual(m.cpu, { shares: 512, quota: 1000, period: 50000, cpus: '0' });
  assert.deepEqual(m.pids, { limit: 10 });
  assert.deepEqual(m.devices, cur.devices);
  assert.deepEqual(m.unified, { 'memory.high': '90', 'pids.max': '5' });
  assert.deepEqual(mergeResources(cur, { memory: { limit: -1 } }).memory, { limit: -1, swap: -1, reservation: 50 });
  assert.deepEqual(mergeResources(cur, { memory: { limit: -1, swap: 400 } }).memory?.swap, 400);
  // the input is not modified
  assert.equal(cur.memory?.limit, 100);
});
