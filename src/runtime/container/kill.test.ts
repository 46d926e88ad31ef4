import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseSignal } from './kill.js';

test('signals by name, with or without SIG, and by number', () => {
  assert.equal(parseSignal('KILL'), 9);
  assert.equal(parseSignal('SIGTERM'), 15);
  assert.equal(parseSignal('hup'), 1);
  assert.equal(parseSignal('10'), 10);
  assert.throws(() => parseSignal('FOO'), /unknown signal "FOO"/);
  assert.throws(() => parseSignal('99'), /unknown signal "99"/);
});
