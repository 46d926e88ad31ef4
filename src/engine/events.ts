/**
 * The engine's event bus, in Docker's event shape (`GET /events`, `docker events`): every
 * container, image, volume and network change is published here, kept in a bounded ring for
 * `since`, and fanned out to subscribers. Publishing never blocks and never throws: a slow
 * subscriber is the subscriber's problem (the API layer drops it when its socket backs up).
 */

export type EventType = 'container' | 'image' | 'volume' | 'network' | 'daemon';

export interface EngineEvent {
  Type: EventType;
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  scope: 'local';
  /** Unix seconds and nanoseconds. */
  time: number;
  timeNano: number;
  /** Deprecated fields the 20.10 CLI still prints for containers and images. */
  status?: string;
  id?: string;
  from?: string;
}

export type EventListener = (e: EngineEvent) => void;

export class EventBus {
  private readonly ring: EngineEvent[] = [];
  private readonly listeners = new Set<EventListener>();
  constructor(private readonly keep = 1024) {}

  publish(type: EventType, action: string, id: string, attributes: Record<string, string> = {}): EngineEvent {
    const nowNs = BigInt(Date.now()) * 1_000_000n + (process.hrtime.bigint() % 1_000_000n);
    const e: EngineEvent = {
      Type: type,
      Action: action,
      Actor: { ID: id, Attributes: attributes },
      scope: 'local',
      time: Number(nowNs / 1_000_000_000n),
      timeNano: Number(nowNs),
    };
    if (type === 'container' || type === 'image') {
      e.status = action;
      e.id = id;
      if (attributes.image) e.from = attributes.image;
    }
    this.ring.push(e);
    if (this.ring.length > this.keep) this.ring.shift();
    for (const l of this.listeners) {
      try {
        l(e);
      } catch {
        // a listener's failure is its own
      }
    }
    return e;
  }

  /** The kept events at or after `sinceNano` (for `since`), oldest first. */
  history(sinceNano: number): EngineEvent[] {
    return this.ring.filter((e) => e.timeNano >= sinceNano);
  }

  subscribe(l: EventListener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  get subscribers(): number {
    return this.listeners.size;
  }
}
