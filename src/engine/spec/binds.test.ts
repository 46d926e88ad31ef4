import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { bindMount, mountPoints, parseBind, parseMount, specMounts } from './binds.js';

const exists = (p: string) => p.startsWith('/host');

describe('-v and --mount (moby linux parser)', () => {
  test('-v forms: anonymous volume, named volume, host bind with modes', () => {
    assert.deepEqual(parseBind('/data'), {
      type: 'volume',
      source: '',
      destination: '/data',
      readOnly: false,
      propagation: '',
      nonRecursive: false,
      mode: '',
      noCopy: false,
    });
    const named = parseBind('vol_1:/v:ro,nocopy');
    assert.deepEqual([named.type, named.source, named.readOnly, named.noCopy, named.propagation], ['volume', 'vol_1', true, true, '']);
    const b = parseBind('/host/a/../b/:/dst/./x:ro,z,rshared');
    assert.deepEqual(
      [b.type, b.source, b.destination, b.readOnly, b.propagation, b.mode],
      ['bind', '/host/b', '/dst/x', true, 'rshared', 'ro,z,rshared'],
    );
    assert.equal(parseBind('/host:/dst').propagation, 'rprivate', 'the default propagation');
  });
  test("-v refusals with moby's texts", () => {
    assert.throws(() => parseBind(''), /^BerthError: invalid volume specification: ''$/);
    assert.throws(() => parseBind('/foo:rw'), /invalid volume specification: '\/foo:rw'/, 'a destination with a mode');
    assert.throws(() => parseBind('/a:/b:ro:x'), /invalid volume specification/);
    assert.throws(() => parseBind('/a:/b:ro,rw'), /^BerthError: invalid mode: ro,rw$/);
    assert.throws(() => parseBind('/a:/b:bogus'), /invalid mode: bogus/);
    assert.throws(
      () => parseBind('/a:rel'),
      /invalid volume specification: '\/a:rel': invalid mount config for type "bind": invalid mount path: 'rel' mount path must be absolute/,
    );
    assert.throws(() => parseBind('/a:/'), /destination can't be '\/'/);
    assert.throws(
      () => parseBind('bad$name:/x'),
      /^BerthError: create bad\$name: "bad\$name" includes invalid characters for a local volume name/,
    );
    assert.throws(() => parseBind('v:/x'), /volume name is too short/);
  });
  test('--mount', () => {
    const b = parseMount({ Type: 'bind', Source: '/host/x', Target: '/y', ReadOnly: true, BindOptions: { NonRecursive: true } }, exists);
    assert.deepEqual(bindMount(b), { destination: '/y', type: 'bind', source: '/host/x', options: ['bind', 'ro', 'rprivate'] });
    assert.throws(() => parseMount({ Type: 'bind', Source: '/nope', Target: '/y' }, exists), /bind source path does not exist: \/nope/);
    assert.throws(
      () => parseMount({ Type: 'bind', Source: '/host', Target: '/y', BindOptions: { Propagation: 'x' } }, exists),
      /invalid propagation mode: x/,
    );
    assert.throws(() => parseMount({ Type: 'nfs', Target: '/y' }, exists), /mount type unknown: 'nfs'/);
    assert.throws(() => parseMount({ Type: 'volume', Target: '' }, exists), /field Target must not be empty/);
    assert.throws(() => parseMount({ Type: 'tmpfs', Source: 'x', Target: '/t' }, exists), /field Source must not be specified/);
    const t = parseMount({ Type: 'tmpfs', Target: '/t', ReadOnly: true, TmpfsOptions: { SizeBytes: 3 << 20, Mode: 0o1770 } }, exists);
    assert.equal(t.tmpfsData, 'ro,mode=1770,size=3m');
    assert.equal(parseMount({ Type: 'tmpfs', Target: '/t', TmpfsOptions: { SizeBytes: 1000 } }, exists).tmpfsData, 'size=1000');
  });
  test('duplicates are refused; the OCI mounts of a set', () => {
    assert.throws(() => mountPoints(['/host:/x'], [{ Type: 'tmpfs', Target: '/x/' }], exists), /^BerthError: Duplicate mount point: \/x$/);
    const points = mountPoints(['/host:/a:ro', 'vol:/b'], [{ Type: 'tmpfs', Target: '/c' }], exists);
    assert.deepEqual(
      specMounts(points, (mp) => `/volumes/${mp.source}/_data`),
      [
        { destination: '/a', type: 'bind', source: '/host', options: ['rbind', 'ro', 'rprivate'] },
        { destination: '/b', type: 'bind', source: '/volumes/vol/_data', options: ['rbind'] },
        { destination: '/c', type: 'tmpfs', source: 'tmpfs', options: ['noexec', 'nosuid', 'nodev', 'rprivate'] },
      ],
    );
  });
});
