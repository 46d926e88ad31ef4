import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BerthError } from '../common/errors.js';
import { statusOf } from './errors.js';
import { parseBool, parseFilters, parseInteger } from './query.js';
import { parseJsonBody } from './request.js';

const q = (s: string) => new URLSearchParams(s);

test('booleans parse as moby BoolValue', () => {
  for (const v of ['1', 'true', 'True', 'TRUE', 'yes', 'on', 'x']) assert.equal(parseBool(q(`a=${v}`), 'a'), true, v);
  for (const v of ['', '0', 'false', 'False', 'no', 'none', 'NONE', ' 0 '])
    assert.equal(parseBool(q(`a=${encodeURIComponent(v)}`), 'a', true), false, v);
  assert.equal(parseBool(q(''), 'a'), false);
  assert.equal(parseBool(q(''), 'a', true), true);
});

test('integers: default when absent or empty, a 400 naming the parameter otherwise', () => {
  assert.equal(parseInteger(q('t=5'), 't'), 5);
  assert.equal(parseInteger(q('t=-1'), 't'), -1);
  assert.equal(parseInteger(q('t='), 't', 10), 10);
  assert.equal(parseInteger(q(''), 't'), undefined);
  for (const bad of ['x', '1.5', '1e3', '99999999999999999999']) {
    assert.throws(
      () => parseInteger(q(`t=${bad}`), 't'),
      (err: unknown) => err instanceof BerthError && statusOf(err) === 400 && /\bt\b/.test(err.message),
    );
  }
});

test('filters accept both JSON forms', () => {
  assert.deepEqual(
    [...parseFilters('{"name":{"c7":true},"status":{"running":true,"exited":true}}')],
    [
      ['name', ['c7']],
      ['status', ['running', 'exited']],
    ],
  );
  assert.deepEqual([...parseFilters('{"name":["c7","c8"]}')], [['name', ['c7', 'c8']]]);
  assert.equal(parseFilters(null).size, 0);
  assert.equal(parseFilters('').size, 0);
  assert.equal(parseFilters('null').size, 0);
  for (const bad of ['{', '[]', '"x"', '{"a":1}', '{"a":[1]}', '{"a":{"b":"c"}}']) {
    assert.throws(
      () => parseFilters(bad),
      (err: unknown) => err instanceof BerthError && statusOf(err) === 400 && err.message.startsWith('invalid filter'),
      bad,
    );
  }
});

test('JSON bodies: empty is {}, malformed is a 400 naming the route', () => {
  assert.deepEqual(parseJsonBody(Buffer.alloc(0), 'POST /x'), {});
  assert.deepEqual(parseJsonBody(Buffer.from('null'), 'POST /x'), {});
  assert.deepEqual(parseJsonBody(Buffer.from('{"Detach":false}'), 'POST /x'), { Detach: false });
  for (const bad of ['{', '[1]', '3', '"s"']) {
    assert.throws(
      () => parseJsonBody(Buffer.from(bad), 'POST /exec/e1/start'),
      (err: unknown) => err instanceof BerthError && statusOf(err) === 400 && /^invalid JSON: .*POST \/exec\/e1\/start/.test(err.message),
    );
  }
});
