import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkTty, DEFAULT_DETACH_KEYS, detachKeysFor, EscapeMatcher, monitorTtySize, parseDetachKeys, RawTerminal } from './terminal.js';
import { CliError } from './types.js';

describe('detach keys', () => {
  it('parses docker specs', () => {
    assert.deepEqual(parseDetachKeys('ctrl-p,ctrl-q'), [0x10, 0x11]);
    assert.deepEqual(parseDetachKeys('ctrl-@,ctrl-_,ctrl-\\'), [0, 31, 28]);
    assert.deepEqual(parseDetachKeys('a,ctrl-a'), [0x61, 1]);
    assert.throws(() => parseDetachKeys('ctrl-'), /^Error: Unknown character: 'ctrl-'$/);
    assert.throws(() => parseDetachKeys('foo'), /Unknown character: 'foo'/);
  });
  it('takes the flag, then config.json, then the default; a bad spec falls back with a warning', () => {
    assert.deepEqual(detachKeysFor('', undefined).keys, DEFAULT_DETACH_KEYS);
    assert.deepEqual(detachKeysFor('', 'ctrl-a').keys, [1]);
    assert.deepEqual(detachKeysFor('ctrl-b', 'ctrl-a').keys, [2]);
    const bad = detachKeysFor('nope', undefined);
    assert.deepEqual(bad.keys, DEFAULT_DETACH_KEYS);
    assert.match(bad.warning ?? '', /invalid detach escape keys, using default: Unknown character: 'nope'/);
  });
});

describe('EscapeMatcher', () => {
  const keys = [0x10, 0x11];
  it('detaches on the sequence in one chunk, passing what came before', () => {
    const m = new EscapeMatcher(keys);
    assert.deepEqual(m.push(Buffer.from('ls\x10\x11after')), { data: Buffer.from('ls'), detached: true });
  });
  it('detaches across chunks and holds the first key meanwhile', () => {
    const m = new EscapeMatcher(keys);
    assert.deepEqual(m.push(Buffer.from('a\x10')), { data: Buffer.from('a'), detached: false });
    assert.deepEqual(m.push(Buffer.from('\x11')), { data: Buffer.alloc(0), detached: true });
  });
  it('gives back a broken-off sequence', () => {
    const m = new EscapeMatcher(keys);
    assert.deepEqual(m.push(Buffer.from('\x10')).data, Buffer.alloc(0));
    assert.deepEqual(m.push(Buffer.from('x')), { data: Buffer.from('\x10x'), detached: false });
    // ctrl-p ctrl-p ctrl-q: the first ctrl-p passes, the pair detaches
    const n = new EscapeMatcher(keys);
    assert.deepEqual(n.push(Buffer.from('\x10\x10\x11')), { data: Buffer.from('\x10'), detached: true });
  });
  it('passes everything with no keys, and handles a one-key sequence', () => {
    assert.deepEqual(new EscapeMatcher([]).push(Buffer.from('\x10\x11')), { data: Buffer.from('\x10\x11'), detached: false });
    assert.deepEqual(new EscapeMatcher([1]).push(Buffer.from('ab\x01c')), { data: Buffer.from('ab'), detached: true });
  });
});

describe('checkTty', () => {
  it('refuses stdin attached to a tty container without a terminal, as docker (exit 1)', () => {
    assert.throws(
      () => checkTty(true, true, () => ({ isTTY: false })),
      (e: unknown) => e instanceof CliError && e.message === 'the input device is not a TTY' && e.exitCode === 1,
    );
    const unasked = () => assert.fail('stdin asked for');
    checkTty(false, true, unasked);
    checkTty(true, false, unasked);
    checkTty(true, true, () => ({ isTTY: true }));
  });
});

describe('RawTerminal', () => {
  it('sets raw mode once and restores it once, also at exit', () => {
    const calls: boolean[] = [];
    const input = { isTTY: true, setRawMode: (m: boolean) => calls.push(m) };
    const before = process.listenerCount('exit');
    const t = RawTerminal.enter(input);
    assert.ok(t);
    assert.equal(process.listenerCount('exit'), before + 1);
    assert.equal(process.listenerCount('SIGHUP') > 0, true);
    t.restore();
    t.restore();
    assert.deepEqual(calls, [true, false]);
    assert.equal(process.listenerCount('exit'), before);
    assert.equal(RawTerminal.enter({ isTTY: false, setRawMode: () => {} }), undefined);
  });
});

describe('monitorTtySize', () => {
  it('sends the size now and on each resize, retrying the first', async () => {
    const listeners: (() => void)[] = [];
    const out = { isTTY: true, rows: 30, columns: 100, on: (_: 'resize', l: () => void) => listeners.push(l), off: () => {} };
    const sent: [number, number][] = [];
    let fail = 2;
    const stop = monitorTtySize(out, async (h, w) => {
      if (fail-- > 0) throw new Error('not yet');
      sent.push([h, w]);
    });
    for (let i = 0; i < 200 && sent.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    out.rows = 40;
    out.columns = 120;
    for (const l of listeners) l();
    for (let i = 0; i < 200 && sent.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
    stop();
    assert.deepEqual(sent, [
      [30, 100],
      [40, 120],
    ]);
  });
});
