import assert from 'node:assert/strict';
import {
  closeSync,
  constants,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fromErrno } from '../common/errors.js';
import {
  AT_FDCWD,
  lgetxattr,
  llistxattr,
  lremovexattr,
  lsetxattr,
  mknod,
  mount,
  nativeIfLoadable,
  openat2,
  Resolve,
  removeTree,
  umount2,
  XattrFlags,
} from './addon.js';

function tmp(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'berth-addon-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('xattrs: set, get, list, remove, with errno-carrying errors', (t) => {
  const dir = tmp(t);
  const file = path.join(dir, 'f');
  writeFileSync(file, 'x');
  assert.equal(lgetxattr(file, 'user.berth'), undefined);
  lsetxattr(file, 'user.berth', Buffer.from([0, 1, 2, 255]));
  assert.deepEqual(lgetxattr(file, 'user.berth'), Buffer.from([0, 1, 2, 255]));
  lsetxattr(file, 'user.other', 'text');
  assert.deepEqual(
    llistxattr(file)
      .filter((n) => n.startsWith('user.'))
      .sort(),
    ['user.berth', 'user.other'],
  );
  assert.throws(
    () => lsetxattr(file, 'user.berth', 'again', XattrFlags.CREATE),
    (e: NodeJS.ErrnoException) => e.code === 'EEXIST' && e.syscall === 'lsetxattr' && e.path === file,
  );
  lremovexattr(file, 'user.berth');
  assert.equal(lgetxattr(file, 'user.berth'), undefined);
  assert.throws(() => lremovexattr(file, 'user.berth'), { code: 'ENODATA' });

  // fromErrno reads the addon's errors as it reads Node's.
  const missing = path.join(dir, 'missing');
  try {
    lgetxattr(missing, 'user.x');
    assert.fail('lgetxattr of a missing file succeeded');
  } catch (err) {
    assert.equal((err as NodeJS.ErrnoException).code, 'ENOENT');
    const e = fromErrno('read xattrs', missing, err);
    assert.equal(e.kind, 'not-found');
    assert.equal(e.message, `read xattrs '${missing}': no such file or directory`);
  }
});

test('xattrs are read from a symlink itself, not its target; Buffer paths pass raw bytes', (t) => {
  const dir = tmp(t);
  const target = path.join(dir, 'target');
  writeFileSync(target, '');
  lsetxattr(target, 'user.t', 'on-target');
  symlinkSync('target', path.join(dir, 'link'));
  assert.equal(lgetxattr(path.join(dir, 'link'), 'user.t'), undefined);
  // a name that is not UTF-8
  const raw = Buffer.concat([Buffer.from(`${dir}/`), Buffer.from([0xff, 0xfe])]);
  writeFileSync(raw, '');
  lsetxattr(raw, 'user.raw', 'y');
  assert.equal(lgetxattr(raw, 'user.raw')?.toString(), 'y');
  assert.throws(() => lgetxattr(`${dir}/a\0b`, 'user.x'), /must not contain NUL/);
  assert.throws(() => lgetxattr(42 as unknown as string, 'user.x'), /must be a string or a Buffer/);
});

test('openat2 with RESOLVE_BENEATH refuses a symlink and an escape, and opens what is beneath', (t) => {
  const dir = tmp(t);
  mkdirSync(path.join(dir, 'sub'));
  writeFileSync(path.join(dir, 'sub', 'f'), 'inside');
  symlinkSync('/etc', path.join(dir, 'etc'));
  const root = openat2(AT_FDCWD, dir, constants.O_RDONLY | constants.O_DIRECTORY, 0);
  t.after(() => closeSync(root));
  const beneath = Resolve.BENEATH | Resolve.NO_SYMLINKS;
  const fd = openat2(root, 'sub/f', constants.O_RDONLY, beneath);
  assert.equal(readFileSync(fd, 'utf8'), 'inside');
  closeSync(fd);
  assert.throws(() => openat2(root, 'etc/passwd', constants.O_RDONLY, beneath), { code: 'ELOOP' });
  assert.throws(() => openat2(root, '../x', constants.O_RDONLY, beneath), { code: 'EXDEV' });
});

test('mknod makes a fifo (any user) and a char device (root)', (t) => {
  const dir = tmp(t);
  mknod(path.join(dir, 'fifo'), constants.S_IFIFO | 0o600);
  assert.ok(statSync(path.join(dir, 'fifo')).isFIFO());
  assert.throws(() => mknod(path.join(dir, 'fifo'), constants.S_IFIFO | 0o600), { code: 'EEXIST' });
  assert.throws(() => mknod(path.join(dir, 'big'), constants.S_IFCHR, 1 << 12, 0), { code: 'EINVAL' });
  if (process.getuid?.() !== 0) return t.skip('needs root for a device node');
  mknod(path.join(dir, 'null'), constants.S_IFCHR | 0o666, 1, 3);
  const st = statSync(path.join(dir, 'null'));
  assert.ok(st.isCharacterDevice());
  assert.equal(st.rdev, (1 << 8) | 3);
});

