import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeField, encodeField } from './encode.js';

test('fields round-trip through the plan encoding', () => {
  for (const s of ['', '-', 'plain', 'a b', '100%', 'tab\tnew\nline', 'ünïcödé', '%2D', '/x/y z/'])
    assert.equal(decodeField(encodeField(s)), s);
  assert.equal(encodeField(''), '-');
  assert.equal(encodeField('-'), '%2D');
  assert.equal(encodeField('a b%'), 'a%20b%25');
});
