/**
 * events: the container's statistics, once or every interval, and its OOM events, as runc's
 * `events` reports them. OOM kills are seen by polling the memory cgroup's counters (v1
 * memory.oom_control `oom_kill`/`under_oom`, v2 memory.events `oom_kill`/`oom`) every 100 ms
 * rather than through v1's eventfd registration, which Node cannot make; the stream ends once
 * the container has stopped (after a last look at the counters) or its cgroup is gone.
 */
import { existsSync } from 'node:fs';
import { BerthError, precondition } from '../../common/errors.js';
import { managerFor, type OomState } from '../cgroups/manager.js';
import type { Stats } from '../cgroups/stats.js';
import { Container } from './container.js';

export type ContainerEvent = { type: 'stats'; id: string; data: Stats } | { type: 'oom'; id: string };

const OOM_POLL_MS = 100;

async function running(root: string, id: string): Promise<Container> {
  const c = await Container.load(root, id);
  if (c.status() === 'stopped') throw precondition(`container with id ${id} is not running`, id);
  return c;
}

export async function containerStats(root: string, id: string): Promise<Stats> {
  const c = await running(root, id);
  return managerFor(c.record.cgroups).stats();
}

function oomHappened(before: OomState | undefined, now: OomState | undefined): boolean {
  if (!now) return false;
  return now.kills > (before?.kills ?? 0) || now.ooms > (before?.ooms ?? 0);
}

/** Stats every `intervalMs` (first after one interval, as runc's ticker) and OOM events as they happen. */
export async function* containerEvents(root: string, id: string, intervalMs: number, signal?: AbortSignal): AsyncGenerator<ContainerEvent> {
  if (!(intervalMs > 0)) throw new BerthError('invalid-argument', 'duration interval must be greater than 0');
  const c = await running(root, id);
  const m = managerFor(c.record.cgroups);
  let oom = m.oom();
  let nextStats = Date.now() + intervalMs;
  const gone = () => !existsSync(c.dir) || !m.dirs.some((d) => existsSync(d.dir));
  for (;;) {
    if (signal?.aborted) return;
    const wait = Math.max(0, Math.min(OOM_POLL_MS, nextStats - Date.now()));
    await new Promise((r) => setTimeout(r, wait));
    const stopped = c.status() === 'stopped' || gone();
    const now = m.oom();
    if (oomHappened(oom, now)) yield { type: 'oom', id };
    if (now) oom = now;
    if (stopped) return;
    if (Date.now() >= nextStats) {
      nextStats += intervalMs;
      if (nextStats < Date.now()) nextStats = Date.now() + intervalMs;
      yield { type: 'stats', id, data: m.stats() };
    }
  }
}
