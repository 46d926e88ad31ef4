/**
 * `GET /events` filters with moby's semantics (daemon/events/filter.go): every filter key set
 * must match; `event` and `type` match exactly (`event` by prefix for health_status, exec_create
 * and exec_start, whose actions carry a suffix); container, volume, network, daemon, … match the
 * actor's ID or `name` attribute exactly or by prefix; `image` matches the ID or the image name,
 * with or without its tag; `label` needs every `k` or `k=v` among the attributes.
 */
import { familiarName, parseReference } from '../distribution/reference.js';
import type { EngineEvent } from '../engine/events.js';

export type Filters = Map<string, string[]>;

const has = (f: Filters, key: string) => (f.get(key)?.length ?? 0) > 0;

/** filters.Args.ExactMatch: true when the key is unset. */
export function exactMatch(f: Filters, key: string, source: string): boolean {
  const values = f.get(key);
  if (!values || values.length === 0) return true;
  return values.includes(source);
}

/** filters.Args.FuzzyMatch: exact, or the source starts with one of the values. */
export function fuzzyMatch(f: Filters, key: string, source: string): boolean {
  const values = f.get(key);
  if (!values || values.length === 0) return true;
  return values.some((v) => source === v || source.startsWith(v));
}

/** filters.Args.MatchKVList: every `k` or `k=v` present among the attributes. */
function matchLabels(f: Filters, attributes: Record<string, string>): boolean {
  const values = f.get('label');
  if (!values || values.length === 0) return true;
  if (Object.keys(attributes).length === 0) return false;
  return values.every((v) => {
    const eq = v.indexOf('=');
    const k = eq < 0 ? v : v.slice(0, eq);
    if (!Object.hasOwn(attributes, k)) return false;
    return eq < 0 || attributes[k] === v.slice(eq + 1);
  });
}

/** The familiar name without tag or digest (`docker.io/library/busybox:1` → `busybox`). */
export function stripTag(image: string): string {
  try {
    return familiarName(parseReference(image));
  } catch {
    return image;
  }
}

const FUZZY_EVENTS = new Set(['health_status', 'exec_create', 'exec_start']);
/** The keys matched against the actor's ID or name (moby's fuzzyMatchName per event type). */
const NAMED_TYPES = ['container', 'volume', 'network', 'daemon', 'plugin', 'node', 'service', 'secret', 'config'];

export function includeEvent(f: Filters, e: EngineEvent): boolean {
  const events = f.get('event') ?? [];
  const eventOk = events.some((v) => FUZZY_EVENTS.has(v)) ? fuzzyMatch(f, 'event', e.Action) : exactMatch(f, 'event', e.Action);
  if (!eventOk) return false;
  if (!exactMatch(f, 'type', e.Type)) return false;
  if (!exactMatch(f, 'scope', e.scope)) return false;
  const name = e.Actor.Attributes.name ?? '';
  for (const key of NAMED_TYPES) {
    if (has(f, key) && !(fuzzyMatch(f, key, e.Actor.ID) || fuzzyMatch(f, key, name))) return false;
  }
  if (has(f, 'image')) {
    const imageName = e.Actor.Attributes[e.Type === 'image' ? 'name' : 'image'] ?? '';
    const id = e.Actor.ID;
    const ok =
      exactMatch(f, 'image', id) ||
      exactMatch(f, 'image', imageName) ||
      exactMatch(f, 'image', stripTag(id)) ||
      exactMatch(f, 'image', stripTag(imageName));
    if (!ok) return false;
  }
  return matchLabels(f, e.Actor.Attributes);
}
