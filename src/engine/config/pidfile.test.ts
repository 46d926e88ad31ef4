import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { BerthError } from '../../common/errors.js';
import { claimPidfile, looksLikeBerthd, readPidfile, writePidfile } from './pidfile.js';

function scratch(t: { after(fn: () => void): void }) {
  const dir = mkdtempSync(join(tmpdir(), 'berth-pidfile-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const proc = join(dir, 'proc');
  const fakeProcess = (pid: number, argv: string[]) => {
    mkdirSync(join(proc, String(pid)), { recursive: true });
    writeFileSync(join(proc, String(pid), 'cmdline'), `${argv.join('\0')}\0`);
  };
  return { dir, proc, fakeProcess };
}

describe('pid file', () => {
  it('recognizes berthd command lines', () => {
    assert.ok(looksLikeBerthd('/usr/local/bin/berthd\0-D\0'));
    assert.ok(looksLikeBerthd('node\0/opt/berth/dist/berthd.cjs\0'));
    assert.ok(looksLikeBerthd('node\0--import\0tsx\0src/bin/berthd.ts\0'));
    assert.ok(!looksLikeBerthd('/usr/bin/dockerd\0'));
    assert.ok(!looksLikeBerthd('sleep\0infinity\0'));
    assert.ok(!looksLikeBerthd('vim\0/etc/berthd.conf\0'));
    assert.ok(!looksLikeBerthd(''));
  });

  it('writes the pid (creating the directory), leaves no temp file, removes it at shutdown', (t) => {
    const { dir } = scratch(t);
    const file = join(dir, 'run', 'berthd.pid');
    const p = writePidfile(file);
    assert.equal(readFileSync(file, 'utf8'), `${process.pid}\n`);
    assert.deepEqual(readdirSync(join(dir, 'run')), ['berthd.pid']);
    p.remove();
    assert.equal(readPidfile(file), undefined);
    p.remove(); // idempotent
  });

  it('refuses while a live berthd holds it', (t) => {
    const { dir, proc, fakeProcess } = scratch(t);
    const file = join(dir, 'berthd.pid');
    writeFileSync(file, '4242\n');
    fakeProcess(4242, ['node', '/opt/berth/dist/berthd.cjs']);
    assert.throws(
      () => writePidfile(file, { proc }),
      (err: unknown) =>
        err instanceof BerthError &&
        err.kind === 'failed-precondition' &&
        err.message === `pid file found, ensure berthd is not running or delete ${file}`,
    );
    assert.equal(readFileSync(file, 'utf8'), '4242\n', 'the live daemon keeps its file');
  });

  it('replaces a stale file: dead pid, a pid reused by another program, or garbage', (t) => {
    const { dir, proc, fakeProcess } = scratch(t);
    const file = join(dir, 'berthd.pid');
    for (const [content, setup] of [
      ['4243\n', () => {}],
      ['4244\n', () => fakeProcess(4244, ['/usr/sbin/sshd', '-D'])],
      ['not a pid', () => {}],
    ] as const) {
      writeFileSync(file, content);
      setup();
      const p = writePidfile(file, { proc, pid: 777 });
      assert.equal(readPidfile(file), 777);
      p.remove();
    }
  });

  it('removal leaves a file that names another process (a successor wrote it)', (t) => {
    const { dir } = scratch(t);
    const file = join(dir, 'berthd.pid');
    const p = writePidfile(file, { pid: 1000 });
    writeFileSync(file, '2000\n');
    p.remove();
    assert.equal(readPidfile(file), 2000);
  });

  it('reports an unwritable location as verb and object', (t) => {
    const { dir } = scratch(t);
    writeFileSync(join(dir, 'notadir'), '');
    assert.throws(() => writePidfile(join(dir, 'notadir', 'x.pid')), /^BerthError: read pid file '.*notadir\/x.pid': not a directory$/);
  });
});

describe('claimed pid file', () => {
  it('of two claims at once, exactly one wins; after release the file is claimable again', async (t) => {
    const { dir } = scratch(t);
    const file = join(dir, 'run', 'berthd.pid');
    const results = await Promise.allSettled([claimPidfile(file, { pid: 1001 }), claimPidfile(file, { pid: 1002 })]);
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r) => r.status === 'rejected');
    assert.equal(won.length, 1);
    assert.equal(lost.length, 1);
    assert.match(String((lost[0] as PromiseRejectedResult).reason), /pid file found, ensure berthd is not running or delete/);
    const held = (won[0] as PromiseFulfilledResult<Awaited<ReturnType<typeof claimPidfile>>>).value;
    assert.ok([1001, 1002].includes(readPidfile(file)!));
    await held.release();
    assert.equal(readPidfile(file), undefined);
    await using again = await claimPidfile(file, { pid: 1003 });
    assert.equal(readPidfile(file), 1003);
    assert.equal(again.path, file);
  });

  it('the lock holds across processes', async (t) => {
    const { dir } = scratch(t);
    const file = join(dir, 'berthd.pid');
    await using _held = await claimPidfile(file, { pid: 1004 });
    // another process tries, with its own pid: refused by the lock, though 1004 is no berthd
    const code = `import { claimPidfile } from ${JSON.stringify(new URL('./pidfile.ts', import.meta.url).href)};
      claimPidfile(${JSON.stringify(file)}).then(() => process.exit(0), (e) => { console.log(e.message); process.exit(3); });`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { encoding: 'utf8' });
    assert.equal(r.status, 3, r.stderr);
    assert.equal(r.stdout.trim(), `pid file found, ensure berthd is not running or delete ${file}`);
    assert.equal(readPidfile(file), 1004);
  });
});
