import assert from 'node:assert/strict';
import { test } from 'node:test';
import { containerDeviceRules, DeviceEmulator, ruleString, v1DeviceWrites } from './devices.js';

/** `devices.list` of a runc 1.1.5 container with the default spec on this project's CI host, less 10:200 (see DEFAULT_DEVICE_RULES). */
const RUNC_DEFAULT_LIST = [
  'b *:* m',
  'c *:* m',
  'c 1:3 rwm',
  'c 1:5 rwm',
  'c 1:7 rwm',
  'c 1:8 rwm',
  'c 1:9 rwm',
  'c 5:0 rwm',
  'c 5:2 rwm',
  'c 136:* rwm',
];

function listOf(e: DeviceEmulator): string[] {
  if (e.defaultAllow) return ['a *:* rwm'];
  return e.sorted().map(ruleString);
}

test("the default spec's deny-all plus runc's defaults gives runc's devices.list", () => {
  const rules = containerDeviceRules([{ allow: false, access: 'rwm' }]);
  assert.deepEqual(listOf(DeviceEmulator.fromRules(rules)), RUNC_DEFAULT_LIST);
});

test('spec rules come first, the defaults after them (a spec deny of a default device is undone, as in runc)', () => {
  const rules = containerDeviceRules([
    { allow: false, access: 'rwm' },
    { allow: true, type: 'c', major: 1, minor: 3, access: 'r' },
    { allow: false, type: 'c', major: 1, minor: 5, access: 'w' },
    { allow: true, type: 'b', access: 'r' },
  ]);
  assert.deepEqual(rules[0], { type: 'a', major: -1, minor: -1, access: 'rwm', allow: false });
  const list = listOf(DeviceEmulator.fromRules(rules));
  // what runc 1.1.5 wrote for the same config on the CI host (minus 10:200)
  assert.deepEqual(list, [
    'b *:* rm',
    'c *:* m',
    'c 1:3 rwm',
    'c 1:5 rwm',
    'c 1:7 rwm',
    'c 1:8 rwm',
    'c 1:9 rwm',
    'c 5:0 rwm',
    'c 5:2 rwm',
    'c 136:* rwm',
  ]);
});

test('a device in linux.devices replaces the default rule of the same path (runc dedup)', () => {
  const rules = containerDeviceRules([{ allow: false, access: 'rwm' }], ['/dev/null']);
  assert.ok(!listOf(DeviceEmulator.fromRules(rules)).includes('c 1:3 rwm'));
});

test('without any spec rule the cgroup stays allow-all', () => {
  const e = DeviceEmulator.fromRules(containerDeviceRules());
  assert.equal(e.defaultAllow, true);
  assert.equal(e.exceptions.size, 0);
});

test('the kernel checks: all requested access in a grant, any in a denial', () => {
  const wl = DeviceEmulator.fromRules(containerDeviceRules([{ allow: false, access: 'rwm' }]));
  assert.equal(wl.permits('c', 1, 3, 'rw'), true);
  assert.equal(wl.permits('c', 1, 1, 'r'), false);
  assert.equal(wl.permits('c', 1, 1, 'm'), true); // mknod of anything
  assert.equal(wl.permits('b', 8, 0, 'r'), false);
  assert.equal(wl.permits('c', 136, 7, 'rw'), true);
  const bl = DeviceEmulator.fromRules([
    { type: 'a', major: -1, minor: -1, access: 'rwm', allow: true },
    { type: 'c', major: 1, minor: 3, access: 'w', allow: false },
  ]);
  assert.equal(bl.permits('c', 1, 3, 'r'), true);
  assert.equal(bl.permits('c', 1, 3, 'rw'), false);
  assert.equal(bl.permits('c', 1, 5, 'rw'), true);
});

test('punching a hole in a wildcard rule is refused, as runc does', () => {
  assert.throws(
    () =>
      DeviceEmulator.fromRules([
        { type: 'a', major: -1, minor: -1, access: 'rwm', allow: false },
        { type: 'c', major: 1, minor: -1, access: 'rwm', allow: true },
        { type: 'c', major: 1, minor: 3, access: 'w', allow: false },
      ]),
    /cannot be applied: it would punch a hole in the wildcard rule 'c 1:\* rwm'/,
  );
});

test('v1 writes from a fresh (allow-all) cgroup: deny all, then the grants in order', () => {
  const target = DeviceEmulator.fromRules(containerDeviceRules([{ allow: false, access: 'rwm' }]));
  const writes = v1DeviceWrites('a *:* rwm\n', target);
  assert.deepEqual(writes[0], { file: 'devices.deny', value: 'a *:* rwm' });
  assert.deepEqual(
    writes.slice(1).map((w) => `${w.file} ${w.value}`),
    RUNC_DEFAULT_LIST.map((l) => `devices.allow ${l}`),
  );
});

test('v1 writes between two deny-all states: only the difference, no disruptive "a"', () => {
  const target = DeviceEmulator.fromRules(
    containerDeviceRules([
      { allow: false, access: 'rwm' },
      { allow: true, type: 'c', major: 10, minor: 229, access: 'rw' },
    ]),
  );
  const current = ['c 1:3 rwm', 'c 4:1 r', ...RUNC_DEFAULT_LIST.filter((l) => l !== 'c 1:3 rwm')].join('\n');
  assert.deepEqual(v1DeviceWrites(current, target), [
    { file: 'devices.deny', value: 'c 4:1 r' },
    { file: 'devices.allow', value: 'c 10:229 rw' },
  ]);
  assert.deepEqual(
    v1DeviceWrites(RUNC_DEFAULT_LIST.join('\n'), DeviceEmulator.fromRules(containerDeviceRules([{ allow: false, access: 'rwm' }]))),
    [],
  );
});

test('devices.list is parsed strictly', () => {
  assert.throws(() => DeviceEmulator.fromList('x 1:2 r'), /unexpected line/);
  assert.equal(DeviceEmulator.fromList('a *:* rwm').defaultAllow, true);
});
