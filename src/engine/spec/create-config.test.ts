import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BerthError } from '../../common/errors.js';
import { decodeCreateBody, validateCreate } from './create-config.js';

const host = { ncpu: 2 };
const refuses = (fn: () => unknown, message: string | RegExp, object?: string) =>
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof BerthError, `a BerthError, not ${String(e)}`);
    assert.equal(e.kind, 'invalid-argument');
    if (typeof message === 'string') assert.equal(e.message, message);
    else assert.match(e.message, message);
    if (object !== undefined) assert.equal(e.object, object);
    return true;
  });

describe('create body decoding (Go encoding/json semantics)', () => {
  test('the v28 CLI body: Config at the top, HostConfig beside it', () => {
    const r = decodeCreateBody({
      Hostname: '',
      AttachStdout: true,
      Tty: false,
      Env: ['A=1'],
      Cmd: ['sleep', '1'],
      Entrypoint: null,
      Image: 'bbox',
      Labels: {},
      HostConfig: {
        NetworkMode: 'none',
        CapAdd: ['NET_ADMIN'],
        PidsLimit: null,
        Ulimits: [{ Name: 'nofile', Soft: 1, Hard: 2 }],
        ConsoleSize: [0, 0],
      },
      NetworkingConfig: { EndpointsConfig: {} },
      Unknown: 'ignored',
    });
    assert.deepEqual(r.config.Cmd, ['sleep', '1']);
    assert.equal(r.config.Entrypoint, undefined, 'null is the zero value');
    assert.equal(r.hostConfig.NetworkMode, 'none');
    assert.equal(r.hostConfig.PidsLimit, undefined);
    assert.deepEqual(r.hostConfig.Ulimits, [{ Name: 'nofile', Soft: 1, Hard: 2 }]);
    assert.ok(!('Unknown' in r.config));
    assert.deepEqual(r.networkingConfig, { EndpointsConfig: {} });
  });

  test('Cmd, Entrypoint, CapAdd and CapDrop take a bare string (strslice)', () => {
    const r = decodeCreateBody({ Cmd: 'echo hi', Entrypoint: '', HostConfig: { CapAdd: 'ALL' } });
    assert.deepEqual(r.config.Cmd, ['echo hi']);
    assert.deepEqual(r.config.Entrypoint, ['']);
    assert.deepEqual(r.hostConfig.CapAdd, ['ALL']);
  });

  test('field names match case-insensitively, as in Go', () => {
    assert.deepEqual(decodeCreateBody({ cmd: ['x'], hostconfig: null }).config.Cmd, ['x']);
  });

  test("wrong types are refused with Go's sentence, naming the field", () => {
    refuses(
      () => decodeCreateBody({ Cmd: 5 }),
      'json: cannot unmarshal number 5 into Go struct field ContainerConfigWrapper.Cmd of type strslice.StrSlice',
      'ContainerConfigWrapper.Cmd',
    );
    refuses(
      () => decodeCreateBody({ Env: 'A=1' }),
      'json: cannot unmarshal string into Go struct field ContainerConfigWrapper.Env of type []string',
    );
    refuses(() => decodeCreateBody({ Env: [1] }), /cannot unmarshal number 1 .* of type string/);
    refuses(() => decodeCreateBody({ Tty: 'yes' }), /of type bool$/);
    refuses(
      () => decodeCreateBody({ HostConfig: { Memory: 1.5 } }),
      'json: cannot unmarshal number 1.5 into Go struct field HostConfig.Memory of type int64',
    );
    refuses(() => decodeCreateBody({ HostConfig: { Memory: 2 ** 60 } }), /HostConfig.Memory of type int64/, 'HostConfig.Memory');
    refuses(() => decodeCreateBody({ HostConfig: { BlkioWeight: 70000 } }), /of type uint16/);
    refuses(() => decodeCreateBody({ HostConfig: { Sysctls: { a: 1 } } }), /HostConfig.Sysctls of type string/);
    refuses(() => decodeCreateBody({ HostConfig: { Devices: ['x'] } }), /of type container.DeviceMapping/);
    refuses(() => decodeCreateBody({ HostConfig: [] }), /HostConfig of type container.HostConfig/);
    refuses(() => decodeCreateBody([]), 'json: cannot unmarshal array into Go value of type container.ContainerConfigWrapper');
    refuses(() => decodeCreateBody(null), /cannot unmarshal null/);
  });

  test('hostile keys stay data', () => {
    const r = decodeCreateBody(JSON.parse('{"Labels":{"__proto__":"x","constructor":"y"},"HostConfig":{"__proto__":{"Privileged":true}}}'));
    assert.equal(r.config.Labels?.__proto__, 'x');
    assert.equal(Object.getPrototypeOf(r.config.Labels), null);
    assert.equal(r.hostConfig.Privileged, undefined, 'a __proto__ key sets nothing');
    assert.equal(({} as any).Privileged, undefined);
  });
});

