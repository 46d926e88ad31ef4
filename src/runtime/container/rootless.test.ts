import assert from 'node:assert/strict';
import { test } from 'node:test';
import { controllersWanted, findProgram } from './rootless.js';

test('controllersWanted: the controllers a config would write to, device rules aside', () => {
  assert.deepEqual([...controllersWanted({})], []);
  assert.deepEqual([...controllersWanted({ devices: [{ allow: false, access: 'rwm' }] })], []);
  // Zero and empty values ask for nothing (runc's rootless rule looks at what would be written).
  assert.deepEqual(
    [...controllersWanted({ memory: { limit: 0 }, cpu: { shares: 0, cpus: '' }, pids: { limit: 0 }, hugepageLimits: [] })],
    [],
  );
  assert.deepEqual([...controllersWanted({ pids: { limit: 42 } })], ['pids']);
  assert.deepEqual([...controllersWanted({ memory: { swappiness: 0 } })], ['memory']);
  assert.deepEqual([...controllersWanted({ cpu: { cpus: '0-1', quota: 1000 } })].sort(), ['cpu', 'cpuset']);
  assert.deepEqual([...controllersWanted({ network: { classID: 7 }, unified: { 'memory.high': '1G' } })].sort(), ['net_cls', 'unified']);
  assert.deepEqual([...controllersWanted({ blockIO: { weight: 500 } })], ['blkio']);
});

test('findProgram looks on PATH, then in the system directories', () => {
  assert.match(findProgram('sh', '') ?? '', /^\/(usr\/)?s?bin\/sh$/);
  assert.equal(findProgram('berth-no-such-program', '/usr/bin'), undefined);
});
