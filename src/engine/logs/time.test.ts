import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BerthError } from '../../common/errors.js';
import { decodeEntry, parseRfc3339 } from './entry.js';
import { formatLogEntry } from './format.js';
import { parseLogsQuery } from './query.js';
import { formatDockerTime, parseSince, parseTail, parseTimestamp, parseUntil } from './time.js';

const S = 1_000_000_000n;

test('since/until: unix seconds with a fraction scaled by its length, as moby parseTimestamp', () => {
  assert.equal(parseTimestamp('1700000000'), 1700000000n * S);
  assert.equal(parseTimestamp('1700000000.123456789'), 1700000000n * S + 123456789n);
  assert.equal(parseTimestamp('1700000000.5'), 1700000000n * S + 500_000_000n, '.5 is half a second');
  assert.equal(parseTimestamp('1700000000.000000001'), 1700000000n * S + 1n);
  assert.equal(parseTimestamp('1700000000.1234567891'), 1700000000n * S + 123456789n, 'beyond nanoseconds: cut');
  assert.equal(parseTimestamp('+5'), 5n * S);
  assert.equal(parseTimestamp('-1'), -S);
  assert.equal(parseTimestamp('0'), 0n);
});

test('since/until: RFC3339 and RFC3339Nano (what the CLI converts) are accepted too', () => {
  assert.equal(parseTimestamp('2023-11-14T22:13:20Z'), 1700000000n * S);
  assert.equal(parseTimestamp('2023-11-14T22:13:20.123456789Z'), 1700000000n * S + 123456789n);
  assert.equal(parseTimestamp('2023-11-14T23:13:20.5+01:00'), 1700000000n * S + 500_000_000n);
  assert.equal(parseTimestamp('2023-11-14T21:13:20-01:00'), 1700000000n * S);
});

test('since/until: garbage is an invalid-argument error with Go strconv text', () => {
  for (const [v, msg] of [
    ['abc', 'strconv.ParseInt: parsing "abc": invalid syntax'],
    ['1.', 'strconv.ParseInt: parsing "": invalid syntax'],
    ['10m', 'strconv.ParseInt: parsing "10m": invalid syntax'],
    ['1.2.3', 'strconv.ParseInt: parsing "2.3": invalid syntax'],
    ['2023-13-01T00:00:00Z', 'strconv.ParseInt: parsing "2023-13-01T00:00:00Z": invalid syntax'],
    ['99999999999999999999', 'strconv.ParseInt: parsing "99999999999999999999": value out of range'],
  ] as const) {
    assert.throws(
      () => parseTimestamp(v),
      (e: unknown) => e instanceof BerthError && e.kind === 'invalid-argument' && e.message === msg,
      v,
    );
  }
});

test('since empty is none, since 0 is the epoch; until empty or 0 is none', () => {
  assert.equal(parseSince(undefined), undefined);
  assert.equal(parseSince(''), undefined);
  assert.equal(parseSince('0'), 0n);
  assert.equal(parseUntil('0'), undefined);
  assert.equal(parseUntil(''), undefined);
  assert.equal(parseUntil('12'), 12n * S);
});

test('tail: dockerd strconv.Atoi, anything else (all, empty, negative) means all', () => {
  const cases: [string | undefined, number][] = [
    ['all', -1],
    ['', -1],
    [undefined, -1],
    ['5', 5],
    ['0', 0],
    ['+2', 2],
    ['-3', -1],
    [' 5', -1],
    ['5x', -1],
    ['99999999999999999999', -1],
  ];
  for (const [v, n] of cases) assert.equal(parseTail(v), n, String(v));
});

test("timestamps: Docker's RFC3339NanoFixed, nine digits, UTC", () => {
  assert.equal(formatDockerTime(1700000000n * S + 123456789n), '2023-11-14T22:13:20.123456789Z');
  assert.equal(formatDockerTime(1700000000n * S), '2023-11-14T22:13:20.000000000Z');
  assert.equal(formatDockerTime(1700000000n * S + 1000n), '2023-11-14T22:13:20.000001000Z');
  assert.equal(formatDockerTime(-1n), '1969-12-31T23:59:59.999999999Z');
});

test('the time of an entry: RFC3339Nano parsed to nanoseconds, impossible dates refused', () => {
  assert.equal(parseRfc3339('2023-11-14T22:13:20.1Z'), 1700000000n * S + 100_000_000n);
  assert.equal(parseRfc3339('0050-01-01T00:00:00Z'), -60589296000n * S, 'years below 100 are not 19xx');
  assert.equal(parseRfc3339('2026-02-30T00:00:00Z'), undefined);
  assert.equal(parseRfc3339('2026-01-01T24:00:00Z'), undefined);
  assert.equal(parseRfc3339('2026-01-01 00:00:00Z'), undefined);
  assert.equal(parseRfc3339('2026-01-01T00:00:00'), undefined, 'a zone is required');
});

