import assert from 'node:assert/strict';
import { test } from 'node:test';
import { containerCgroupPath, hierarchyDirName, parseCgroupLayout, selectLayout, withOwnCgroups } from './layout.js';

const HYBRID_MOUNTINFO = `30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
31 30 0:28 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
34 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
39 30 0:36 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw`;
const HYBRID_CGROUP = `9:name=systemd:/
4:memory:/process_api/abc
1:cpu:/
0::/`;

test('a hybrid host: v1 controllers plus cgroup2, each with the caller own path', () => {
  const layout = parseCgroupLayout(HYBRID_MOUNTINFO, HYBRID_CGROUP);
  assert.equal(layout.mode, 'hybrid');
  assert.deepEqual(
    layout.hierarchies.map((h) => [h.mountpoint, h.controllers.join(','), h.version, h.ownPath]),
    [
      ['/sys/fs/cgroup/cpu', 'cpu', 1, '/'],
      ['/sys/fs/cgroup/memory', 'memory', 1, '/process_api/abc'],
      ['/sys/fs/cgroup/systemd', 'name=systemd', 1, '/'],
      ['/sys/fs/cgroup/unified', '', 2, '/'],
    ],
  );
  const memory = layout.hierarchies[1]!;
  assert.equal(containerCgroupPath(memory, 'c1'), '/process_api/abc/c1');
  assert.equal(containerCgroupPath(memory, '/abs/c1'), '/abs/c1');
  assert.equal(containerCgroupPath(memory, '../../escape'), '/escape');
  assert.equal(hierarchyDirName(layout.hierarchies[2]!), 'systemd');
  assert.equal(hierarchyDirName(layout.hierarchies[3]!), 'unified');
});

test('the caller moved since the layout was read: its own paths are read again, the mounts kept', () => {
  const earlier = parseCgroupLayout(HYBRID_MOUNTINFO, HYBRID_CGROUP);
  const now = withOwnCgroups(earlier, '9:name=systemd:/moved\n4:memory:/elsewhere\n1:cpu:/\n0::/moved');
  assert.deepEqual(
    now.hierarchies.map((h) => [h.mountpoint, h.ownPath]),
    [
      ['/sys/fs/cgroup/cpu', '/'],
      ['/sys/fs/cgroup/memory', '/elsewhere'],
      ['/sys/fs/cgroup/systemd', '/moved'],
      ['/sys/fs/cgroup/unified', '/moved'],
    ],
  );
  assert.equal(now.mode, 'hybrid');
  assert.equal(earlier.hierarchies[1]!.ownPath, '/process_api/abc', 'the earlier layout is left as it was');
  assert.deepEqual(withOwnCgroups(earlier, HYBRID_CGROUP), earlier, 'unmoved: the same layout');
});

test('pure v2 and pure v1 are told apart', () => {
  assert.equal(parseCgroupLayout('1 0 0:1 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw', '0::/user.slice').mode, 'v2');
  assert.equal(parseCgroupLayout('1 0 0:1 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids', '3:pids:/').mode, 'v1');
});

test('the driver can be chosen: v1 or v2 alone on a hybrid host, and refused where the host lacks it', () => {
  const layout = parseCgroupLayout(HYBRID_MOUNTINFO, HYBRID_CGROUP);
  assert.equal(selectLayout(layout).mode, 'hybrid');
  assert.equal(selectLayout(layout, 'auto').mode, 'hybrid');
  const v1 = selectLayout(layout, 'v1');
  assert.equal(v1.mode, 'v1');
  assert.ok(v1.hierarchies.every((h) => h.version === 1));
  const v2 = selectLayout(layout, 'v2');
  assert.deepEqual(
    v2.hierarchies.map((h) => h.mountpoint),
    ['/sys/fs/cgroup/unified'],
  );
  assert.equal(v2.mode, 'v2');
  const pure = parseCgroupLayout('1 0 0:1 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw', '0::/');
  assert.throws(() => selectLayout(pure, 'v1'), /cgroup driver 'v1': this host has no cgroup v1 hierarchy \(layout: v2\)/);
  assert.throws(() => selectLayout(pure, 'hybrid'), /this host is not hybrid/);
  assert.throws(() => selectLayout(pure, 'systemd'), /unknown cgroup driver 'systemd'/);
});

test('on cgroup2 a relative path goes next to the caller, not under it (no internal processes)', () => {
  const layout = parseCgroupLayout('1 0 0:1 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw', '0::/user.slice/session-1.scope');
  const h = layout.hierarchies[0]!;
  assert.equal(containerCgroupPath(h, 'c1'), '/user.slice/c1');
  assert.equal(containerCgroupPath(h, '/abs/c1'), '/abs/c1');
  const top = parseCgroupLayout('1 0 0:1 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw', '0::/init.scope');
  assert.equal(containerCgroupPath(top.hierarchies[0]!, 'c1'), '/c1');
});
