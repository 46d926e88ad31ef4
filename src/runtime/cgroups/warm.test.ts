import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parseCgroupLayout } from './layout.js';
import { readCgroupLayout } from './manager.js';
import { warmCgroupMigrations, warmTarget } from './warm.js';

const HYBRID_MOUNTS = [
  '30 25 0:26 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime - cgroup2 cgroup2 rw',
  '31 25 0:27 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime - cgroup cgroup rw,xattr,name=systemd',
  '32 25 0:28 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime - cgroup cgroup rw,memory',
].join('\n');
const V1_MOUNTS = [
  '32 25 0:28 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime - cgroup cgroup rw,memory',
  '33 25 0:29 / /sys/fs/cgroup/pids rw,nosuid,nodev,noexec,relatime - cgroup cgroup rw,pids',
].join('\n');

test('the warm-up writes where attaching is cheapest: a hierarchy without controllers', () => {
  const own = '0::/svc/berthd\n1:name=systemd:/svc\n2:memory:/svc/mem\n';
  assert.equal(warmTarget(parseCgroupLayout(HYBRID_MOUNTS, own)), '/sys/fs/cgroup/unified/svc/berthd/cgroup.procs');
  assert.equal(warmTarget(parseCgroupLayout(V1_MOUNTS, '2:memory:/a\n3:pids:/\n')), '/sys/fs/cgroup/memory/a/cgroup.procs');
});

test('the warm-up writes into the caller’s own cgroup, also under a sub-tree mount, and nowhere else', () => {
  const sub = '40 25 0:28 /ctr /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory';
  assert.equal(warmTarget(parseCgroupLayout(sub, '2:memory:/ctr/inner\n')), '/sys/fs/cgroup/memory/inner/cgroup.procs');
  assert.equal(warmTarget(parseCgroupLayout(sub, '2:memory:/ctr\n')), '/sys/fs/cgroup/memory/cgroup.procs');
  // our cgroup is not under the mount (a cgroup namespace, another sub-tree): no target
  assert.equal(warmTarget(parseCgroupLayout(sub, '2:memory:/other\n')), undefined);
  assert.equal(warmTarget(parseCgroupLayout(sub, '2:memory:/ctrl\n')), undefined);
  assert.equal(warmTarget({ mode: 'v2', hierarchies: [] }), undefined);
});

test('the warm-up moves nothing: our cgroups are the same after it', { skip: process.getuid?.() !== 0 && 'needs root' }, async () => {
  const before = readFileSync('/proc/self/cgroup', 'utf8');
  await warmCgroupMigrations(readCgroupLayout(), process.pid);
  assert.equal(readFileSync('/proc/self/cgroup', 'utf8'), before);
});

test('a warm-up that cannot write (no such cgroup) settles quietly', async () => {
  const layout = parseCgroupLayout('50 25 0:99 / /nonexistent/cgroup rw - cgroup cgroup rw,pids', '3:pids:/x\n');
  await warmCgroupMigrations(layout, process.pid);
});
