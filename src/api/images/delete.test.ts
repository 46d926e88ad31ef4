import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type DeleteRef, isSingleReference, planDelete } from './delete.js';

const ID = `sha256:${'de54e8091197'.padEnd(64, '0')}`;
const tag = (text: string): DeleteRef => ({
  text,
  repo: text.slice(0, text.lastIndexOf(':')),
  canonical: false,
  row: `docker.io/library/${text}`,
});
const dig = (repo: string, row = true): DeleteRef => {
  const r: DeleteRef = { text: `${repo}@sha256:${'a'.repeat(64)}`, repo, canonical: true };
  if (row) r.row = `docker.io/library/${r.text}`;
  return r;
};
const C1 = `e886e36426fa${'0'.repeat(52)}`;

describe('planDelete: dockerd 20.10 image_delete.go', () => {
  it('a tag with other tags left: only Untagged', () => {
    const a = tag('solo:1');
    const plan = planDelete({
      term: 'solo:1',
      imageId: ID,
      refs: [a, tag('solo:2')],
      named: a,
      force: false,
      users: [],
      freedLayers: ['sha256:l1'],
    });
    assert.deepEqual(plan.records, [{ Untagged: 'solo:1' }]);
    assert.deepEqual(plan.rows, ['docker.io/library/solo:1']);
    assert.equal(plan.deleted, false);
  });
  it('the last tag: its implied digest reference goes too, then the image and its layers', () => {
    const a = tag('bb2:latest');
    const plan = planDelete({
      term: 'bb2',
      imageId: ID,
      refs: [a, dig('bb2', false)],
      named: a,
      force: false,
      users: [],
      freedLayers: ['sha256:top', 'sha256:base'],
    });
    assert.deepEqual(plan.records, [
      { Untagged: 'bb2:latest' },
      { Untagged: `bb2@sha256:${'a'.repeat(64)}` },
      { Deleted: ID },
      { Deleted: 'sha256:top' },
      { Deleted: 'sha256:base' },
    ]);
    assert.deepEqual(plan.rows, ['docker.io/library/bb2:latest'], 'an implied reference has no row');
    assert.equal(plan.deleted, true);
  });
  it('a container using the only reference: 409 "(must force)" in dockerd words', () => {
    const a = tag('solo:1');
    assert.throws(
      () =>
        planDelete({
          term: 'solo:1',
          imageId: ID,
          refs: [a],
          named: a,
          force: false,
          users: [{ id: C1, running: false }],
          freedLayers: [],
        }),
      (e: Error & { kind?: string }) =>
        e.kind === 'failed-precondition' &&
        e.message ===
          'conflict: unable to remove repository reference "solo:1" (must force) - container e886e36426fa is using its referenced image de54e8091197',
    );
  });
  it('force with a running container: untagged, image kept unnamed (dangling), no error', () => {
    const a = tag('solo:1');
    const plan = planDelete({
      term: 'solo:1',
      imageId: ID,
      refs: [a],
      named: a,
      force: true,
      users: [{ id: C1, running: true }],
      freedLayers: [],
    });
    assert.deepEqual(plan.records, [{ Untagged: 'solo:1' }]);
    assert.equal(plan.keepUnnamed, true);
    assert.equal(plan.deleted, false);
  });
  it('by ID with tags in several repositories: 409 "(must be forced) - image is referenced in multiple repositories"', () => {
    assert.throws(
      () => planDelete({ term: 'de54e8091197', imageId: ID, refs: [tag('a:1'), tag('b:1')], force: false, users: [], freedLayers: [] }),
      /^Error: conflict: unable to delete de54e8091197 \(must be forced\) - image is referenced in multiple repositories$|conflict: unable to delete de54e8091197 \(must be forced\) - image is referenced in multiple repositories/,
    );
    const plan = planDelete({ term: 'de54e8091197', imageId: ID, refs: [tag('a:1'), tag('b:1')], force: true, users: [], freedLayers: [] });
    assert.deepEqual(plan.records, [{ Untagged: 'a:1' }, { Untagged: 'b:1' }, { Deleted: ID }]);
  });
  it('by ID with a running container: "(cannot be forced)", even with force', () => {
    for (const force of [false, true]) {
      assert.throws(
        () => planDelete({ term: 'de54', imageId: ID, refs: [tag('a:1')], force, users: [{ id: C1, running: true }], freedLayers: [] }),
        { message: 'conflict: unable to delete de54e8091197 (cannot be forced) - image is being used by running container e886e36426fa' },
      );
    }
  });
  it('by ID with a stopped container: "(must be forced)"; forced, it goes', () => {
    assert.throws(
      () =>
        planDelete({ term: 'de54', imageId: ID, refs: [tag('a:1')], force: false, users: [{ id: C1, running: false }], freedLayers: [] }),
      { message: 'conflict: unable to delete de54e8091197 (must be forced) - image is being used by stopped container e886e36426fa' },
    );
    const plan = planDelete({
      term: 'de54',
      imageId: ID,
      refs: [tag('a:1')],
      force: true,
      users: [{ id: C1, running: false }],
      freedLayers: [],
    });
    assert.equal(plan.deleted, true);
  });
  it('isSingleReference: one tag plus digests of its own repository', () => {
    assert.equal(isSingleReference([]), false);
    assert.equal(isSingleReference([tag('a:1'), dig('a')]), true);
    assert.equal(isSingleReference([tag('a:1'), dig('b')]), false);
    assert.equal(isSingleReference([tag('a:1'), tag('a:2')]), false);
  });
});
