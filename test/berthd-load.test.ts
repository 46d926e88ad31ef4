/**
 * Load on berthd, containerd-stress style: 5 workers loop create → start → wait → delete through
 * the Engine API (raw HTTP on the unix socket, no CLI), bounded by time and count; no failure
 * is allowed. Then the latency of create+start with 0 and 100 live `sleep` containers. The
 * rates and percentiles are reported (diagnostics), never asserted: the machine is shared.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { Berthd, berthdUnavailable } from './helpers/berthd.js';

const skip = berthdUnavailable();

const WORKERS = 5;
const MAX_MS = 15_000;
const MAX_CONTAINERS = 300;
const WARMUP = 25;

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

describe('berthd under load', { skip, timeout: 300_000 }, () => {
  let d: Berthd;
  before(async () => {
    d = await Berthd.start();
  });
  after(async () => {
    await d?.stop();
  });

  /** One container's life through the API; throws with the step that failed. */
  const ids = new Set<string>();
  const cycle = async (cmd: string[]): Promise<void> => {
    const c = await d.api('POST', '/containers/create', { Image: 'busybox', Cmd: cmd, HostConfig: { NetworkMode: 'none' } });
    if (c.status !== 201) throw new Error(`create: ${c.status} ${c.text}`);
    const id = (c.body as { Id: string }).Id;
    ids.add(id);
    const s = await d.api('POST', `/containers/${id}/start`);
    if (s.status !== 204) throw new Error(`start: ${s.status} ${s.text}`);
    const w = await d.api('POST', `/containers/${id}/wait`);
    if (w.status !== 200 || (w.body as { StatusCode: number }).StatusCode !== 0) throw new Error(`wait: ${w.status} ${w.text}`);
    const r = await d.api('DELETE', `/containers/${id}`);
    if (r.status !== 204) throw new Error(`delete: ${r.status} ${r.text}`);
  };

  test(`${WORKERS} workers: create → start → wait → delete, no failure`, async (t) => {
    // A daemon's steady state, as containerd-stress measures over its minute: the first cycles
    // of a fresh berthd compile its code (~20–30% slower), so WARMUP cycles run untimed first.
    await Promise.all(
      Array.from({ length: WORKERS }, async () => {
        for (let i = 0; i < WARMUP / WORKERS; i++) await cycle(['true']);
      }),
    );
    const fdsBefore = readdirSync(`/proc/${d.pid}/fd`).length;
    const failures: string[] = [];
    let done = 0;
    let claimed = 0;
    const t0 = performance.now();
    const worker = async () => {
      while (performance.now() - t0 < MAX_MS && claimed < MAX_CONTAINERS) {
        claimed++;
        try {
          await cycle(['true']);
          done++;
        } catch (err) {
          failures.push((err as Error).message);
        }
      }
    };
    await Promise.all(Array.from({ length: WORKERS }, worker));
    const secs = (performance.now() - t0) / 1000;
    t.diagnostic(
      `${done} containers in ${secs.toFixed(1)} s: ${(done / secs).toFixed(1)} containers/s, ${failures.length} failures (after ${WARMUP} untimed)`,
    );
    assert.deepEqual(failures, []);
    assert.ok(done > 0);
    const left = (await d.api('GET', '/containers/json?all=1')).body as unknown[];
    assert.equal(left.length, 0, 'every container deleted');
    assert.deepEqual(d.liveShims(), []);
    assert.deepEqual(d.mounts(), []);
    // Nothing per container stays behind: berthd's fds, the containers' cgroup dirs.
    const fdsAfter = readdirSync(`/proc/${d.pid}/fd`).length;
    assert.ok(fdsAfter <= fdsBefore + 8, `berthd fds: ${fdsBefore} before, ${fdsAfter} after ${done} containers`);
    const leftCgroups = readdirSync('/sys/fs/cgroup').flatMap((h) => {
      try {
        return readdirSync(`/sys/fs/cgroup/${h}/berth`).filter((n) => /^[0-9a-f]{64}$/.test(n) && ids.has(n));
      } catch {
        return [];
      }
    });
    assert.deepEqual(leftCgroups, [], 'no cgroup dir of a deleted container');
  });

  test('create+start latency with 0 and 100 live containers (reported)', async (t) => {
    const measure = async (n: number) => {
      const ms: number[] = [];
      for (let i = 0; i < n; i++) {
        const t0 = performance.now();
        const c = await d.api('POST', '/containers/create', { Image: 'busybox', Cmd: ['true'], HostConfig: { NetworkMode: 'none' } });
        assert.equal(c.status, 201, c.text);
        const id = (c.body as { Id: string }).Id;
        const s = await d.api('POST', `/containers/${id}/start`);
        assert.equal(s.status, 204, s.text);
        ms.push(performance.now() - t0);
        await d.api('POST', `/containers/${id}/wait`);
        assert.equal((await d.api('DELETE', `/containers/${id}`)).status, 204);
      }
      return ms.sort((a, b) => a - b);
    };
    const idle = await measure(20);
    const sleepers: string[] = [];
    for (let i = 0; i < 100; i++) {
      const c = await d.api('POST', '/containers/create', {
        Image: 'busybox',
        Cmd: ['sleep', '1000'],
        HostConfig: { NetworkMode: 'none' },
      });
      assert.equal(c.status, 201, c.text);
      const id = (c.body as { Id: string }).Id;
      assert.equal((await d.api('POST', `/containers/${id}/start`)).status, 204);
      sleepers.push(id);
    }
    const loaded = await measure(20);
    for (const [what, ms] of [
      ['0 live', idle],
      ['100 live', loaded],
    ] as const)
      t.diagnostic(`create+start with ${what}: p50 ${percentile(ms, 50).toFixed(1)} ms, p99 ${percentile(ms, 99).toFixed(1)} ms`);
    const running = (await d.api('GET', '/containers/json')).body as unknown[];
    assert.equal(running.length, 100, 'the sleepers ran throughout');
    for (const id of sleepers) assert.equal((await d.api('DELETE', `/containers/${id}?force=1`)).status, 204);
    assert.deepEqual(d.liveShims(), []);
  });
});
