import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { fuzzRuns } from '../../test/helpers/fuzz-runs.js';
import { isKind } from '../common/errors.js';
import { snapshotFilter } from './filter.js';
import type { Info } from './types.js';

const info = (name: string, kind: Info['kind'], parent?: string, labels: Record<string, string> = {}): Info => ({
  name,
  kind,
  labels,
  created: new Date(0),
  updated: new Date(0),
  ...(parent === undefined ? {} : { parent }),
});

const root = { 'containerd.io/gc.root': 'check-walk' };
const all = [
  info('a-np', 'active', undefined, root),
  info('p', 'committed', undefined, root),
  info('a', 'active', 'p', root),
  info('v', 'view', 'p', root),
  info('p-wl', 'committed', undefined, { l: '1', ...root }),
  info('a-wl', 'active', 'p-wl', { l: '2', ...root }),
  info('v-wl', 'view', 'p-wl', { l: '3', ...root }),
  info('a-np-wl', 'active', undefined, { l: '2', ...root }),
  info('other', 'active'),
];
const names = (...filters: string[]) => {
  const f = snapshotFilter(...filters);
  return all
    .filter((i) => !f || f(i))
    .map((i) => i.name)
    .sort();
};

test("containerd's Walk filter cases", () => {
  const gc = 'labels."containerd.io/gc.root"==check-walk';
  assert.deepEqual(names(gc), ['a', 'a-np', 'a-np-wl', 'a-wl', 'p', 'p-wl', 'v', 'v-wl']);
  assert.deepEqual(names(`kind==active,${gc}`), ['a', 'a-np', 'a-np-wl', 'a-wl']);
  assert.deepEqual(names(`kind==view,${gc}`), ['v', 'v-wl']);
  assert.deepEqual(names(`kind==committed,${gc}`), ['p', 'p-wl']);
  assert.deepEqual(names('name==p', 'name==a-np-wl'), ['a-np-wl', 'p'], 'several filters: any');
  assert.deepEqual(names('name==a-wl,labels.l'), ['a-wl']);
  assert.deepEqual(names('parent==p'), ['a', 'v']);
  assert.deepEqual(names(`parent!="",${gc}`), ['a', 'a-wl', 'v', 'v-wl']);
  assert.deepEqual(names('labels.l'), ['a-np-wl', 'a-wl', 'p-wl', 'v-wl']);
  assert.deepEqual(names('labels.l==2'), ['a-np-wl', 'a-wl']);
  assert.deepEqual(names('labels.l!=2'), ['a', 'a-np', 'other', 'p', 'p-wl', 'v', 'v-wl'], '!= holds for an absent label');
  assert.deepEqual(names('name~=/^a-.*wl$/'), ['a-np-wl', 'a-wl']);
  assert.deepEqual(names(' kind == view , parent == p '), ['v'], 'spaces around tokens');
  assert.equal(snapshotFilter(), undefined);
});

test('bad filters are invalid-argument and name the filter', () => {
  for (const bad of [
    'name~=/(a+)+$/',
    'name~=(x*)*',
    'name~=/(a)\\1/',
    `name~=${'a'.repeat(300)}`,
    '',
    'kind==',
    'labels."x',
    'kind==a,',
    'name~=/(/',
    '.x',
    'kind!a',
    'a b',
  ]) {
    assert.throws(
      () => snapshotFilter(bad),
      (e) => isKind(e, 'invalid-argument') && (e as Error).message.startsWith(`parse filter '${bad}'`),
      bad,
    );
  }
});

test('any string either compiles to a predicate or is invalid-argument (fast-check)', () => {
  const sample = info('x', 'active', 'p', { l: '1', 'a.b': 'c' });
  const alphabet = fc.constantFrom(...'kindamelbps.=!~,"/\\ 12()[]*'.split(''));
  fc.assert(
    fc.property(fc.array(fc.oneof(fc.string(), fc.string({ unit: alphabet })), { minLength: 1, maxLength: 3 }), (filters) => {
      let f: ((i: Info) => boolean) | undefined;
      try {
        f = snapshotFilter(...filters);
      } catch (e) {
        assert.ok(isKind(e, 'invalid-argument'), String(e));
        return;
      }
      assert.equal(typeof f!(sample), 'boolean');
    }),
    { numRuns: fuzzRuns(2000) },
  );
});

test('quoted label keys round-trip any key and value', () => {
  fc.assert(
    fc.property(fc.string({ minLength: 1 }), fc.string({ minLength: 1 }), (k, v) => {
      const f = snapshotFilter(`labels.${JSON.stringify(k)}==${JSON.stringify(v)}`)!;
      assert.equal(f(info('x', 'active', undefined, { [k]: v })), true);
      assert.equal(f(info('x', 'active', undefined, { [k]: `${v}x` })), false);
    }),
    { numRuns: fuzzRuns(500) },
  );
});
