import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { nativeIfLoadable } from './addon.js';
import { type ChildLike, spawnProcess } from './spawn.js';

const skip = nativeIfLoadable() ? false : 'the addon is not built (npm run build)';

const read = (s: NodeJS.ReadableStream | null) =>
  new Promise<string>((resolve) => {
    let out = '';
    s?.setEncoding('utf8');
    s?.on('data', (d: string) => {
      out += d;
    });
    s?.on('end', () => resolve(out));
  });
const closed = (c: ChildLike) =>
  new Promise<[number | null, NodeJS.Signals | null]>((resolve) => c.once('close', (code, signal) => resolve([code, signal])));

test('pipes both ways, the exit status, and close after the output', { skip }, async () => {
  const c = spawnProcess('/bin/sh', ['-c', 'cat; echo oops >&2; exit 3'], ['pipe', 'pipe', 'pipe']);
  const [out, err, done] = [read(c.stdout), read(c.stderr), closed(c)];
  c.stdin?.end('hello\n');
  assert.deepEqual(await done, [3, null]);
  assert.equal(await out, 'hello\n');
  assert.equal(await err, 'oops\n');
  assert.equal(c.exitCode, 3);
  assert.equal(existsSync(`/proc/${c.pid}`), false, 'reaped');
});

test('the child holds the fds it was given and nothing else; stdin is a pipe', { skip }, async () => {
  const c = spawnProcess('/bin/sh', ['-c', 'readlink /proc/self/fd/0; ls /proc/self/fd'], ['pipe', 'pipe', 'ignore']);
  const out = read(c.stdout);
  c.stdin?.end();
  await closed(c);
  const [stdin, ...fds] = (await out).trim().split('\n');
  assert.match(stdin!, /^pipe:/);
  // ls itself opens one for /proc/self/fd
  assert.deepEqual(fds.map(Number).filter((n) => n > 2).length, 1, fds.join(' '));
});

test('a socket pair is a two-way channel', { skip }, async () => {
  const c = spawnProcess('/bin/sh', ['-c', 'read x <&3; echo "got $x" >&3'], ['ignore', 'ignore', 'ignore', 'socket']);
  const ch = c.stdio[3] as unknown as NodeJS.ReadWriteStream;
  const out = read(ch);
  ch.write('ping\n');
  await closed(c);
  assert.equal(await out, 'got ping\n');
});

test('kill: the signal is reported as Node reports it', { skip }, async () => {
  const c = spawnProcess('/bin/sleep', ['30'], ['ignore', 'ignore', 'ignore']);
  const done = closed(c);
  assert.equal(c.kill('SIGKILL'), true);
  assert.deepEqual(await done, [null, 'SIGKILL']);
  assert.equal(c.kill('SIGKILL'), false, 'not after the exit');
});

test('a file that cannot run is an error event, as with child_process', { skip }, async () => {
  const c = spawnProcess('/nonexistent/berth-helper', [], ['pipe', 'pipe', 'pipe']);
  const err = await new Promise<NodeJS.ErrnoException>((resolve) => c.once('error', resolve));
  assert.equal(err.code, 'ENOENT');
});
