import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseHelperError, parseSummary, sniff } from './apply.js';

test('sniff tells gzip, zstd (and skippable frames), plain and short streams apart', () => {
  assert.equal(sniff(Buffer.from([0x1f, 0x8b, 8, 0])), 'gzip');
  assert.equal(sniff(Buffer.from([0x28, 0xb5, 0x2f, 0xfd])), 'zstd');
  assert.equal(sniff(Buffer.from([0x5a, 0x2a, 0x4d, 0x18])), 'zstd');
  assert.equal(sniff(Buffer.from('etc/passwd')), 'none');
  assert.equal(sniff(Buffer.from([0x1f])), 'short');
});

test("the helper's error line gives errno, entry and message; the last one counts", () => {
  const e = parseHelperError('warn x something\nerror EPERM ../x\\x20y path escapes the root\n');
  assert.deepEqual(e, { errno: 'EPERM', entry: '../x\\x20y', message: 'path escapes the root' });
  assert.deepEqual(parseHelperError('error EPROTO - header checksum mismatch (header 3)\n'), {
    errno: 'EPROTO',
    entry: undefined,
    message: 'header checksum mismatch (header 3)',
  });
  assert.equal(parseHelperError('Segmentation fault\n'), undefined);
});

test('the summary line gives entries, bytes and the digest', () => {
  const s = parseSummary(`ok entries=3 bytes=10240 sha256=${'ab'.repeat(32)} skipped-xattrs=0 skipped-devices=0 files-bytes=9\n`);
  assert.deepEqual(s, { entries: 3, size: 10240, sha256: 'ab'.repeat(32) });
  assert.equal(parseSummary('ok entries=3'), undefined);
});
