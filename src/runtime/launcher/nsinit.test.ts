import assert from 'node:assert/strict';
import { constants } from 'node:os';
import { describe, test } from 'node:test';
import { nsinitError, parseErrorLine } from './nsinit.js';

describe('berth-nsinit error lines', () => {
  test('error <errno> <message>: both fields decoded', () => {
    assert.deepEqual(parseErrorLine("error 2 open%20rootfs%20'/x':%20no%20such%20file%20or%20directory"), {
      errno: 2,
      message: "open rootfs '/x': no such file or directory",
    });
    assert.deepEqual(parseErrorLine('error 0 hook%20failed'), { errno: 0, message: 'hook failed' });
  });

  test('a malformed line is reported, not misread', () => {
    assert.match(parseErrorLine('error x y').message, /malformed error line/);
  });

  test('the errno decides the kind', () => {
    const kind = (errno: number, message = 'm') => nsinitError({ errno, message }).kind;
    assert.equal(kind(constants.errno.ENOENT), 'not-found');
    assert.equal(kind(constants.errno.EPERM), 'permission-denied');
    assert.equal(kind(constants.errno.EACCES), 'permission-denied');
    assert.equal(kind(constants.errno.EEXIST), 'already-exists');
    assert.equal(kind(constants.errno.EINVAL), 'invalid-argument');
    assert.equal(kind(constants.errno.EBUSY), 'unavailable');
    assert.equal(kind(constants.errno.EIO), 'failed-precondition');
    assert.equal(kind(0, "hook createContainer '/h' exited with status 3"), 'failed-precondition');
    assert.equal(kind(0, "plan: unknown record 'x'"), 'internal');
    assert.equal(nsinitError({ errno: 2, message: 'm' }, 'c1').object, 'c1');
    assert.equal(nsinitError({ errno: 2, message: 'm' }).message, 'm');
  });
});
