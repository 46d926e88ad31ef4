import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { capEff, refusal, seccompFilters } from './peer.js';
import { encodeRequest, MAGIC, MAX_REQUEST, parseRequest, requestLength, signalName, signalNumber } from './request.js';

/** A request's bytes from raw strings, as a front (or anyone on the socket) might send them. */
function raw(strings: string[], o: { length?: number; terminated?: boolean } = {}): Buffer {
  const body = Buffer.from(strings.join('\0') + (o.terminated === false ? '' : '\0'), 'utf8');
  const head = Buffer.alloc(4);
  head.writeUInt32LE(o.length ?? body.length, 0);
  return Buffer.concat([head, body]);
}

describe('the front’s request', () => {
  it('round-trips argv, environment and cwd (empty strings, spaces, non-ASCII)', () => {
    const r = { cwd: '/work dir/ü', argv: ['run', '', '-e', 'A=b c', '--', 'sh'], env: { PATH: '/bin', EMPTY: '', X: 'a=b=c' } };
    assert.deepEqual(parseRequest(encodeRequest(r)), r);
    assert.deepEqual(parseRequest(encodeRequest({ cwd: '/', argv: [], env: {} })), { cwd: '/', argv: [], env: {} });
  });

  it('reads the environment as Node does: entries without a name skipped, the first of a name wins', () => {
    const buf = raw([MAGIC, '/', '0', '4', 'A=1', 'noequals', '=x', 'A=2']);
    assert.deepEqual(parseRequest(buf).env, { A: '1' });
  });

  it('knows its length once 4 bytes are in, and refuses absurd ones', () => {
    assert.equal(requestLength(Buffer.alloc(3)), undefined);
    const buf = encodeRequest({ cwd: '/', argv: ['ps'], env: {} });
    assert.equal(requestLength(buf), buf.length);
    assert.throws(() => requestLength(raw([], { length: 0 })), /length 0 out of range/);
    assert.throws(() => requestLength(raw([], { length: MAX_REQUEST + 1 })), /out of range/);
  });

  it('refuses malformed requests, naming what is wrong', () => {
    const cases: [Buffer, RegExp][] = [
      [raw(['berth-cli 2', '/', '0', '0']), /unknown protocol/],
      [raw([MAGIC, 'relative', '0', '0']), /cwd 'relative' is not absolute/],
      [raw([MAGIC, '/', 'x', '0']), /argc 'x' is not a count/],
      [raw([MAGIC, '/', '2', 'ps']), /missing envc|missing argument/],
      [raw([MAGIC, '/', '0', '1']), /missing environment entry/],
      [raw([MAGIC, '/', '0', '0', 'extra']), /trailing data/],
      [raw([MAGIC, '/', '0', '0'], { terminated: false }), /not NUL-terminated/],
      [raw([MAGIC, '/', '0', '0']).subarray(0, 10), /truncated/],
    ];
    for (const [buf, re] of cases) assert.throws(() => parseRequest(buf), re);
  });

  it('names signals by number and back', () => {
    assert.equal(signalName(2), 'SIGINT');
    assert.equal(signalName(28), 'SIGWINCH');
    assert.equal(signalName(99), undefined);
    assert.equal(signalNumber('SIGTERM'), 15);
  });
});

describe('whom the host serves', () => {
  it('reads the effective capabilities from /proc/<pid>/status', () => {
    assert.equal(capEff('Name:\tx\nCapEff:\t000001ffffffffff\n'), 0x1ffffffffffn);
    assert.equal(capEff('Name:\tx\n'), undefined);
  });

  it('counts seccomp filters (strict mode and an unknown answer count as confined)', () => {
    assert.equal(seccompFilters('Seccomp:\t0\nSeccomp_filters:\t0\n'), 0);
    assert.equal(seccompFilters('Seccomp:\t2\nSeccomp_filters:\t3\n'), 3);
    assert.equal(seccompFilters('Seccomp:\t1\n'), Number.POSITIVE_INFINITY);
    assert.equal(seccompFilters('Name:\tx\n'), Number.POSITIVE_INFINITY);
  });

  it('refuses non-root callers and callers that are gone', () => {
    assert.match(refusal({ pid: process.pid, uid: 1000 }) ?? '', /uid 1000 is not root/);
    assert.match(refusal({ pid: 0, uid: 0 }) ?? '', /no peer pid/);
    assert.match(refusal({ pid: 2 ** 22 + 1, uid: 0 }) ?? '', /caller \d+:/);
  });

  it('serves a caller that is berthd’s equal (this process, as root)', {
    skip: process.getuid?.() !== 0 ? 'needs root' : undefined,
  }, () => {
    assert.equal(refusal({ pid: process.pid, uid: 0 }), undefined);
  });
});
