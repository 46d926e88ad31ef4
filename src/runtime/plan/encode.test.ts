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

test('a plain field is kept as it is; anything else is encoded byte by byte, the same as before', () => {
  // the byte-by-byte definition, for every string the fast path must agree with
  const slow = (s: string) =>
    s === ''
      ? '-'
      : s === '-'
        ? '%2D'
        : [...Buffer.from(s, 'utf8')]
            .map((b) =>
              b <= 0x20 || b === 0x25 || b >= 0x7f ? `%${b.toString(16).toUpperCase().padStart(2, '0')}` : String.fromCharCode(b),
            )
            .join('');
  const samples = ['/proc', '-1', '--', '0x7fff0000', 'a%b', 'a-b', '~', '!', '\x7f', '\x21', ' ', 'é', '12345678901234567890', '-x'];
  for (let c = 0; c < 0x180; c++) samples.push(`x${String.fromCharCode(c)}y`);
  for (const s of samples) assert.equal(encodeField(s), slow(s), JSON.stringify(s));
  assert.equal(encodeField(12n), '12');
  assert.equal(encodeField(-3), '-3');
});
