import assert from 'node:assert/strict';
import { test } from 'node:test';
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
  for (const bad of ['', 'kind==', 'labels."x', 'kind==a,', 'name~=/(/', '.x', 'kind!a', 'a b']) {
    assert.throws(
      () => snapshotFilter(bad),
      (e) => isKind(e, 'invalid-argument') && (e as Error).message.startsWith(`parse filter '${bad}'`),
      bad,
    );
  }
});
