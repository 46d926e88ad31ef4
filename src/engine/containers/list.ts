/**
 * `GET /containers/json`: all or the active ones, newest first, with dockerd's filters (id, name,
 * label, status, exited, ancestor, before, since, health, volume, is-task), `limit`. Pure.
 */
import { BerthError } from '../../common/errors.js';
import type { ContainerRecord } from './record.js';

const STATUSES = new Set(['created', 'restarting', 'running', 'removing', 'paused', 'exited', 'dead']);
const KNOWN = new Set([
  'id',
  'name',
  'label',
  'status',
  'exited',
  'ancestor',
  'before',
  'since',
  'health',
  'volume',
  'is-task',
  'network',
  'publish',
  'expose',
  'isolation',
]);

export interface ListOptions {
  all: boolean;
  limit?: number;
  filters: Map<string, string[]>;
  /** Resolves a container reference (for before/since); undefined when unknown. */
  find: (ref: string) => ContainerRecord | undefined;
  /** Does image reference `ref` name the image `imageId` (ancestor)? */
  imageMatches?: (ref: string, rec: ContainerRecord) => boolean;
}

export function listContainers(records: readonly ContainerRecord[], o: ListOptions): ContainerRecord[] {
  for (const k of o.filters.keys()) if (!KNOWN.has(k)) throw new BerthError('invalid-argument', `invalid filter '${k}'`, { object: k });
  for (const s of o.filters.get('status') ?? [])
    if (!STATUSES.has(s)) throw new BerthError('invalid-argument', `invalid filter 'status=${s}'`, { object: 'status' });
  const f = (k: string) => o.filters.get(k) ?? [];
  const refTime = (k: string) => {
    const v = f(k)[0];
    if (v === undefined) return undefined;
    const r = o.find(v);
    if (!r) throw new BerthError('not-found', `No such container: ${v}`, { object: v });
    return Date.parse(r.Created);
  };
  const before = refTime('before');
  const since = refTime('since');
  let out = [...records].sort((a, b) => Date.parse(b.Created) - Date.parse(a.Created) || (a.Id < b.Id ? -1 : 1));
  // -a is implied by filters that look at stopped containers (dockerd: status, exited, before/since, limit)
  const all =
    o.all || f('status').length > 0 || f('exited').length > 0 || before !== undefined || since !== undefined || (o.limit ?? 0) > 0;
  out = out.filter((r) => {
    const st = r.State.Status;
    if (!all && st !== 'running' && st !== 'paused' && st !== 'restarting') return false;
    if (f('id').length && !f('id').some((p) => r.Id.startsWith(p))) return false;
    if (f('name').length && !f('name').some((n) => new RegExp(n.replace(/^\//, '')).test(r.Name))) return false;
    if (f('status').length && !f('status').includes(st)) return false;
    if (f('exited').length && !(st === 'exited' && f('exited').some((e) => Number(e) === r.State.ExitCode))) return false;
    if (f('label').length && !f('label').every((l) => labelMatches(r.Config.Labels ?? {}, l))) return false;
    if (f('ancestor').length && !f('ancestor').some((a) => o.imageMatches?.(a, r) ?? (r.ImageRef === a || r.Image.includes(a))))
      return false;
    if (f('health').length && !f('health').includes(r.State.Health?.Status ?? 'none')) return false;
    if (f('volume').length && !f('volume').some((v) => r.Mounts.some((m) => m.Name === v || m.Source === v || m.Destination === v)))
      return false;
    if (f('is-task').length && f('is-task').includes('true')) return false;
    if (before !== undefined && !(Date.parse(r.Created) < before)) return false;
    if (since !== undefined && !(Date.parse(r.Created) > since)) return false;
    return true;
  });
  if (o.limit && o.limit > 0) out = out.slice(0, o.limit);
  return out;
}

function labelMatches(labels: Record<string, string>, filter: string): boolean {
  const i = filter.indexOf('=');
  if (i < 0) return Object.hasOwn(labels, filter);
  const k = filter.slice(0, i);
  return Object.hasOwn(labels, k) && labels[k] === filter.slice(i + 1);
}
