import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { copyToFile } from './output-file.js';

async function* chunks(parts: string[], failAfter?: number, pauseMs = 0) {
  for (const [i, p] of parts.entries()) {
    if (i === failAfter) throw Object.assign(new Error('aborted'), { code: 'ECONNRESET' });
    if (pauseMs) await sleep(pauseMs);
    yield Buffer.from(p);
  }
}

describe('copyToFile (save -o, export -o)', () => {
  it('writes the whole stream under the name, 0600, and nothing else', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-out-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'a.tar'), 'old');
    await copyToFile(join(dir, 'a.tar'), chunks(['x'.repeat(1000), 'y']));
    assert.equal(readFileSync(join(dir, 'a.tar'), 'utf8'), `${'x'.repeat(1000)}y`);
    assert.equal(statSync(join(dir, 'a.tar')).mode & 0o777, 0o600);
    assert.deepEqual(readdirSync(dir), ['a.tar']);
  });

  it('a stream cut short leaves the old file as it was and no temp file', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-out-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'a.tar'), 'old');
    await assert.rejects(copyToFile(join(dir, 'a.tar'), chunks(['one', 'two', 'three'], 2)), /aborted/);
    assert.equal(readFileSync(join(dir, 'a.tar'), 'utf8'), 'old');
    assert.deepEqual(readdirSync(dir), ['a.tar']);
  });

  it('shows the bytes written on a terminal only', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-out-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    let tty = '';
    await copyToFile(join(dir, 'b.tar'), chunks(['a'.repeat(2000), 'b'.repeat(1000)], undefined, 300), {
      isTTY: true,
      write: (s: string) => (tty += s),
    });
    assert.match(tty, /b\.tar: 3kB written\n$/);
    let pipe = '';
    await copyToFile(join(dir, 'c.tar'), chunks(['a', 'b'], undefined, 300), { isTTY: false, write: (s: string) => (pipe += s) });
    assert.equal(pipe, '');
  });
});
