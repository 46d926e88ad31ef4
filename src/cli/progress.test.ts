import assert from 'node:assert/strict';
import { PassThrough, Readable } from 'node:stream';
import { test } from 'node:test';
import { humanSize } from './format/index.js';
import { displayProgress, newDisplayState, progressString, renderMessage } from './progress.js';
import { CliError } from './types.js';

async function show(messages: string[], isTTY: boolean, onAux?: (a: unknown) => void): Promise<{ text: string; err?: unknown }> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  let err: unknown;
  try {
    await displayProgress(Readable.from(messages.map((m) => Buffer.from(m))), out, { isTTY, columns: 200, ...(onAux ? { onAux } : {}) });
  } catch (e) {
    err = e;
  }
  return { text: Buffer.concat(chunks).toString(), err };
}

const pull = [
  '{"status":"Pulling from bb2","id":"latest"}\r\n',
  '{"status":"Pulling fs layer","progressDetail":{},"id":"e513670bd3fa"}\r\n{"status":"Pulling fs layer","progressDetail":{},"id":"aaaaaaaaaaaa"}\r\n',
  '{"status":"Downloading","progressDetail":{"current":36445,"total":1064744},"progress":"[=>   ]","id":"e513670bd3fa"}\r\n',
  '{"status":"Download complete","progressDetail":{},"id":"e513670bd3fa"}\r\n{"status":"Pull complete","progressDetail":{},"id":"e513670bd3fa"}\r\n',
  '{"status":"Digest: sha256:710e"}\r\n{"status":"Status: Downloaded newer image for localhost:5001/bb2:latest"}\r\n',
];

test('human sizes are go-units HumanSize', () => {
  assert.equal(humanSize(36445), '36.45kB');
  assert.equal(humanSize(1064744), '1.065MB');
  assert.equal(humanSize(0), '0B');
  assert.equal(humanSize(999), '999B');
  assert.equal(humanSize(100000), '100kB');
  assert.equal(humanSize(1982286), '1.982MB');
});

test('the bar: width > 110 draws it, counts are right-aligned to 8', () => {
  assert.equal(progressString({ current: 36445, total: 1064744 }, 200), `[=>${' '.repeat(49)}]  36.45kB/1.065MB`);
  assert.equal(progressString({ current: 36445, total: 1064744 }, 80), ' 36.45kB/1.065MB');
  assert.equal(progressString({ current: 2000000, total: 1000 }, 200), `[${'='.repeat(50)}>] ${'   2MB'.padStart(8)}`);
  assert.equal(progressString({}, 200), '');
  assert.equal(progressString({ current: 5 }, 200), '      5B');
  assert.equal(
    progressString({ current: 500, total: 1000, start: 100 }, 200, 110_000),
    `[${'='.repeat(25)}>${' '.repeat(25)}]     500B/1kB 10s`,
  );
});

test('not a terminal: plain lines, bars left out', async () => {
  const { text, err } = await show(pull, false);
  assert.equal(err, undefined);
  assert.equal(
    text,
    [
      'latest: Pulling from bb2',
      'e513670bd3fa: Pulling fs layer',
      'aaaaaaaaaaaa: Pulling fs layer',
      'e513670bd3fa: Download complete',
      'e513670bd3fa: Pull complete',
      'Digest: sha256:710e',
      'Status: Downloaded newer image for localhost:5001/bb2:latest',
      '',
    ].join('\n'),
  );
});

test('a terminal: one line per layer, redrawn in place', async () => {
  const { text } = await show(pull, true);
  const E = '\x1b[';
  assert.ok(text.startsWith('latest: Pulling from bb2\n'));
  // the first layer: a new line, up 1, erase, the status, down 1
  assert.ok(text.includes(`\n${E}1A${E}2K\re513670bd3fa: Pulling fs layer \r${E}1B`));
  // the second layer's line is below; redrawing the first goes up 2
  assert.ok(text.includes(`${E}2A${E}2K\re513670bd3fa: Downloading [=>`));
  assert.ok(text.includes(' 36.45kB/1.065MB\r'));
  assert.ok(text.endsWith('Digest: sha256:710e\nStatus: Downloaded newer image for localhost:5001/bb2:latest\n'));
});

test('errorDetail: a CliError with the message, exit 1; aux goes to the callback', async () => {
  const aux: unknown[] = [];
  const { text, err } = await show(
    [
      '{"status":"The push refers to repository [x]"}\n',
      '{"progressDetail":{},"aux":{"Tag":"v1","Digest":"sha256:1","Size":527}}',
      '{"errorDetail":{"message":"denied: requested access to the resource is denied"},"error":"denied"}',
      '{"status":"never shown"}',
    ],
    false,
    (a) => aux.push(a),
  );
  assert.ok(err instanceof CliError);
  assert.equal(err.message, 'denied: requested access to the resource is denied');
  assert.equal(err.exitCode, 1);
  assert.deepEqual(aux, [{ Tag: 'v1', Digest: 'sha256:1', Size: 527 }]);
  assert.equal(text, 'The push refers to repository [x]\n');
});

test('a broken stream: garbage or cut short is an error, exit 1', async () => {
  const cut = await show(['{"status":"a"}\n{"status":"Downlo'], false);
  assert.ok(cut.err instanceof CliError);
  assert.equal(cut.err.message, 'unexpected EOF');
  assert.equal(cut.text, 'a\n');
  const junk = await show(['{"status":"a"}\n<html>'], false);
  assert.ok(junk.err instanceof CliError);
  assert.match(junk.err.message, /invalid character '<'/);
  const split = await show(['{"status":"x}{\\"', '"}  {"id":"l","status":"s","progressDetail":{}}'], false);
  assert.equal(split.text, 'x}{"\nl: s\n');
});

test('stream messages and from/time fields', () => {
  const st = newDisplayState();
  assert.equal(renderMessage({ stream: 'Step 1/2\n' }, st, false).text, 'Step 1/2\n');
  assert.equal(renderMessage({ status: 'pull', id: 'busybox', from: 'x' }, st, false).text, 'busybox: (from x) pull\n');
  assert.equal(renderMessage({ status: 'Loading layer', progress: '[==>]', id: 'abc' }, st, false).text, 'abc: Loading layer [==>]'); // no newline: Go's Display does the same
});
