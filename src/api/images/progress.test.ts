import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { JsonMessage } from '../types.js';
import { formatG, humanSize, PullProgress, progressBar, toJsonMessage } from './progress.js';

describe('humanSize and the progress bar, as go-units and jsonmessage render them', () => {
  it('formats like %.4g with decimal units', () => {
    assert.equal(humanSize(36445), '36.45kB');
    assert.equal(humanSize(1064744), '1.065MB');
    assert.equal(humanSize(512), '512B');
    assert.equal(humanSize(0), '0B');
    assert.equal(humanSize(1000), '1kB');
    assert.equal(humanSize(1_982_286), '1.982MB');
    assert.equal(humanSize(999_999), '1000kB', 'rounds up within the unit, as Go does');
  });
  it('rounds exact ties to even, as Go does (JS toPrecision rounds them up)', () => {
    assert.equal(formatG(1.0625, 4), '1.062');
    assert.equal(formatG(1.0635, 4), '1.063', '1.0635 is 1.06349999… in binary: nearest, down');
    assert.equal(formatG(1.0675, 4), '1.067', '1.06749999… in binary: down');
    assert.equal(formatG(1.1875, 4), '1.188', 'an exact tie with an odd last digit: up to even');
    assert.equal(formatG(0.5, 4), '0.5');
    assert.equal(formatG(123456, 4), '1.235e+05');
  });
  it('draws the 50-column bar with the numbers box', () => {
    assert.equal(progressBar(36445, 1064744), `[=>${' '.repeat(49)}]  36.45kB/1.065MB`);
    assert.equal(progressBar(1064744, 1064744), `[${'='.repeat(50)}>]  1.065MB/1.065MB`);
    assert.equal(progressBar(0, 0), '');
    assert.equal(progressBar(2000, 0), '     2kB');
    assert.equal(progressBar(2000, 1000), `[${'='.repeat(50)}>]      2kB`, 'a wonky current drops the total');
  });
});

describe('toJsonMessage', () => {
  it('writes dockerd key order and its progressDetail rules', () => {
    assert.equal(
      JSON.stringify(toJsonMessage({ id: 'latest', status: 'Pulling from bb2' })),
      '{"status":"Pulling from bb2","id":"latest"}',
    );
    assert.equal(
      JSON.stringify(toJsonMessage({ id: 'e513670bd3fa', status: 'Pulling fs layer' })),
      '{"status":"Pulling fs layer","progressDetail":{},"id":"e513670bd3fa"}',
    );
    const dl = toJsonMessage({ id: 'e513670bd3fa', status: 'Downloading', current: 36445, total: 1064744 });
    assert.deepEqual(Object.keys(dl), ['status', 'progressDetail', 'progress', 'id']);
    assert.deepEqual(dl.progressDetail, { current: 36445, total: 1064744 });
    assert.deepEqual(toJsonMessage({ id: 'x', status: 'Extracting', current: 0, total: 10 }).progressDetail, { total: 10 });
    assert.equal(JSON.stringify(toJsonMessage({ status: 'Digest: sha256:ab' })), '{"status":"Digest: sha256:ab"}');
  });
});

function run(events: Parameters<PullProgress['event']>[0][], imageWasHere = false): JsonMessage[] {
  const out: JsonMessage[] = [];
  const p = new PullProgress((m) => out.push(m));
  for (const e of events) p.event(e);
  p.finish(imageWasHere);
  return out;
}

describe('PullProgress: the puller events in dockerd order', () => {
  it('holds "Pulling from" until the manifest resolved (nothing written before a 404)', () => {
    const out: JsonMessage[] = [];
    const p = new PullProgress((m) => out.push(m));
    p.event({ id: 'nope', status: 'Pulling from bb2' });
    assert.equal(out.length, 0);
    assert.equal(p.started, false);
  });
  it('a fresh pull keeps every message, in order', () => {
    const out = run([
      { id: '1', status: 'Pulling from bb' },
      { id: 'aaa', status: 'Pulling fs layer' },
      { id: 'bbb', status: 'Pulling fs layer' },
      { id: 'aaa', status: 'Waiting' },
      { id: 'aaa', status: 'Downloading', current: 5, total: 10 },
      { id: 'aaa', status: 'Pull complete' },
      { status: 'Digest: sha256:d' },
      { status: 'Status: Downloaded newer image for bb:1' },
    ]);
    assert.deepEqual(
      out.map((m) => `${m.id ?? ''} ${m.status}`),
      [
        '1 Pulling from bb',
        'aaa Pulling fs layer',
        'bbb Pulling fs layer',
        'aaa Waiting',
        'aaa Downloading',
        'aaa Pull complete',
        ' Digest: sha256:d',
        ' Status: Downloaded newer image for bb:1',
      ],
    );
  });
  it('a layer present says only "Already exists"', () => {
    const out = run([
      { id: '1', status: 'Pulling from bb' },
      { id: 'aaa', status: 'Pulling fs layer' },
      { id: 'bbb', status: 'Pulling fs layer' },
      { id: 'aaa', status: 'Already exists' },
      { id: 'bbb', status: 'Waiting' },
      { status: 'Digest: sha256:d' },
    ]);
    assert.deepEqual(
      out.map((m) => `${m.id ?? ''} ${m.status}`),
      ['1 Pulling from bb', 'aaa Already exists', 'bbb Pulling fs layer', 'bbb Waiting', ' Digest: sha256:d'],
    );
  });
  const allThere = [
    { id: '1', status: 'Pulling from bb' },
    { id: 'aaa', status: 'Pulling fs layer' },
    { id: 'aaa', status: 'Already exists' },
    { status: 'Digest: sha256:d' },
    { status: 'Status: Image is up to date for bb:1' },
  ];
  it('an image already here prints no layer lines (an up-to-date pull)', () => {
    const out = run(allThere, true);
    assert.deepEqual(
      out.map((m) => `${m.id ?? ''} ${m.status}`),
      ['1 Pulling from bb', ' Digest: sha256:d', ' Status: Image is up to date for bb:1'],
    );
  });
  it('every layer here but not the image (shared layers, or removed before GC): "Already exists" lines', () => {
    const out = run(allThere, false);
    assert.deepEqual(
      out.map((m) => `${m.id ?? ''} ${m.status}`),
      ['1 Pulling from bb', 'aaa Already exists', ' Digest: sha256:d', ' Status: Image is up to date for bb:1'],
    );
  });
});
