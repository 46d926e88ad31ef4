/**
 * The runtime front reads the Node runtime's state.json with its own JSON reader
 * (native/runtime-front/json.c). It must accept exactly what JSON.parse accepts — a record
 * JSON.parse would refuse has to reach Node, which says what is wrong with it — and read the
 * values the front uses (strings, integers) as JSON.parse does. Compared here on generated JSON
 * texts and on mutations of them, through native/test/json-driver.c. No root needed.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { fuzzRuns } from './helpers/fuzz-runs.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const DRIVER = join(ROOT, 'native/build/json-driver');
const KEYS = ['id', 'pid', 'k'];

function build(): string | undefined {
  const make = spawnSync('make', ['-s', '-C', join(ROOT, 'native'), 'build/json-driver'], { encoding: 'utf8' });
  return make.status === 0 ? undefined : `make build/json-driver failed: ${make.stderr}`;
}

/** What the C reader says about each text, one line per text. */
function readAll(texts: string[]): string[] {
  const frames = texts.map((t) => {
    const body = Buffer.from(t, 'utf8');
    const len = Buffer.alloc(4);
    len.writeUInt32LE(body.length);
    return Buffer.concat([len, body]);
  });
  const r = spawnSync(DRIVER, KEYS, { input: Buffer.concat(frames), encoding: 'utf8', maxBuffer: 64 << 20 });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split('\n').slice(0, -1);
}

/** What the C reader should say, from JSON.parse. `*` where the reader may differ (a value it declines to read). */
function expected(text: string): string {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return 'bad';
  }
  const fields = KEYS.map((k) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v) || !Object.hasOwn(v, k)) return '-';
    const x = (v as Record<string, unknown>)[k];
    if (typeof x === 'string') {
      // the reader declines strings with a NUL or a lone surrogate (no path or pid has them)
      if (x.includes('\0') || /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(x)) return '?';
      return `s:${Buffer.from(x, 'utf8').toString('hex')}`;
    }
    // integers written as plain digits are read; 1.0 or 1e3 are declined ('?'), which only
    // sends the verb to Node: either answer is safe for numbers the text may spell either way
    if (typeof x === 'number' && Number.isSafeInteger(x)) return '*';
    return '?';
  });
  return ['ok', ...fields].join(' ');
}

function agree(raw: string[]): void {
  // as a file holds them: a lone surrogate of a JS string is written as U+FFFD (what Node's
  // readFileSync gives back too); escaped ones (\\ud800) stay
  const texts = raw.map((t) => Buffer.from(t, 'utf8').toString('utf8'));
  const got = readAll(texts);
  assert.equal(got.length, texts.length);
  texts.forEach((t, i) => {
    const want = expected(t).split(' ');
    const have = got[i]!.split(' ');
    assert.equal(have[0], want[0], `acceptance of ${JSON.stringify(t)}: C says ${got[i]}, JSON.parse ${want.join(' ')}`);
    want.forEach((w, j) => {
      if (w === '*') assert.ok(have[j] === '?' || /^i:-?\d+$/.test(have[j]!), `${JSON.stringify(t)}: ${got[i]}`);
      else assert.equal(have[j], w, `${JSON.stringify(t)}: C says ${got[i]}, JSON.parse ${want.join(' ')}`);
    });
    // an integer read must be the one JSON.parse reads
    have.forEach((h, j) => {
      if (!h.startsWith('i:')) return;
      const v = (JSON.parse(t) as Record<string, unknown>)[KEYS[j - 1]!];
      assert.equal(Number(h.slice(2)), v, `${JSON.stringify(t)}: ${h}`);
    });
  });
}

const skip = build();

test('the front reads what JSON.parse reads: hand-picked texts', { skip }, () => {
  agree([
    '{"id":"x","pid":12,"k":"a\\"b\\\\c\\/d\\b\\f\\n\\r\\t"}',
    '{"id":"\\u00e9\\ud83d\\ude00","pid":-7}',
    '{"id":"\\ud800"}',
    '{"id":"a\\u0000b"}',
    '{"pid":1.0,"k":1e3,"id":null}',
    '{"pid":01}',
    '{"pid":-}',
    '{"pid":1.}',
    '{"pid":.5}',
    '{"pid":1e}',
    '{"id":"x",}',
    '{"id":"x" "k":1}',
    '[1,2,]',
    '{"id":"tab\there"}',
    '\ufeff{}',
    ' \t\n\r{"k":true} \n',
    '{"k":tru}',
    '{"id":"x"}{}',
    '{"id":"x","id":"y"}',
    '"just a string"',
    '',
    '{"a":[{"b":[[[{}]]]}],"k":[1,{"c":"d"}],"pid":9007199254740991}',
    '{"pid":99999999999999999999}',
    '{"\\u0069d":"escaped key"}',
  ]);
});

test('the front reads what JSON.parse reads: generated texts and their mutations', { skip }, () => {
  const record = fc.record(
    {
      id: fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.integer()),
      pid: fc.oneof(fc.integer(), fc.double(), fc.string()),
      k: fc.jsonValue(),
      config: fc.jsonValue(),
    },
    { requiredKeys: [] },
  );
  const text = fc.oneof(
    record.map((r) => JSON.stringify(r)),
    record.map((r) => JSON.stringify(r, null, 2)),
    fc.jsonValue().map((v) => JSON.stringify(v)),
  );
  const alphabet = fc.constantFrom(...'{}[]":,\\ \t\n0123456789-+.eEtrufalsn'.split(''), '\\u', '\u0001', 'é', '\ud800');
  const edit = fc.record({ at: fc.nat(), cut: fc.nat({ max: 3 }), put: fc.array(alphabet, { maxLength: 3 }) });
  const mutated = fc.tuple(text, fc.array(edit, { minLength: 1, maxLength: 3 })).map(([t, edits]) => {
    let s = t;
    for (const e of edits) {
      const at = s.length === 0 ? 0 : e.at % (s.length + 1);
      s = s.slice(0, at) + e.put.join('') + s.slice(at + e.cut);
    }
    return s;
  });
  // many texts per driver process: fast-check draws them, one run compares them all
  fc.assert(
    fc.property(fc.array(fc.oneof(text, mutated, mutated), { minLength: 50, maxLength: 50 }), (texts) => {
      agree(texts);
    }),
    { numRuns: fuzzRuns(20) },
  );
});