test('decodeEntry: the json-file entry as the shim escapes it; anything else is not an entry', () => {
  const line = Buffer.from(
    '{"log":"tab\\u0009here \\u003cb\\u003e\\u0026 \\"q\\" \\u2028 \\ufffd é\\r\\n","stream":"stderr","time":"2023-11-14T22:13:20.000000001Z"}',
  );
  const e = decodeEntry(line)!;
  assert.equal(e.stream, 'stderr');
  assert.equal(e.time, '2023-11-14T22:13:20.000000001Z');
  assert.equal(e.timeNs, 1700000000n * S + 1n);
  assert.deepEqual(e.line, Buffer.from('tab\there <b>& "q" \u2028 \ufffd é\r\n'));
  for (const bad of [
    '',
    'garbage',
    'null',
    '[1]',
    '"str"',
    '{"log":"x","stream":"stdin","time":"2023-11-14T22:13:20Z"}',
    '{"log":1,"stream":"stdout","time":"2023-11-14T22:13:20Z"}',
    '{"log":"x","stream":"stdout"}',
    '{"log":"x","stream":"stdout","time":"yesterday"}',
    '{"log":"x","stream":"stdout","time":"2023-11-14T22:13:20Z"',
  ])
    assert.equal(decodeEntry(Buffer.from(bad)), undefined, bad);
});

test('formatLogEntry: stdcopy frames without a terminal, raw bytes with one, the time first on request', () => {
  const out = {
    stream: 'stdout' as const,
    time: '2023-11-14T22:13:20.5Z',
    timeNs: 1700000000n * S + 500_000_000n,
    line: Buffer.from('hi\n'),
  };
  const err = { ...out, stream: 'stderr' as const, line: Buffer.from('oops') };
  assert.deepEqual(formatLogEntry(out, { tty: false, timestamps: false }), Buffer.from('\x01\x00\x00\x00\x00\x00\x00\x03hi\n', 'latin1'));
  assert.deepEqual(formatLogEntry(err, { tty: false, timestamps: false }), Buffer.from('\x02\x00\x00\x00\x00\x00\x00\x04oops', 'latin1'));
  assert.deepEqual(formatLogEntry(err, { tty: true, timestamps: false }), Buffer.from('oops'), 'a terminal merges stderr, no header');
  assert.equal(formatLogEntry(out, { tty: true, timestamps: true }).toString(), '2023-11-14T22:13:20.500000000Z hi\n');
  const framed = formatLogEntry(out, { tty: false, timestamps: true });
  assert.equal(framed.readUInt32BE(4), 34);
  assert.equal(framed[0], 1);
  assert.equal(framed.subarray(8).toString(), '2023-11-14T22:13:20.500000000Z hi\n');
  const big = { ...out, line: Buffer.alloc(70000, 'a') };
  assert.equal(formatLogEntry(big, { tty: false, timestamps: false }).readUInt32BE(4), 70000, 'the length is 32-bit big-endian');
});

test('parseLogsQuery: the query the CLIs send, validated before the stream starts', () => {
  const req = (q: string) => {
    const query = new URLSearchParams(q);
    return {
      query,
      bool: (k: string, d = false) => {
        const v = query.get(k);
        return v === null ? d : !['', '0', 'false', 'no', 'none'].includes(v.trim().toLowerCase());
      },
    };
  };
  assert.deepEqual(parseLogsQuery(req('stderr=1&stdout=1&tail=all')), {
    options: { stdout: true, stderr: true, follow: false, since: undefined, until: undefined, tail: -1 },
    timestamps: false,
  });
  assert.deepEqual(parseLogsQuery(req('stdout=1&follow=1&timestamps=1&tail=2&since=1700000000.5&until=0')), {
    options: { stdout: true, stderr: false, follow: true, since: 1700000000n * S + 500_000_000n, until: undefined, tail: 2 },
    timestamps: true,
  });
  assert.throws(
    () => parseLogsQuery(req('tail=all')),
    (e: unknown) =>
      e instanceof BerthError && e.kind === 'invalid-argument' && e.message === 'Bad parameters: you must choose at least one stream',
  );
  assert.throws(() => parseLogsQuery(req('stdout=1&since=yesterday')), /strconv.ParseInt: parsing "yesterday": invalid syntax/);
});
