import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BerthError, type ErrorKind } from '../common/errors.js';
import { errorBody, statusOf } from './errors.js';

test('error kinds map to the statuses the Go client classifies', () => {
  const expected: Record<ErrorKind, number> = {
    'not-found': 404,
    'already-exists': 409,
    'failed-precondition': 409,
    'invalid-argument': 400,
    'permission-denied': 403,
    'not-implemented': 501,
    unavailable: 503,
    internal: 500,
  };
  for (const [kind, status] of Object.entries(expected)) {
    assert.equal(statusOf(new BerthError(kind as ErrorKind, 'x')), status, kind);
  }
});

test('an explicit status wins over the kind; nonsense statuses do not', () => {
  assert.equal(statusOf(new BerthError('permission-denied', 'unauthorized', { status: 401 })), 401);
  assert.equal(statusOf(new BerthError('internal', 'x', { status: 200 })), 500);
  assert.equal(statusOf(new BerthError('internal', 'x', { status: 1000 })), 500);
});

test('other errors are 500 with their message and never a stack', () => {
  const err = new TypeError('cannot read x');
  assert.equal(statusOf(err), 500);
  assert.equal(errorBody(err), '{"message":"cannot read x"}\n');
  assert.equal(errorBody('plain'), '{"message":"plain"}\n');
  assert.doesNotMatch(errorBody(err), /at /);
});
