/**
 * `POST /containers/prune`: every container that is not running (created, exited, dead) and
 * matches the filters — `until` (a timestamp or a duration before now, on the creation time) and
 * `label` / `label!` (`key` or `key=value`) — removed as `docker rm` would, its rootfs snapshot's
 * own size counted as reclaimed. `pruneFilter` is pure.
 */
import { BerthError } from '../../common/errors.js';
import type { Engine } from '../engine.js';
import type { ContainerRecord } from './record.js';

/** A Docker filter time: RFC3339, Unix seconds (with fraction), or a Go duration before `now`. */
export function parseFilterTime(v: string, now = Date.now()): number {
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v) * 1000;
  const t = Date.parse(v);
  if (!Number.isNaN(t)) return t;
  const units: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g;
  if (!/^((\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h))+$/.test(v))
    throw new BerthError('invalid-argument', `failed to parse value ${v} as a timestamp`, { object: 'until' });
  let ms = 0;
  for (const m of v.matchAll(re)) ms += Number(m[1]) * units[m[2]!]!;
  return now - ms;
}

function labelMatch(labels: Record<string, string>, spec: string): boolean {
  const i = spec.indexOf('=');
  if (i < 0) return spec in labels;
  return labels[spec.slice(0, i)] === spec.slice(i + 1);
}

export function pruneFilter(filters: Map<string, string[]>, now = Date.now()): (r: ContainerRecord) => boolean {
  for (const k of filters.keys())
    if (k !== 'until' && k !== 'label' && k !== 'label!') throw new BerthError('invalid-argument', `invalid filter '${k}'`, { object: k });
  const until = (filters.get('until') ?? []).map((v) => parseFilterTime(v, now));
  const labels = filters.get('label') ?? [];
  const notLabels = filters.get('label!') ?? [];
  return (r) => {
    const created = Date.parse(r.Created);
    if (until.some((u) => created >= u)) return false;
    const l = r.Config.Labels ?? {};
    if (!labels.every((s) => labelMatch(l, s))) return false;
    if (notLabels.some((s) => labelMatch(l, s))) return false;
    return true;
  };
}

export async function pruneContainers(
  engine: Engine,
  filters: Map<string, string[]>,
): Promise<{ ContainersDeleted: string[] | null; SpaceReclaimed: number }> {
  const keep = pruneFilter(filters);
  const deleted: string[] = [];
  let space = 0;
  for (const r of engine.containers.all()) {
    const s = r.State.Status;
    if (s !== 'created' && s !== 'exited' && s !== 'dead') continue;
    if (!keep(r)) continue;
    const size = await engine.images.snapshotter
      .usage(r.SnapshotKey)
      .then((u) => u.size)
      .catch(() => 0);
    try {
      await engine.remove(r.Id, { force: false, volumes: false });
    } catch (err) {
      engine.log?.(`prune ${r.Id}: ${(err as Error).message}`);
      continue;
    }
    deleted.push(r.Id);
    space += size;
  }
  engine.events.publish('container', 'prune', '', { reclaimed: String(space) });
  return { ContainersDeleted: deleted.length ? deleted : null, SpaceReclaimed: space };
}
