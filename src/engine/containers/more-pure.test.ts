/**
 * The pure parts of stats, top, health, init, commit, update and prune (no root needed).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { emptyStats } from '../../runtime/cgroups/stats.js';
import type { HostConfig } from '../spec/create-config.js';
import { overlayDirs } from './commit.js';
import { applyProbe, probeCommand } from './health.js';
import { applyInit } from './init.js';
import { parseFilterTime, pruneFilter } from './prune.js';
import type { ContainerRecord } from './record.js';
import { parseProcStat, toDockerStats } from './stats.js';
import { parsePs } from './top.js';
import { resourceChange, updatedHostConfig } from './update.js';

describe('stats', () => {
  test('/proc/stat: the first seven fields of the cpu line, in nanoseconds', () => {
    assert.equal(parseProcStat('cpu  1 2 3 4 5 6 7 8 9\ncpu0 1 1 1 1 1 1 1\n'), 28 * 1e7);
    assert.equal(parseProcStat('garbage'), 0);
  });
  test('the Docker shape; precpu from the previous sample; an unlimited limit is the machine memory', () => {
    const s = emptyStats();
    s.cpu.usage = { total: 500, kernel: 100, user: 400, percpu: [200, 300] };
    s.memory.usage = { limit: 2n ** 63n, usage: 1000, failcnt: 0 };
    s.memory.raw = { total_inactive_file: 10, cache: 5 };
    s.pids = { current: 3, limit: 50 };
    const host = { systemUsage: 1e12, onlineCpus: 2, memTotal: 4096 };
    const out = toDockerStats({ Id: 'x', Name: 'n' }, { read: 'T2', stats: s, host }, { read: 'T1', stats: s, host }) as Record<
      string,
      any
    >;
    assert.equal(out.name, '/n');
    assert.equal(out.preread, 'T1');
    assert.deepEqual(out.cpu_stats.cpu_usage, {
      total_usage: 500,
      percpu_usage: [200, 300],
      usage_in_kernelmode: 100,
      usage_in_usermode: 400,
    });
    assert.equal(out.precpu_stats.system_cpu_usage, 1e12);
    assert.equal(out.memory_stats.limit, 4096);
    assert.equal(out.memory_stats.stats.total_inactive_file, 10);
    assert.deepEqual(out.pids_stats, { current: 3, limit: 50 });
    const first = toDockerStats({ Id: 'x', Name: 'n' }, { read: 'T2', stats: s, host }, undefined) as Record<string, any>;
    assert.equal(first.preread, '0001-01-01T00:00:00Z');
    assert.equal(first.precpu_stats.cpu_usage.total_usage, 0);
  });
});

describe('top', () => {
  test('rows whose PID is in the set; the command keeps its spaces', () => {
    const out = 'UID PID PPID C STIME TTY TIME CMD\nroot 10 1 0 05:00 ? 00:00:00 sleep 1000\nroot 11 1 0 05:00 ? 00:00:00 other thing\n';
    assert.deepEqual(parsePs(out, new Set([10])), {
      Titles: ['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD'],
      Processes: [['root', '10', '1', '0', '05:00', '?', '00:00:00', 'sleep 1000']],
    });
    assert.throws(() => parsePs('A B\n1 2\n', new Set()), /Couldn't find PID field/);
  });
});

describe('health', () => {
  test('probe commands: CMD, CMD-SHELL, NONE', () => {
    assert.deepEqual(probeCommand({ Test: ['CMD', 'true', 'x'] }), ['true', 'x']);
    assert.deepEqual(probeCommand({ Test: ['CMD-SHELL', 'exit 1'] }), ['/bin/sh', '-c', 'exit 1']);
    assert.equal(probeCommand({ Test: ['NONE'] }), undefined);
    assert.equal(probeCommand(undefined), undefined);
  });
  test('streaks, retries, the start period, the last five entries', () => {
    const hc = { Retries: 2, StartPeriod: 10e9 };
    const started = '2026-01-01T00:00:00Z';
    const fail = (t: string) => ({ Start: t, End: t, ExitCode: 1, Output: '' });
    let h = applyProbe(undefined, fail('2026-01-01T00:00:05Z'), hc, started);
    assert.deepEqual([h.Status, h.FailingStreak], ['starting', 0], 'in the start period: not counted');
    h = applyProbe(h, fail('2026-01-01T00:00:11Z'), hc, started);
    assert.deepEqual([h.Status, h.FailingStreak], ['starting', 1]);
    h = applyProbe(h, fail('2026-01-01T00:00:12Z'), hc, started);
    assert.deepEqual([h.Status, h.FailingStreak], ['unhealthy', 2]);
    h = applyProbe(h, { ...fail('2026-01-01T00:00:13Z'), ExitCode: 0 }, hc, started);
    assert.deepEqual([h.Status, h.FailingStreak], ['healthy', 0]);
    for (let i = 0; i < 5; i++) h = applyProbe(h, fail('2026-01-01T00:01:00Z'), hc, started);
    assert.equal(h.Log.length, 5);
  });
});

test('init: /sbin/docker-init -- args, mounted read-only', () => {
  const s = applyInit({ ociVersion: '1.0.2', process: { args: ['ps'], cwd: '/' } } as never, '/usr/bin/tini-static');
  assert.deepEqual(s.process?.args, ['/sbin/docker-init', '--', 'ps']);
  assert.deepEqual(s.mounts?.at(-1), {
    destination: '/sbin/docker-init',
    type: 'bind',
    source: '/usr/bin/tini-static',
    options: ['bind', 'ro'],
  });
});

test('commit: the overlay dirs from the mount options', () => {
  assert.deepEqual(overlayDirs([{ type: 'overlay', options: ['lowerdir=/a:/b', 'upperdir=/u', 'workdir=/w'] }]), {
    upper: '/u',
    lowers: ['/a', '/b'],
  });
  assert.equal(overlayDirs([{ type: 'bind', options: ['rbind'] }]), undefined);
});

describe('update', () => {
  const h: HostConfig = { Memory: 64 << 20, RestartPolicy: { Name: 'no' } };
  test('only the fields asked change; dockerd texts for refused changes', () => {
    const next = updatedHostConfig(h, { Memory: 96 << 20, CpuShares: 0, NanoCpus: 5e8, PidsLimit: 50 });
    assert.equal(next.Memory, 96 << 20);
    assert.equal(next.NanoCpus, 5e8);
    assert.equal(next.PidsLimit, 50);
    assert.deepEqual(resourceChange(next, { Memory: 96 << 20, NanoCpus: 5e8, PidsLimit: 50 }), {
      memory: { limit: 96 << 20, swap: 192 << 20 },
      cpu: { period: 100_000, quota: 50_000 },
      pids: { limit: 50 },
    });
    assert.throws(() => updatedHostConfig(h, { Memory: 1 << 20 }), /Minimum memory limit allowed is 6MB/);
    assert.throws(() => updatedHostConfig({ ...h, MemorySwap: 100 << 20 }, { Memory: 200 << 20 }), /smaller than already set memoryswap/);
    assert.throws(() => updatedHostConfig({ ...h, AutoRemove: true }, { RestartPolicy: { Name: 'always' } }), /AutoRemove is enabled/);
  });
});

describe('prune', () => {
  const rec = (created: string, labels: Record<string, string>) =>
    ({ Created: created, Config: { Labels: labels } }) as unknown as ContainerRecord;
  test('until and labels', () => {
    const now = Date.parse('2026-01-01T01:00:00Z');
    assert.equal(parseFilterTime('1h', now), Date.parse('2026-01-01T00:00:00Z'));
    assert.equal(parseFilterTime('1767225600', now), 1767225600000);
    assert.throws(() => parseFilterTime('soon', now), /failed to parse value soon/);
    const f = pruneFilter(
      new Map([
        ['until', ['30m']],
        ['label', ['a=1']],
      ]),
      now,
    );
    assert.equal(f(rec('2026-01-01T00:00:00Z', { a: '1' })), true);
    assert.equal(f(rec('2026-01-01T00:59:00Z', { a: '1' })), false, 'too recent');
    assert.equal(f(rec('2026-01-01T00:00:00Z', { a: '2' })), false, 'other label value');
    assert.throws(() => pruneFilter(new Map([['bogus', ['x']]])), /invalid filter 'bogus'/);
  });
});
