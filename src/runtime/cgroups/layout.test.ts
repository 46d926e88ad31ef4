import assert from 'node:assert/strict';
import { test } from 'node:test';
import { containerCgroupPath, hierarchyDirName, parseCgroupLayout } from './layout.js';

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

test('pure v2 and pure v1 are told apart', () => {
  assert.equal(parseCgroupLayout('1 0 0:1 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw', '0::/user.slice').mode, 'v2');
  assert.equal(parseCgroupLayout('1 0 0:1 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids', '3:pids:/').mode, 'v1');
});
