/**
 * The puller's progress events as dockerd's JSON progress stream (engine-api.md §A4). Pure.
 *
 * dockerd renders the bar on the server (pkg/jsonmessage JSONProgress.String at its default
 * width of 200, without a start time, so without the time left) and sizes with go-units'
 * HumanSize (`%.4g` of decimal units). The order differs from our puller's in three places,
 * which PullProgress evens out:
 *   - dockerd says "Pulling from" only once the manifest resolved: an unknown tag is then a
 *     plain 404, not an error inside a 200 stream; we hold it until the next event;
 *   - a layer already present gets "Already exists" without a "Pulling fs layer" first;
 *   - an image whose ID (its config) was already here gets no layer lines at all (an up-to-date
 *     pull prints only "Pulling from", "Digest:" and "Status:"): dockerd's pullSchema2 stops at
 *     its image store. Layers that all exist are not enough — another image may share them —
 *     so when every layer "Already exists", the lines wait for `finish()` to say which it was.
 */
import type { ProgressEvent } from '../../images/types.js';
import type { JsonMessage } from '../types.js';

const UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'];

/** Go's `%.{prec}g`: correctly rounded (half to even on exact ties), trailing zeros dropped. */
export function formatG(x: number, prec = 4): string {
  if (x === 0) return '0';
  if (!Number.isFinite(x)) return String(x);
  const neg = x < 0;
  // toPrecision(100) is the exact decimal expansion of any double below 1e21 we meet here
  const s = Math.abs(x).toPrecision(100);
  const [intPart = '0', fracPart = ''] = s.split('.');
  let exp: number;
  let digits: string;
  if (/^0*$/.test(intPart)) {
    const lead = fracPart.length - fracPart.replace(/^0+/, '').length;
    exp = -lead - 1;
    digits = fracPart.slice(lead);
  } else {
    const trimmed = intPart.replace(/^0+/, '');
    exp = trimmed.length - 1;
    digits = trimmed + fracPart;
  }
  digits = digits.padEnd(prec + 1, '0');
  let kept = digits.slice(0, prec);
  const rest = digits.slice(prec);
  const first = rest.charCodeAt(0) - 48;
  const tail = /[1-9]/.test(rest.slice(1));
  const lastEven = (kept.charCodeAt(prec - 1) - 48) % 2 === 0;
  if (first > 5 || (first === 5 && (tail || !lastEven))) {
    const up = (BigInt(kept) + 1n).toString();
    if (up.length > prec) {
      kept = up.slice(0, prec);
      exp++;
    } else kept = up.padStart(prec, '0');
  }
  let out: string;
  if (exp < -4 || exp >= prec) {
    const m = `${kept[0]}.${kept.slice(1)}`.replace(/\.?0+$/, '');
    out = `${m}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  } else if (exp < 0) {
    out = `0.${'0'.repeat(-exp - 1)}${kept}`.replace(/\.?0+$/, '');
  } else {
    const i = kept.slice(0, exp + 1).padEnd(exp + 1, '0');
    const f = kept.slice(exp + 1).replace(/0+$/, '');
    out = f ? `${i}.${f}` : i;
  }
  return neg ? `-${out}` : out;
}

/** go-units HumanSize: `36.45kB`, `1.065MB`, `512B`. */
export function humanSize(bytes: number): string {
  let size = bytes;
  let i = 0;
  while (size >= 1000 && i < UNITS.length - 1) {
    size /= 1000;
    i++;
  }
  return `${formatG(size, 4)}${UNITS[i]}`;
}

/** JSONProgress.String() as dockerd renders it (width 200, no start time). */
export function progressBar(current: number, total: number): string {
  if (current <= 0 && total <= 0) return '';
  if (total <= 0) return humanSize(current).padStart(8);
  const percentage = Math.min(50, Math.trunc(Math.trunc((current / total) * 100) / 2));
  const bar = `[${'='.repeat(percentage)}>${' '.repeat(Math.max(0, 50 - percentage))}] `;
  const numbers = current > total ? humanSize(current).padStart(8) : `${humanSize(current).padStart(8)}/${humanSize(total)}`;
  return bar + numbers;
}

/** One event as dockerd writes it: progressDetail on layer updates, a bar when there are numbers. */
export function toJsonMessage(e: ProgressEvent): JsonMessage {
  const m: JsonMessage = { status: e.status };
  // progress.Message (Pulling from, Digest, Status) carries no progressDetail; progress.Update does
  if (e.id !== undefined && !e.status.startsWith('Pulling from ')) {
    const detail: { current?: number; total?: number } = {};
    if (e.current) detail.current = e.current;
    if (e.total) detail.total = e.total;
    m.progressDetail = detail;
    const bar = progressBar(e.current ?? 0, e.total ?? 0);
    if (bar) m.progress = bar;
  }
  if (e.id !== undefined) m.id = e.id;
  return m;
}

type Held = { kind: 'from'; event: ProgressEvent } | { kind: 'layer'; id: string; event: ProgressEvent };

/** Reorders and filters the puller's events into dockerd's sequence (see the file comment). */
export class PullProgress {
  #held: Held[] = [];
  #flowing = false;
  /** "Digest:" and what followed it, held while every layer already existed (see finish). */
  #tail: ProgressEvent[] | undefined;
  constructor(private readonly write: (m: JsonMessage) => void) {}

  /** True once something was written (an error is then in-stream). */
  get started(): boolean {
    return this.#flowing;
  }

  #flush(dropLayers: boolean): void {
    const held = this.#held;
    this.#held = [];
    this.#flowing = true;
    for (const h of held) if (h.kind === 'from' || !dropLayers) this.write(toJsonMessage(h.event));
  }

  event(e: ProgressEvent): void {
    if (this.#tail) {
      this.#tail.push(e);
      return;
    }
    if (this.#flowing) {
      this.write(toJsonMessage(e));
      return;
    }
    if (e.status.startsWith('Pulling from ')) {
      this.#held.push({ kind: 'from', event: e });
      return;
    }
    if (e.id !== undefined && (e.status === 'Pulling fs layer' || e.status === 'Already exists')) {
      const at = this.#held.findIndex((h) => h.kind === 'layer' && h.id === e.id);
      if (at >= 0) this.#held[at] = { kind: 'layer', id: e.id, event: e };
      else this.#held.push({ kind: 'layer', id: e.id, event: e });
      return;
    }
    if (e.status.startsWith('Digest: ')) {
      // nothing but "Already exists": whether dockerd would list the layers depends on whether
      // the image itself was here, which the caller knows once the pull returned its ID
      if (this.#held.every((h) => h.kind === 'from' || h.event.status === 'Already exists')) {
        this.#tail = [e];
        return;
      }
      this.#flush(false);
      this.write(toJsonMessage(e));
      return;
    }
    this.#flush(false);
    this.write(toJsonMessage(e));
  }

  /** The pull returned: `imageWasHere` (its ID was a local image before) drops the held layer lines. */
  finish(imageWasHere: boolean): void {
    const tail = this.#tail;
    if (!tail) return;
    this.#tail = undefined;
    this.#flush(imageWasHere);
    for (const e of tail) this.write(toJsonMessage(e));
  }
}
