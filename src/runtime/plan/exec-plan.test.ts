import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodePlan } from './encode.js';
import { buildExecPlan } from './exec-plan.js';

const base = {
  id: 'c1',
  initPid: 4242,
  namespaces: ['pid', 'network', 'mount', 'user', 'ipc'] as const,
  rootfs: '/b/rootfs',
  wait: true,
  preserveFds: 0,
  cgroupProcs: ['/sys/fs/cgroup/pids/c1/cgroup.procs'],
  grantableCaps: ~0n,
};

test("an exec plan joins the init process's namespaces, user first, and makes no new ones", () => {
  const { plan } = buildExecPlan({
    ...base,
    namespaces: [...base.namespaces],
    process: { args: ['sh'], cwd: '/', user: { uid: 1000, gid: 1000 }, env: ['A=b'], capabilities: { bounding: ['CAP_KILL'] } },
  });
  assert.deepEqual(
    plan.joinNamespaces.map((n) => `${n.type} ${n.path}`),
    ['user /proc/4242/ns/user', 'pid /proc/4242/ns/pid', 'net /proc/4242/ns/net', 'mount /proc/4242/ns/mnt', 'ipc /proc/4242/ns/ipc'],
  );
  assert.deepEqual(plan.newNamespaces, []);
  assert.deepEqual(plan.rootfsOps, []);
  assert.equal(plan.process.capabilities?.bounding, 1n << 5n);
  assert.deepEqual(plan.cgroupProcs, base.cgroupProcs);
  const text = encodePlan(plan);
  assert.ok(!text.includes('\nmount '), 'no mounts in an exec plan');
  assert.ok(text.includes('\nwait 1\n'));
});

test('an exec plan refuses an empty command or a relative cwd', () => {
  const ns = [...base.namespaces];
  assert.throws(
    () => buildExecPlan({ ...base, namespaces: ns, process: { args: [], cwd: '/', user: { uid: 0, gid: 0 } } }),
    /args must not be empty/,
  );
  assert.throws(
    () => buildExecPlan({ ...base, namespaces: ns, process: { args: ['sh'], cwd: 'tmp', user: { uid: 0, gid: 0 } } }),
    /not an absolute path/,
  );
});

test('exec: an unknown capability name is an error, one the host cannot grant a warning', () => {
  const ns = [...base.namespaces];
  const proc = (caps: string[]) => ({ args: ['sh'], cwd: '/', user: { uid: 0, gid: 0 }, capabilities: { effective: caps } });
  assert.throws(
    () => buildExecPlan({ ...base, namespaces: ns, process: proc(['CAP_KILL', 'CAP_NOPE']) }),
    /^BerthError: process\.capabilities\.effective: unknown capability 'CAP_NOPE'$/,
  );
  const { plan, warnings } = buildExecPlan({ ...base, namespaces: ns, grantableCaps: ~(1n << 24n), process: proc(['CAP_SYS_RESOURCE']) });
  assert.equal(plan.process.capabilities?.effective, 0n);
  assert.deepEqual(warnings, ["capability 'CAP_SYS_RESOURCE' in process.capabilities.effective cannot be granted: ignored"]);
});
