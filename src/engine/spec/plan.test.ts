/**
 * The specs oci-spec.ts builds are ones Berth's own runtime plans: buildPlan (the step the
 * engine takes next) accepts them, default, hardened and privileged, and encodes the plan.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Spec } from '../../oci/spec.js';
import { buildPlan } from '../../runtime/plan/build.js';
import { encodePlan } from '../../runtime/plan/encode.js';
import { decodeCreateBody } from './create-config.js';
import { mergeConfig } from './merge.js';
import { buildSpec } from './oci-spec.js';

const ID = '12'.repeat(32);

function specFor(body: object): Spec {
  const req = decodeCreateBody(body);
  return buildSpec({
    id: ID,
    config: mergeConfig({ image: { Cmd: ['/bin/sh'] }, request: req.config, id: ID }),
    hostConfig: req.hostConfig,
    rootfs: '/var/lib/berth/rootfs',
    hostsPath: '/var/lib/berth/hosts',
    hostnamePath: '/var/lib/berth/hostname',
    resolvConfPath: '/var/lib/berth/resolv.conf',
    passwd: 'root:x:0:0::/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n',
    group: 'root:x:0:\n',
    host: {
      arch: 'x86_64',
      kernel: '6.18.0',
      devices: [{ path: '/dev/sda', device: { type: 'b', major: 8, minor: 0, fileMode: 0o660, uid: 0, gid: 6 } }],
    },
  });
}

function plan(spec: Spec) {
  return buildPlan({
    id: ID,
    bundle: '/b',
    spec,
    wait: false,
    startSocket: `/run/berth/${ID}/exec.sock`,
    noPivot: false,
    preserveFds: 0,
    cgroupProcs: [`/sys/fs/cgroup/berth/${ID}/cgroup.procs`],
    cgroupMode: 'v2',
    cgroupMounts: [{ name: '', hostDir: `/sys/fs/cgroup/berth/${ID}`, version: 2, aliases: [] }],
    grantableCaps: ~0n,
    hostHasKcore: true,
    hookState: `{"ociVersion":"1.0.2-dev","id":"${ID}","status":"creating","bundle":"/b"`,
  });
}

describe("Berth's planner takes the engine's specs", () => {
  for (const [what, body] of [
    ['default', {}],
    [
      'tty, non-root, hardened',
      {
        Tty: true,
        User: 'app',
        HostConfig: {
          ReadonlyRootfs: true,
          SecurityOpt: ['no-new-privileges'],
          Ulimits: [{ Name: 'nofile', Soft: 10, Hard: 20 }],
          Sysctls: { 'net.ipv4.ip_forward': '1' },
          ShmSize: 1 << 20,
        },
      },
    ],
    ['privileged', { HostConfig: { Privileged: true } }],
    ['capabilities and no seccomp', { HostConfig: { CapAdd: ['ALL'], CapDrop: ['MKNOD'], SecurityOpt: ['seccomp=unconfined'] } }],
  ] as const) {
    test(what, () => {
      const { plan: p } = plan(specFor(body));
      const text = encodePlan(p);
      assert.ok(text.length > 0);
      assert.match(text, /\/etc\/hosts/, 'the container files are in the plan');
    });
  }
  test('the default filter reaches the plan', () => {
    const { plan: p } = plan(specFor({}));
    assert.ok(p.seccomp && p.seccomp.program.length > 0, 'a seccomp program');
    assert.equal(plan(specFor({ HostConfig: { Privileged: true } })).plan.seccomp, undefined);
  });
});
