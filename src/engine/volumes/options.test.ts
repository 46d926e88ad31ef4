import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ANONYMOUS_LABEL, anonymousName, checkVolumeName, isAnonymous } from './names.js';
import { isReadOnly, parseLocalOptions } from './options.js';

describe('volume names (dockerd local driver)', () => {
  test('valid names pass; the texts of refusals are dockerd’s', () => {
    for (const n of ['ab', 'a1', 'my_vol.2-x', '0x', 'A'.repeat(255)]) checkVolumeName(n);
    assert.throws(
      () => checkVolumeName('a'),
      (e: Error) => e.message === 'create a: volume name is too short, names should be at least two alphanumeric characters',
    );
    assert.throws(
      () => checkVolumeName('a/b'),
      (e: Error) =>
        e.message ===
        'create a/b: "a/b" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path',
    );
    for (const n of ['..', '.hidden', '_x', '-x', 'a b', 'a\0b', 'é1', 'x'.repeat(256), '../../etc']) {
      assert.throws(() => checkVolumeName(n), { name: 'BerthError', kind: 'invalid-argument' }, n);
    }
  });
  test('anonymous names are 64 hex and differ', () => {
    const a = anonymousName();
    assert.match(a, /^[0-9a-f]{64}$/);
    assert.notEqual(a, anonymousName());
    assert.equal(isAnonymous({ [ANONYMOUS_LABEL]: '' }), true);
    assert.equal(isAnonymous({}), false);
    assert.equal(isAnonymous(null), false);
  });
});

describe('local driver options', () => {
  test('no options: a plain directory', () => {
    assert.deepEqual(parseLocalOptions('v1', null), { kind: 'directory' });
    assert.deepEqual(parseLocalOptions('v1', {}), { kind: 'directory' });
  });
  test("dockerd's checks: known keys, required companions", () => {
    assert.throws(
      () => parseLocalOptions('v1', { size: '1m' }),
      (e: Error) => e.message === 'create v1: invalid option: "size"',
    );
    assert.throws(
      () => parseLocalOptions('v1', { type: 'tmpfs' }),
      (e: Error) => e.message === 'create v1: missing required option: "device"',
    );
    assert.throws(
      () => parseLocalOptions('v1', { device: 'tmpfs' }),
      (e: Error) => e.message === 'create v1: missing required option: "type"',
    );
    assert.throws(() => parseLocalOptions('v1', { o: 'size=1m' }), /missing required option/);
  });
  test('tmpfs: flags and data split, values checked', () => {
    const m = parseLocalOptions('v1', { type: 'tmpfs', device: 'tmpfs', o: 'size=100m,uid=1000,mode=0750,noexec,nosuid,ro,rw' });
    assert.deepEqual(m, { kind: 'tmpfs', source: 'tmpfs', flags: 0x8 | 0x2, data: 'size=100m,uid=1000,mode=0750' });
    assert.equal(isReadOnly(m), false, 'rw after ro wins');
    assert.equal(isReadOnly(parseLocalOptions('v1', { type: 'tmpfs', device: 'tmpfs', o: 'ro' })), true);
    for (const o of ['size=1x', 'uid=-1', 'mode=999', 'bind', 'rbind', 'inode64=1', 'size', 'lowerdir=/etc', 'remount', 'huge=maybe']) {
      assert.throws(() => parseLocalOptions('v1', { type: 'tmpfs', device: 'tmpfs', o }), { kind: 'invalid-argument' }, o);
    }
    assert.throws(() => parseLocalOptions('v1', { type: 'tmpfs', device: '' }), /needs a device/);
  });
  test('bind: an absolute, clean device; bind or rbind; ro', () => {
    assert.deepEqual(parseLocalOptions('v1', { type: 'none', o: 'bind', device: '/srv//data/' }), {
      kind: 'bind',
      device: '/srv/data',
      recursive: false,
      readOnly: false,
      options: [],
    });
    const r = parseLocalOptions('v1', { type: 'none', o: 'rbind,ro,nosuid', device: '/srv' });
    assert.deepEqual(r, { kind: 'bind', device: '/srv', recursive: true, readOnly: true, options: ['nosuid'] });
    assert.throws(() => parseLocalOptions('v1', { type: 'none', o: 'bind', device: 'rel/path' }), /absolute host path/);
    assert.throws(() => parseLocalOptions('v1', { type: 'none', o: 'bind', device: '/a/../etc' }), /'\.\.'/);
    assert.throws(() => parseLocalOptions('v1', { type: 'none', o: 'bind,size=1', device: '/srv' }), /invalid option for a bind volume/);
    assert.throws(() => parseLocalOptions('v1', { type: 'none', o: 'ro', device: '/srv' }), /needs o=bind/);
  });
  test('other mount types are refused clearly', () => {
    for (const type of ['nfs', 'nfs4', 'cifs', 'ext4', 'overlay', 'proc']) {
      assert.throws(
        () => parseLocalOptions('v1', { type, device: ':/export', o: 'addr=10.0.0.1' }),
        (e: Error) => e.message.includes(`mount type "${type}" is not supported by berth's local volume driver`),
      );
    }
  });
});