describe("create validation (dockerd's checks and texts)", () => {
  const v = (body: object) => validateCreate(decodeCreateBody(body), host);
  test('accepts a plain body and warns as dockerd does', () => {
    assert.deepEqual(v({ Cmd: ['x'] }), []);
    assert.deepEqual(v({ HostConfig: { KernelMemory: 1 << 30 } }), ['Kernel memory limit is deprecated and ignored']);
    assert.deepEqual(validateCreate(decodeCreateBody({ HostConfig: { BlkioWeight: 300 } }), { ncpu: 1, blkioWeight: false }), [
      'Your kernel does not support Block I/O weight or the cgroup is not mounted. Weight discarded.',
    ]);
  });
  test('memory', () => {
    refuses(() => v({ HostConfig: { Memory: 4 << 20 } }), 'Minimum memory limit allowed is 6MB', 'Memory');
    refuses(
      () => v({ HostConfig: { MemorySwap: 1 << 30 } }),
      'You should always set the Memory limit when using Memoryswap limit, see usage',
    );
    refuses(
      () => v({ HostConfig: { Memory: 64 << 20, MemorySwap: 32 << 20 } }),
      'Minimum memoryswap limit should be larger than memory limit, see usage',
    );
    assert.deepEqual(v({ HostConfig: { Memory: 64 << 20, MemorySwap: -1 } }), [], '-1: unlimited swap');
    refuses(
      () => v({ HostConfig: { Memory: 64 << 20, MemoryReservation: 128 << 20 } }),
      'Minimum memory limit can not be less than memory reservation limit, see usage',
    );
    refuses(() => v({ HostConfig: { MemorySwappiness: 101 } }), 'Invalid value: 101, valid memory swappiness range is 0-100');
  });
  test('cpu', () => {
    refuses(
      () => v({ HostConfig: { NanoCpus: 3e9 } }),
      'Range of CPUs is from 0.01 to 2.00, as there are only 2 CPUs available',
      'NanoCpus',
    );
    refuses(() => v({ HostConfig: { NanoCpus: 1e6 } }), /Range of CPUs/);
    refuses(
      () => v({ HostConfig: { NanoCpus: 1e9, CpuPeriod: 100000 } }),
      'Conflicting options: Nano CPUs and CPU Period cannot both be set',
    );
    refuses(
      () => v({ HostConfig: { NanoCpus: 1e9, CpuQuota: 100000 } }),
      'Conflicting options: Nano CPUs and CPU Quota cannot both be set',
    );
    refuses(() => v({ HostConfig: { CpuPeriod: 999 } }), /CPU cfs period can not be less than 1ms/);
    refuses(() => v({ HostConfig: { CpuQuota: 999 } }), 'CPU cfs quota can not be less than 1ms (i.e. 1000)');
    refuses(() => v({ HostConfig: { CpusetCpus: '0-' } }), 'Invalid value 0- for cpuset cpus: invalid format: 0-');
    assert.deepEqual(v({ HostConfig: { CpusetCpus: '0-1,3', CpuShares: -1 } }), [], 'shares are checked when the spec is built');
    const h = { ncpu: 2, cpus: '0-1', mems: '0' };
    refuses(
      () => validateCreate(decodeCreateBody({ HostConfig: { CpusetCpus: '1-2' } }), h),
      'Requested CPUs are not available - requested 1-2, available: 0-1',
    );
    refuses(
      () => validateCreate(decodeCreateBody({ HostConfig: { CpusetMems: '1' } }), h),
      'Requested memory nodes are not available - requested 1, available: 0',
    );
    assert.deepEqual(validateCreate(decodeCreateBody({ HostConfig: { CpusetCpus: '0,1', CpusetMems: '0' } }), h), []);
  });
  test('the rest', () => {
    refuses(() => v({ WorkingDir: 'rel' }), "the working directory 'rel' is invalid, it needs to be an absolute path", 'WorkingDir');
    refuses(() => v({ HostConfig: { OomScoreAdj: -1001 } }), 'Invalid value -1001, range for oom score adj is [-1000, 1000]');
    refuses(() => v({ HostConfig: { ShmSize: -1 } }), 'SHM size can not be less than 0');
    refuses(() => v({ HostConfig: { RestartPolicy: { Name: 'sometimes' } } }), "invalid restart policy 'sometimes'");
    refuses(
      () => v({ HostConfig: { RestartPolicy: { Name: 'always', MaximumRetryCount: 2 } } }),
      "maximum retry count cannot be used with restart policy 'always'",
    );
    refuses(
      () => v({ HostConfig: { AutoRemove: true, RestartPolicy: { Name: 'always' } } }),
      "can't create 'AutoRemove' container with restart policy",
    );
    refuses(() => v({ HostConfig: { Ulimits: [{ Name: 'bogus', Soft: 1, Hard: 1 }] } }), 'invalid ulimit type: bogus');
    refuses(
      () => v({ HostConfig: { Ulimits: [{ Name: 'nofile', Soft: 2, Hard: 1 }] } }),
      'ulimit soft limit must be less than or equal to hard limit: 2 > 1',
    );
    refuses(() => v({ Healthcheck: { Interval: 10 } }), 'Interval in Healthcheck cannot be less than 1ms');
    refuses(() => v({ Healthcheck: { Retries: -1 } }), 'Retries in Healthcheck cannot be negative');
    refuses(() => v({ Hostname: 'h'.repeat(65) }), /longer than 64 bytes/);
    refuses(
      () => v({ HostConfig: { Devices: [{ PathOnHost: '/dev/null', PathInContainer: 'rel', CgroupPermissions: 'rwm' }] } }),
      'rel is not an absolute path',
    );
    refuses(
      () => v({ HostConfig: { Devices: [{ PathOnHost: '/dev/null', PathInContainer: '/x', CgroupPermissions: 'rwx' }] } }),
      /permissions 'rwx'/,
    );
  });
});

test('--tmpfs destinations: absolute and not the root, with dockerd 20.10 texts', () => {
  const v = (Tmpfs: Record<string, string>) => validateCreate(decodeCreateBody({ HostConfig: { Tmpfs } }), host);
  refuses(() => v({ rel: '' }), "invalid mount path: 'rel' mount path must be absolute", 'Tmpfs');
  refuses(() => v({ '/': '' }), "invalid specification: destination can't be '/'", 'Tmpfs');
  refuses(() => v({ '/./': '' }), "invalid specification: destination can't be '/'", 'Tmpfs');
  assert.deepEqual(v({ '/t': 'size=1m' }), []);
});
