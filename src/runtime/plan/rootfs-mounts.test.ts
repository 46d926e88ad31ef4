import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultSpec } from '../../oci/default-spec.js';
import type { Spec } from '../../oci/spec.js';
import { buildPlan, type PlanContext } from './build.js';
import { encodePlan } from './encode.js';
import { MS } from './mount-options.js';
import { planRootfsMounts } from './rootfs-mounts.js';

test('an overlay: flags out of the options, the rest is data; a bare bind is recursive', () => {
  assert.deepEqual(
    planRootfsMounts([
      { type: 'overlay', source: 'overlay', options: ['ro', 'index=off', 'lowerdir=/s/2/fs:/s/1/fs'] },
      { type: 'bind', source: '/s/1/fs', options: ['ro'] },
    ]),
    [
      { source: 'overlay', fstype: 'overlay', flags: MS.RDONLY, data: 'index=off,lowerdir=/s/2/fs:/s/1/fs', cwd: '' },
      { source: '/s/1/fs', fstype: '', flags: MS.RDONLY | MS.BIND | MS.REC, data: '', cwd: '' },
    ],
  );
  assert.equal(planRootfsMounts([{ type: 'bind', source: '/a', options: ['bind', 'rw'] }])[0]!.flags, MS.BIND);
});

test('128 layers: lowerdirs relative to their common parent, which becomes the cwd, and the data fits a page', () => {
  const root = `/var/lib/berth/snapshots/overlayfs/${'x'.repeat(40)}/snapshots`;
  const layers = Array.from({ length: 128 }, (_, i) => `${root}/${i + 1}/fs`);
  const [m] = planRootfsMounts([
    {
      type: 'overlay',
      source: 'overlay',
      options: [`workdir=${root}/200/work`, `upperdir=${root}/200/fs`, `lowerdir=${layers.join(':')}`],
    },
  ]);
  assert.ok(layers.join(':').length > 4096);
  assert.equal(m!.cwd, root);
  assert.ok(m!.data.length < 4096, `${m!.data.length} bytes`);
  assert.match(m!.data, /,lowerdir=1\/fs:2\/fs:/);
  assert.match(m!.data, new RegExp(`^workdir=${root}/200/work,upperdir=${root}/200/fs,`));
});

test('refused: relative overlay directories, propagation and remount options, a relative bind source, options too long', () => {
  const bad: [Parameters<typeof planRootfsMounts>[0], RegExp][] = [
    [[{ type: 'overlay', source: 'overlay', options: ['lowerdir=/a:b'] }], /rootfsMounts\[0\]: lowerdir 'b' is not an absolute path/],
    [[{ type: 'overlay', source: 'overlay', options: ['upperdir=../u'] }], /upperdir '\.\.\/u'/],
    [[{ type: 'bind', source: '/a', options: ['rshared'] }], /option 'rshared'/],
    [[{ type: 'bind', source: '/a', options: ['remount'] }], /option 'remount'/],
    [[{ type: 'bind', source: 'a', options: [] }], /absolute source, got 'a'/],
    [[{ type: '', source: 'x', options: [] }], /type: required/],
    // one layer with a name too long to compact
    [[{ type: 'overlay', source: 'overlay', options: [`lowerdir=/${'y'.repeat(5000)}`] }], /do not fit/],
  ];
  for (const [mounts, message] of bad) assert.throws(() => planRootfsMounts(mounts), message);
});

test('buildPlan: rootfsMounts need the container’s own mount namespace (not a joined one, not the host’s)', () => {
  const ctx = (spec: Spec): PlanContext => ({
    id: 'c1',
    bundle: '/b',
    spec,
    wait: false,
    noPivot: false,
    preserveFds: 0,
    cgroupProcs: [],
    cgroupMode: 'v2',
    cgroupMounts: [],
    grantableCaps: ~0n,
    hostHasKcore: false,
    hookState: '{',
    rootfsMounts: [{ type: 'overlay', source: 'overlay', options: ['lowerdir=/l2:/l1'] }],
  });
  const own = buildPlan(ctx(defaultSpec())).plan;
  assert.deepEqual(own.rootfsMounts, [{ source: 'overlay', fstype: 'overlay', flags: 0, data: 'lowerdir=/l2:/l1', cwd: '' }]);
  assert.match(encodePlan(own), /\nrootfs \/b\/rootfs\nrootfs-mount overlay overlay 0 lowerdir=\/l2:\/l1 -\n/);
  const joined = defaultSpec();
  joined.linux!.namespaces = joined.linux!.namespaces!.map((n) => (n.type === 'mount' ? { ...n, path: '/proc/1/ns/mnt' } : n));
  assert.throws(() => buildPlan(ctx(joined)), /rootfsMounts: .*linux.namespaces joins one/);
  const host = defaultSpec();
  host.linux!.namespaces = host.linux!.namespaces!.filter((n) => n.type !== 'mount');
  host.mounts = [];
  host.linux!.maskedPaths = [];
  host.linux!.readonlyPaths = [];
  host.root!.readonly = false;
  assert.throws(() => buildPlan(ctx(host)), /rootfsMounts: .*linux.namespaces has no 'mount'/);
  // without rootfsMounts nothing changes
  assert.equal(buildPlan({ ...ctx(defaultSpec()), rootfsMounts: [] }).plan.rootfsMounts, undefined);
});