test('mount and umount2 a tmpfs', (t) => {
  if (process.getuid?.() !== 0) return t.skip('needs root to mount');
  const dir = tmp(t);
  const before = statSync(dir).dev;
  mount('tmpfs', dir, 'tmpfs', 0, 'size=1m,mode=0700');
  let mounted = true;
  t.after(() => {
    if (mounted) umount2(dir, 2 /* MNT_DETACH */);
  });
  assert.notEqual(statSync(dir).dev, before);
  assert.equal(statSync(dir).mode & 0o777, 0o700);
  assert.match(readFileSync('/proc/self/mountinfo', 'utf8'), new RegExp(` ${dir} .* - tmpfs `));
  umount2(dir);
  mounted = false;
  assert.equal(statSync(dir).dev, before);
  assert.throws(() => umount2(dir), { code: 'EINVAL' });
  assert.throws(() => mount('none', path.join(dir, 'missing'), 'tmpfs'), { code: 'ENOENT' });
});

test('removeTree: files, links, fifos, nested and empty directories go; what a link points to stays', async (t) => {
  const dir = tmp(t);
  const outside = path.join(dir, 'outside');
  mkdirSync(outside);
  writeFileSync(path.join(outside, 'keep'), 'precious');
  const tree = path.join(dir, 'tree');
  mkdirSync(path.join(tree, 'a/b/c'), { recursive: true });
  mkdirSync(path.join(tree, 'empty'));
  writeFileSync(path.join(tree, 'a/b/c/f'), 'x');
  writeFileSync(path.join(tree, 'a/g'), 'y');
  symlinkSync(outside, path.join(tree, 'a/link-to-dir'));
  symlinkSync(path.join(outside, 'keep'), path.join(tree, 'link-to-file'));
  mknod(path.join(tree, 'a/b/fifo'), constants.S_IFIFO | 0o600);
  await removeTree(tree);
  assert.throws(() => statSync(tree), { code: 'ENOENT' });
  assert.equal(readFileSync(path.join(outside, 'keep'), 'utf8'), 'precious', 'a symbolic link is removed, never followed');
  // a missing path is success; a symbolic link as the root goes itself, not its target
  await removeTree(tree);
  symlinkSync(outside, path.join(dir, 'root-link'));
  await removeTree(path.join(dir, 'root-link'));
  assert.equal(readFileSync(path.join(outside, 'keep'), 'utf8'), 'precious');
  assert.throws(() => statSync(path.join(dir, 'root-link')), { code: 'ENOENT' });
});

test('removeTree: 3000 levels deep and 2000 entries wide', async (t) => {
  const dir = tmp(t);
  const tree = path.join(dir, 'deep');
  // built with relative steps: the full path is longer than PATH_MAX
  mkdirSync(tree);
  const fd = openat2(AT_FDCWD, tree, constants.O_RDONLY | constants.O_DIRECTORY, 0);
  closeSync(fd);
  let cwd = tree;
  const start = process.cwd();
  try {
    for (let i = 0; i < 3000; i++) {
      process.chdir(cwd);
      mkdirSync('d');
      cwd = 'd';
    }
  } finally {
    process.chdir(start);
  }
  const wide = path.join(dir, 'wide');
  mkdirSync(wide);
  for (let i = 0; i < 1000; i++) {
    mkdirSync(path.join(wide, `d${i}`));
    writeFileSync(path.join(wide, `d${i}`, 'f'), '');
    writeFileSync(path.join(wide, `f${i}`), '');
  }
  await removeTree(tree);
  await removeTree(wide);
  assert.throws(() => statSync(tree), { code: 'ENOENT' });
  assert.throws(() => statSync(wide), { code: 'ENOENT' });
});

test('removeTree: a mount inside the tree is not entered (EXDEV), its contents stay', async (t) => {
  if (process.getuid?.() !== 0) return t.skip('needs root to mount');
  const dir = tmp(t);
  const tree = path.join(dir, 'tree');
  const mnt = path.join(tree, 'sub/mnt');
  mkdirSync(mnt, { recursive: true });
  writeFileSync(path.join(tree, 'sub/file'), 'x');
  mount('tmpfs', mnt, 'tmpfs', 0, 'size=1m');
  try {
    writeFileSync(path.join(mnt, 'inside'), 'on the mount');
    await assert.rejects(removeTree(tree), (err: NodeJS.ErrnoException) => err.code === 'EXDEV' && err.path === tree);
    assert.equal(readFileSync(path.join(mnt, 'inside'), 'utf8'), 'on the mount');
  } finally {
    // before tmp()'s clean-up, which would descend into the mount
    umount2(mnt, 2 /* MNT_DETACH */);
  }
});

