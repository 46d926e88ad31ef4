import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { lsetxattr, mknodat } from '../../native/addon.js';
import { lowerStat, overlayChanges } from './changes.js';

const root = process.getuid?.() === 0;
const AT_FDCWD = -100;
const S_IFCHR = 0o020000;

describe('overlayChanges (dockerd overlay2 diff)', () => {
  let dir: string;
  let upper: string;
  let lower1: string;
  let lower0: string;
  const t = new Date('2026-01-01T00:00:00Z');
  const f = (p: string, text = 'x') => {
    mkdirSync(join(p, '..'), { recursive: true });
    writeFileSync(p, text);
  };
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'berth-changes-'));
    upper = join(dir, 'upper');
    lower1 = join(dir, 'l1'); // top lower
    lower0 = join(dir, 'l0');
    for (const d of [upper, lower1, lower0]) mkdirSync(d);
    // the image: /etc/passwd, /bin/ls, /lib -> /usr/lib (absolute, must not be followed), /usr/lib/a, /var
    f(join(lower0, 'etc/passwd'), 'root');
    f(join(lower0, 'bin/ls'), 'ls');
    f(join(lower0, 'usr/lib/a'));
    symlinkSync('/usr/lib', join(lower0, 'lib'));
    mkdirSync(join(lower0, 'var'));
    mkdirSync(join(lower0, 'same'));
    f(join(lower1, 'etc/hosts'));
    // the container: /etc/passwd changed, /tmp/x added (tmp new), /lib/b where the lower has a symlink
    f(join(upper, 'etc/passwd'), 'changed');
    f(join(upper, 'tmp/x'));
    f(join(upper, 'lib/b'));
    mkdirSync(join(upper, 'same'));
    f(join(upper, 'a/b/c'));
    // a copied-up directory keeps the lower's times (skipped); one whose entries changed does not
    for (const p of ['same', 'lib']) utimesSync(join(upper, p), t, t);
    utimesSync(join(lower0, 'same'), t, t);
    utimesSync(join(lower1, 'etc'), t, t);
    utimesSync(join(upper, 'etc'), new Date(t.getTime() + 1000), new Date(t.getTime() + 1000));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('looks up lowers without following symlinks, top layer first', async () => {
    assert.equal((await lowerStat([lower1, lower0], 'etc/hosts'))?.isFile(), true);
    assert.equal((await lowerStat([lower1, lower0], 'etc/passwd'))?.isFile(), true);
    assert.equal(await lowerStat([lower1, lower0], 'lib/a'), null); // /lib is a symlink in the lower
    assert.equal((await lowerStat([lower1, lower0], 'lib'))?.isSymbolicLink(), true);
    assert.equal(await lowerStat([lower1, lower0], 'nope/x'), null);
  });

  it('lists added, modified and parent directories in walk order', async () => {
    const changes = await overlayChanges(upper, [lower1, lower0]);
    assert.deepEqual(changes, [
      { Path: '/a', Kind: 1 },
      { Path: '/a/b', Kind: 1 },
      { Path: '/a/b/c', Kind: 1 },
      { Path: '/etc', Kind: 0 },
      { Path: '/etc/passwd', Kind: 0 },
      { Path: '/lib', Kind: 0 },
      { Path: '/lib/b', Kind: 1 },
      { Path: '/tmp', Kind: 1 },
      { Path: '/tmp/x', Kind: 1 },
    ]);
  });

  it('whiteouts are deletions, an opaque directory is deleted then its content added', {
    skip: root ? undefined : 'mknod and trusted.* xattrs need root',
  }, async () => {
    mkdirSync(join(upper, 'bin'));
    utimesSync(join(upper, 'bin'), t, t);
    utimesSync(join(lower0, 'bin'), t, t);
    mknodat(AT_FDCWD, join(upper, 'bin/ls'), S_IFCHR | 0o644, 0, 0);
    mkdirSync(join(upper, 'var'));
    lsetxattr(join(upper, 'var'), 'trusted.overlay.opaque', 'y', 0);
    f(join(upper, 'var/n'));
    const changes = await overlayChanges(upper, [lower1, lower0]);
    const of = (p: string) => changes.filter((c) => c.Path === p || c.Path.startsWith(`${p}/`));
    // /bin is the same dir as the lower's (only there as the parent): listed once, as moby does
    assert.deepEqual(of('/bin'), [
      { Path: '/bin', Kind: 0 },
      { Path: '/bin/ls', Kind: 2 },
    ]);
    assert.deepEqual(of('/var'), [
      { Path: '/var', Kind: 2 },
      { Path: '/var/n', Kind: 1 },
    ]);
    // a whiteout in a higher lower hides the file below it
    mknodat(AT_FDCWD, join(lower1, 'etc/passwd'), S_IFCHR | 0o644, 0, 0);
    assert.equal(await lowerStat([lower1, lower0], 'etc/passwd'), null);
    rmSync(join(lower1, 'etc/passwd'));
  });

  it('an empty upper is no change', async () => {
    const empty = join(dir, 'empty');
    mkdirSync(empty);
    assert.deepEqual(await overlayChanges(empty, [lower0]), []);
  });
});

describe('the init layer is not a change', () => {
  it('leaves out the runtime mount targets and the directories they alone touched', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-changes-init-'));
    try {
      const upper = join(dir, 'u');
      const lower = join(dir, 'l');
      mkdirSync(join(lower, 'etc'), { recursive: true });
      mkdirSync(join(upper, 'etc'), { recursive: true });
      writeFileSync(join(upper, 'etc/hosts'), '');
      writeFileSync(join(upper, 'etc/resolv.conf'), '');
      mkdirSync(join(upper, 'dev/pts'), { recursive: true });
      mkdirSync(join(upper, 'proc'));
      utimesSync(join(upper, 'etc'), new Date(5000), new Date(5000));
      assert.deepEqual(await overlayChanges(upper, [lower]), []);
      writeFileSync(join(upper, 'etc/new'), '');
      assert.deepEqual(await overlayChanges(upper, [lower]), [
        { Path: '/etc', Kind: 0 },
        { Path: '/etc/new', Kind: 1 },
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
