import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compactLowerdir, mountCommand } from './mount.js';

test('bind mounts run without -t, overlay with -t overlay; paths are not canonicalized', () => {
  assert.deepEqual(mountCommand({ type: 'bind', source: '/s/1/fs', options: ['rbind', 'ro'] }, '/t'), {
    args: ['-o', 'rbind,ro', '--no-canonicalize', '--', '/s/1/fs', '/t'],
  });
  assert.deepEqual(mountCommand({ type: 'bind', source: '/s', options: ['ro'] }, '/t').args.slice(0, 2), ['-o', 'rbind,ro']);
  const o = mountCommand({ type: 'overlay', source: 'overlay', options: ['index=off', 'lowerdir=/a:/b'] }, '/t');
  assert.deepEqual(o, { args: ['-t', 'overlay', '-o', 'index=off,lowerdir=/a:/b', '--no-canonicalize', '--', 'overlay', '/t'] });
});

test('lowerdirs are made relative to their common parent only when the options exceed a page', () => {
  const root = '/var/lib/berth/snapshots/overlayfs';
  const lowers = Array.from({ length: 128 }, (_, i) => `${root}/${1000000000 + i}/fs`);
  const options = ['index=off', `workdir=${root}/9/work`, `upperdir=${root}/9/fs`, `lowerdir=${lowers.join(':')}`];
  assert.ok(options.join(',').length > 4096);
  const c = compactLowerdir(options)!;
  assert.equal(c.cwd, root);
  assert.deepEqual(c.options.slice(0, 3), options.slice(0, 3), 'upperdir and workdir stay absolute');
  assert.equal(c.options[3], `lowerdir=${lowers.map((l) => l.slice(root.length + 1)).join(':')}`);
  assert.ok(c.options.join(',').length < 4096);
  const cmd = mountCommand({ type: 'overlay', source: 'overlay', options }, '/t');
  assert.equal(cmd.cwd, root);
  // short options, or no common parent below '/': unchanged
  assert.equal(compactLowerdir(['lowerdir=/a/1/fs:/a/2/fs']), undefined);
  assert.equal(compactLowerdir([`lowerdir=${lowers.map((l, i) => (i % 2 ? l : `/other${l}`)).join(':')}`]), undefined);
});
