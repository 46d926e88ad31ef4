import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ANONYMOUS_LABEL } from './names.js';
import { listFilter, pruneFilter, rfc3339, toApiVolume, type Volume } from './shapes.js';

const vol = (name: string, labels: Record<string, string> | null = null, driver = 'local'): Volume => ({
  name,
  driver,
  mountpoint: `/var/lib/berth/volumes/${name}/_data`,
  options: null,
  labels,
  createdAt: new Date(Date.UTC(2026, 11, 6, 5, 51, 32, 999)),
});

describe('volume API shapes', () => {
  test("types.Volume's keys in dockerd's order, CreatedAt RFC3339 to the second with the zone", () => {
    const v = toApiVolume({ ...vol('data', { a: 'b' }), options: { type: 'tmpfs', device: 'tmpfs' } });
    assert.deepEqual(Object.keys(v), ['CreatedAt', 'Driver', 'Labels', 'Mountpoint', 'Name', 'Options', 'Scope']);
    assert.equal(v.Scope, 'local');
    assert.match(v.CreatedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)$/);
    if (new Date().getTimezoneOffset() === 0 && !process.env.TZ) assert.equal(v.CreatedAt, '2026-12-06T05:51:32Z');
    assert.deepEqual(v.Options, { type: 'tmpfs', device: 'tmpfs' });
    assert.equal(toApiVolume(vol('x')).Labels, null, 'no labels given: null, as dockerd');
  });
  test('rfc3339 writes the local offset', () => {
    const d = new Date(Date.UTC(2026, 0, 1, 0, 0, 0));
    const off = -d.getTimezoneOffset();
    const s = rfc3339(d);
    assert.ok(off === 0 ? s.endsWith('Z') : /[+-]\d\d:\d\d$/.test(s), s);
    assert.equal(new Date(s).getTime(), d.getTime(), 'it parses back to the same instant');
  });
});

describe('GET /volumes filters', () => {
  const vols = [vol('alpha', { env: 'prod', team: 'a' }), vol('beta', { env: 'dev' }), vol('gamma')];
  const users = (n: string) => (n === 'beta' ? ['c1'] : []);
  const names = (f: Record<string, string[]>) => vols.filter(listFilter(new Map(Object.entries(f)), users)).map((v) => v.name);
  test('name (exact or expression), driver, label key or key=value, dangling', () => {
    assert.deepEqual(names({}), ['alpha', 'beta', 'gamma']);
    assert.deepEqual(names({ name: ['alpha'] }), ['alpha']);
    assert.deepEqual(names({ name: ['^[ab]'] }), ['alpha', 'beta']);
    assert.deepEqual(names({ name: ['[invalid'] }), []);
    assert.deepEqual(names({ driver: ['local'] }), ['alpha', 'beta', 'gamma']);
    assert.deepEqual(names({ driver: ['nfs'] }), []);
    assert.deepEqual(names({ label: ['env'] }), ['alpha', 'beta']);
    assert.deepEqual(names({ label: ['env=prod'] }), ['alpha']);
    assert.deepEqual(names({ label: ['env', 'team=a'] }), ['alpha'], 'every label must hold');
    assert.deepEqual(names({ dangling: ['true'] }), ['alpha', 'gamma']);
    assert.deepEqual(names({ dangling: ['0'] }), ['beta']);
  });
  test('unknown filters and bad dangling values are 400s', () => {
    assert.throws(() => names({ bogus: ['x'] }), { kind: 'invalid-argument', message: "Invalid filter 'bogus'" });
    assert.throws(() => names({ dangling: ['maybe'] }), { kind: 'invalid-argument', message: "Invalid filter 'dangling=[maybe]'" });
  });
});

describe('POST /volumes/prune filters', () => {
  const vols = [
    vol('named', { keep: 'yes' }),
    vol('named2'),
    vol('a'.repeat(64), { [ANONYMOUS_LABEL]: '' }),
    vol('other', null, 'nfs'),
    { ...vol('tmpfs'), options: { type: 'tmpfs', device: 'tmpfs' } },
  ];
  const names = (f: Record<string, string[]>, version: string) =>
    vols.filter(pruneFilter(new Map(Object.entries(f)), version)).map((v) => v.name);
  test('API 1.41 (dockerd 20.10): every local volume without driver options; label and label!', () => {
    assert.deepEqual(names({}, '1.41'), ['named', 'named2', 'a'.repeat(64)]);
    assert.deepEqual(names({ label: ['keep=yes'] }, '1.41'), ['named']);
    assert.deepEqual(names({ 'label!': ['keep'] }, '1.41'), ['named2', 'a'.repeat(64)]);
    assert.throws(() => names({ all: ['true'] }, '1.41'), { message: "Invalid filter 'all'" }, '20.10 knows no all filter');
  });
  test('API 1.42+: anonymous only, unless all=true', () => {
    assert.deepEqual(names({}, '1.42'), ['a'.repeat(64)]);
    assert.deepEqual(names({ all: ['true'] }, '1.43'), ['named', 'named2', 'a'.repeat(64), 'tmpfs']);
    assert.deepEqual(names({ all: ['false'] }, '1.44'), ['a'.repeat(64)]);
  });
});
