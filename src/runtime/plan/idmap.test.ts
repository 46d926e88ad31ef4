import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { rootlessSpec } from '../../oci/default-spec.js';
import type { Spec } from '../../oci/spec.js';
import { buildPlan, type PlanContext } from './build.js';
import { encodePlan } from './encode.js';
import { checkUserInNamespace, type IdMapHost, idMapWriters } from './idmap.js';

const user: IdMapHost = {
  euid: 1000,
  egid: 1001,
  capSetuid: false,
  capSetgid: false,
  newuidmap: '/usr/bin/newuidmap',
  newgidmap: '/usr/bin/newgidmap',
};
const root: IdMapHost = { euid: 0, egid: 0, capSetuid: true, capSetgid: true };
const own = (id: number) => [{ inside: 0, outside: id, count: 1 }];
const wide = (id: number) => [
  { inside: 0, outside: id, count: 1 },
  { inside: 1, outside: 100000, count: 65536 },
];

describe('idMapWriters', () => {
  test('root writes any map itself, and leaves setgroups alone (runc)', () => {
    assert.deepEqual(idMapWriters(wide(0), wide(0), root), {});
    assert.deepEqual(
      idMapWriters([{ inside: 0, outside: 100000, count: 65536 }], [{ inside: 0, outside: 100000, count: 65536 }], root),
      {},
    );
  });

  test('an unprivileged caller writes a single mapping of its own ids, denying setgroups first', () => {
    assert.deepEqual(idMapWriters(own(1000), own(1001), user), { setgroups: 'deny' });
    // The inside id is free: only the outside one must be the caller's.
    assert.deepEqual(idMapWriters([{ inside: 5, outside: 1000, count: 1 }], own(1001), user), { setgroups: 'deny' });
  });

  test('anything wider goes through newuidmap/newgidmap, which decide setgroups', () => {
    assert.deepEqual(idMapWriters(wide(1000), wide(1001), user), { uidMapTool: '/usr/bin/newuidmap', gidMapTool: '/usr/bin/newgidmap' });
    // Someone else's single id, or a count over 1, is wider too.
    assert.deepEqual(idMapWriters(own(1000), own(5), user), { gidMapTool: '/usr/bin/newgidmap' });
    assert.deepEqual(idMapWriters([{ inside: 0, outside: 1000, count: 2 }], own(1001), user), {
      uidMapTool: '/usr/bin/newuidmap',
      setgroups: 'deny',
    });
  });

  test('without the helpers, a wider map is refused with what to install', () => {
    const bare = { ...user, newuidmap: undefined, newgidmap: undefined };
    assert.throws(() => idMapWriters(wide(1000), own(1001), bare), /linux\.uidMappings: .*needs newuidmap \(Debian package uidmap\)/);
    assert.throws(() => idMapWriters(own(1000), wide(1001), bare), /linux\.gidMappings: .*needs newgidmap/);
    assert.deepEqual(idMapWriters(own(1000), own(1001), bare), { setgroups: 'deny' });
  });
});

describe('checkUserInNamespace', () => {
  const maps = [{ inside: 0, outside: 100000, count: 65536 }];
  test('root and the process user must be mapped', () => {
    checkUserInNamespace(maps, maps, { uid: 1000, gid: 1000, additionalGids: [5] }, undefined);
    assert.throws(() => checkUserInNamespace(maps, maps, { uid: 70000, gid: 0 }, undefined), /process\.user\.uid: 70000 is not mapped/);
    assert.throws(() => checkUserInNamespace(maps, maps, { uid: 0, gid: 70000 }, undefined), /process\.user\.gid: 70000 is not mapped/);
    assert.throws(
      () => checkUserInNamespace(maps, maps, { uid: 0, gid: 0, additionalGids: [70000] }, undefined),
      /additionalGids: 70000 is not mapped/,
    );
    const noRoot = [{ inside: 1000, outside: 1000, count: 1 }];
    assert.throws(() => checkUserInNamespace(noRoot, maps, { uid: 1000, gid: 0 }, undefined), /uid 0 of the container must be mapped/);
  });
  test('no additional groups when setgroups is denied', () => {
    assert.throws(
      () => checkUserInNamespace(own(1000), own(1000), { uid: 0, gid: 0, additionalGids: [0] }, 'deny'),
      /cannot set additional groups when setgroups is denied/,
    );
  });
});

function ctx(spec: Spec, idMapHost?: IdMapHost): PlanContext {
  return {
    id: 'c1',
    bundle: '/b',
    spec,
    wait: false,
    noPivot: false,
    preserveFds: 0,
    cgroupProcs: [],
    cgroupMode: 'hybrid',
    cgroupMounts: [],
    grantableCaps: ~0n,
    hostHasKcore: false,
    hookState: '{}',
    idMapHost,
  };
}

describe('buildPlan with a user namespace', () => {
  test("runc's rootless spec: maps written by the parent stage, setgroups denied, devices bound", () => {
    const { plan } = buildPlan(ctx(rootlessSpec(1000, 1001), user));
    assert.equal(plan.setgroups, 'deny');
    assert.equal(plan.uidMapTool, undefined);
    const text = encodePlan(plan);
    assert.match(text, /^setgroups deny$/m);
    assert.match(text, /^uid-map 0 1000 1$/m);
    assert.match(text, /^gid-map 0 1001 1$/m);
    assert.doesNotMatch(text, /map-tool/);
    assert.match(text, /^device \/dev\/null c 1 3 666 0 0 1$/m);
  });

  test('subordinate ranges: the plan names newuidmap and newgidmap', () => {
    const spec = rootlessSpec(1000, 1001);
    if (spec.linux) {
      spec.linux.uidMappings = [
        { containerID: 0, hostID: 1000, size: 1 },
        { containerID: 1, hostID: 100000, size: 65536 },
      ];
      spec.linux.gidMappings = [
        { containerID: 0, hostID: 1001, size: 1 },
        { containerID: 1, hostID: 100000, size: 65536 },
      ];
    }
    const text = encodePlan(buildPlan(ctx(spec, user)).plan);
    assert.match(text, /^uid-map-tool \/usr\/bin\/newuidmap$/m);
    assert.match(text, /^gid-map-tool \/usr\/bin\/newgidmap$/m);
    assert.doesNotMatch(text, /^setgroups /m);
    assert.match(text, /^uid-map 1 100000 65536$/m);
  });

  test('run by root, the same spec needs neither tools nor setgroups', () => {
    const text = encodePlan(buildPlan(ctx(rootlessSpec(1000, 1001))).plan);
    assert.doesNotMatch(text, /^setgroups |map-tool/m);
  });
});
