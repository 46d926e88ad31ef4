import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MS, parseMountOptions } from './mount-options.js';

test('flags, clearing flags, propagation and filesystem data are separated', () => {
  assert.deepEqual(parseMountOptions(['ro', 'nosuid', 'rw', 'rslave', 'mode=755', 'size=1m']), {
    flags: MS.NOSUID,
    propagation: MS.SLAVE | MS.REC,
    data: 'mode=755,size=1m',
  });
  assert.equal(parseMountOptions(['rbind']).flags, MS.BIND | MS.REC);
  assert.deepEqual(parseMountOptions([]), { flags: 0, propagation: 0, data: '' });
});
