/**
 * Hostile create bodies: whatever JSON arrives, the pure path from body to OCI spec either
 * answers or throws a BerthError 'invalid-argument' (a 400), never a TypeError (a 500).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { BerthError } from '../../common/errors.js';
import type { Spec } from '../../oci/spec.js';
import { buildPlan } from '../../runtime/plan/build.js';
import { decodeCreateBody, validateCreate } from './create-config.js';
import { mergeConfig } from './merge.js';
import { buildSpec } from './oci-spec.js';

const ID = 'ef'.repeat(32);

/** And through Berth's planner, the step after (its refusals are BerthErrors too). */
function plan(spec: Spec): void {
  buildPlan({
    id: ID,
    bundle: '/b',
    spec,
    wait: false,
    startSocket: '/run/b/exec.sock',
    noPivot: false,
    preserveFds: 0,
    cgroupProcs: [],
    cgroupMode: 'v2',
    cgroupMounts: [{ name: '', hostDir: '/sys/fs/cgroup/b', version: 2, aliases: [] }],
    grantableCaps: ~0n,
    hostHasKcore: true,
    hookState: '{}',
  });
}

function createSpec(body: unknown): Spec {
  const req = decodeCreateBody(body);
  validateCreate(req, { ncpu: 2 });
  const config = mergeConfig({ image: { Cmd: ['/bin/sh'], Env: ['A=1'], Labels: { l: 'v' } }, request: req.config, id: ID });
  return buildSpec({
    id: ID,
    config,
    hostConfig: req.hostConfig,
    rootfs: '/r',
    hostsPath: '/h',
    hostnamePath: '/n',
    resolvConfPath: '/c',
    passwd: 'root:x:0:0::/root:/bin/sh\n',
    group: 'root:x:0:\n',
    host: {
      arch: 'x86_64',
      kernel: '6.18.0',
      deviceInfo: { '/dev/null': { type: 'c', major: 1, minor: 3, fileMode: 0o666, uid: 0, gid: 0 } },
    },
    namespacePath: (ref, type) => `/proc/1/ns/${type}#${ref}`,
    shmPath: () => '/shm',
  });
}

const ok = (body: unknown) => {
  try {
    plan(createSpec(body));
  } catch (e) {
    if (!(e instanceof BerthError) || e.kind !== 'invalid-argument') throw e;
  }
};

// Values shaped like the fields a create body has, wrong types and edge values included.
const scalar = fc.oneof(
  fc.string(),
  fc.constantFrom(
    '',
    'ALL',
    'host',
    'container:x',
    'none',
    'private',
    'no-new-privileges',
    'seccomp=unconfined',
    'c 1:3 rwm',
    '__proto__',
    'app:root',
    '0',
    '-1',
  ),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.constantFrom(2 ** 63, -(2 ** 63), Number.MAX_SAFE_INTEGER, 6 * 1024 * 1024),
);
const value = fc.oneof(
  scalar,
  fc.array(scalar, { maxLength: 4 }),
  fc.dictionary(fc.string({ maxLength: 6 }), scalar, { maxKeys: 3 }),
  fc.array(fc.dictionary(fc.constantFrom('Name', 'Soft', 'Hard', 'PathOnHost', 'PathInContainer', 'CgroupPermissions'), scalar), {
    maxLength: 2,
  }),
);
const CONFIG_KEYS = [
  'Cmd',
  'Entrypoint',
  'Env',
  'User',
  'WorkingDir',
  'Labels',
  'ExposedPorts',
  'Volumes',
  'Hostname',
  'Domainname',
  'Tty',
  'Healthcheck',
  'StopSignal',
];
const HOST_KEYS = [
  'CapAdd',
  'CapDrop',
  'Privileged',
  'Memory',
  'MemorySwap',
  'MemoryReservation',
  'MemorySwappiness',
  'NanoCpus',
  'CpuShares',
  'CpuPeriod',
  'CpuQuota',
  'CpusetCpus',
  'PidsLimit',
  'Ulimits',
  'Sysctls',
  'Devices',
  'DeviceCgroupRules',
  'GroupAdd',
  'ReadonlyRootfs',
  'SecurityOpt',
  'ShmSize',
  'OomScoreAdj',
  'NetworkMode',
  'IpcMode',
  'PidMode',
  'UTSMode',
  'CgroupnsMode',
  'RestartPolicy',
  'AutoRemove',
  'MaskedPaths',
  'ReadonlyPaths',
];
const body = fc.record({
  config: fc.dictionary(fc.constantFrom(...CONFIG_KEYS), value),
  host: fc.option(fc.dictionary(fc.constantFrom(...HOST_KEYS), value), { nil: undefined }),
});

test('any JSON value: an answer or a 400, never a crash', () => {
  fc.assert(
    fc.property(fc.jsonValue(), (v) => ok(v)),
    { numRuns: 300 },
  );
});

test('bodies with the real field names and hostile values: an answer or a 400', () => {
  let answered = 0;
  fc.assert(
    fc.property(body, ({ config, host }) => {
      const b = host === undefined ? { ...config } : { ...config, HostConfig: host };
      try {
        plan(createSpec(b));
        answered++;
      } catch (e) {
        if (!(e instanceof BerthError) || e.kind !== 'invalid-argument') throw e;
      }
    }),
    { numRuns: 1000 },
  );
  assert.ok(answered > 0, 'some bodies were accepted');
});

test('a deeply nested body is refused by field, not by stack', () => {
  let deep: unknown = 'x';
  for (let i = 0; i < 10000; i++) deep = [deep];
  assert.throws(() => createSpec({ Cmd: deep }), /cannot unmarshal array into Go struct field ContainerConfigWrapper.Cmd/);
  assert.throws(() => createSpec({ HostConfig: { Devices: [deep] } }), BerthError);
});