/** Starts `script` under /bin/sh the way the runtime starts berth-nsinit; its sync socket is fd `fds.length`. */
async function spawnSh(script: string, fds: number[], detached = false) {
  const addon = nativeIfLoadable()!;
  const child = addon.spawnHelper('/bin/sh', 'sh-helper', ['-c', script, 'sh-helper'], fds, detached);
  let text = '';
  const buf = Buffer.alloc(4096);
  const eof = new Promise<void>((resolve) => {
    const w = addon.watchFd(child.sync, () => {
      const n = readSync(child.sync, buf);
      if (n > 0) text += buf.toString('utf8', 0, n);
      else {
        addon.unwatchFd(w);
        closeSync(child.sync);
        resolve();
      }
    });
  });
  const exit = await new Promise<{ code: number; signal: number }>((resolve) => {
    const w = addon.watchFd(child.pidfd, () => {
      const r = addon.waitPidfd(child.pidfd);
      if (!r) return;
      addon.unwatchFd(w);
      closeSync(child.pidfd);
      resolve(r);
    });
  });
  await eof;
  return { pid: child.pid, text, exit };
}

test('spawnHelper: fds mapped as asked (crossing ones too), the sync socket after them, the exit from a pidfd', async (t) => {
  const dir = tmp(t);
  const a = openSync(path.join(dir, 'a'), 'w+');
  const b = openSync(path.join(dir, 'b'), 'w+');
  t.after(() => {
    closeSync(a);
    closeSync(b);
  });
  // the child's fd 1 is our b and its fd 2 our a, whatever numbers they have here
  const r = await spawnSh('echo out; echo err >&2; echo "sync $#" >&3; ls /proc/self/fd >&3; exit 7', [-1, b, a]);
  assert.deepEqual(r.exit, { code: 7, signal: 0 });
  assert.equal(readFileSync(path.join(dir, 'b'), 'utf8'), 'out\n');
  assert.equal(readFileSync(path.join(dir, 'a'), 'utf8'), 'err\n');
  const [first, ...fdsSeen] = r.text.trim().split('\n');
  assert.equal(first, 'sync 0');
  // ls itself opens one fd for the directory: 0–3 and that one, nothing of ours
  assert.deepEqual(
    fdsSeen.filter((f) => Number(f) > 4),
    [],
    `no fd of ours in the child: ${fdsSeen}`,
  );
  assert.ok(
    ['0', '1', '2', '3'].every((f) => fdsSeen.includes(f)),
    `fds in the child: ${fdsSeen}`,
  );
});

test("spawnHelper: signals back to their defaults (Node ignores SIGPIPE), a new session when detached, a kill's signal", async () => {
  const plain = await spawnSh(
    'grep -E "^Sig(Ign|Blk)" /proc/self/status >&3; cut -d" " -f6 /proc/self/stat >&3; echo $$ >&3',
    [-1, -1, -1],
  );
  // nothing ignored but glibc's own 32 and 33, which its posix_spawn leaves ignored in the child
  // (berth-nsinit puts every disposition back before the container's execve: reset_signals)
  const ign = BigInt(`0x${/^SigIgn:\s+([0-9a-f]+)$/m.exec(plain.text)?.[1]}`);
  assert.equal(ign & ~0x180000000n, 0n, `SigIgn ${ign.toString(16)}`);
  assert.match(plain.text, /^SigBlk:\s+0+$/m);
  const detached = await spawnSh('cut -d" " -f6 /proc/$$/stat >&3; echo $$ >&3', [-1, -1, -1], true);
  const [sid, pid] = detached.text.trim().split('\n');
  assert.equal(sid, pid, 'its own session');
  const killed = await spawnSh('kill -TERM $$; sleep 5', [-1, -1, -1]);
  assert.deepEqual(killed.exit, { code: -1, signal: 15 });
});

test('spawnHelper: a file that cannot be run throws its errno, and leaves no fd behind', () => {
  const addon = nativeIfLoadable()!;
  const before = readdirSync('/proc/self/fd').length;
  assert.throws(
    () => addon.spawnHelper('/no/such/helper', 'x', [], [-1, -1, -1], false),
    (e: NodeJS.ErrnoException) => e.code === 'ENOENT' && e.syscall === 'spawn',
  );
  assert.throws(
    () => addon.spawnHelper('/etc', 'x', [], [-1, -1, -1], false),
    (e: NodeJS.ErrnoException) => e.code === 'EACCES',
  );
  assert.equal(readdirSync('/proc/self/fd').length, before);
});
