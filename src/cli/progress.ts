/**
 * Docker's progress display (moby pkg/jsonmessage DisplayJSONMessagesStream), as `docker pull`,
 * `push`, `load` and `import` print a daemon's JSON message stream.
 *
 * On a terminal, every message that has an `id` and progress owns one line, redrawn in place
 * (cursor up to its line, erase, the status and the bar, cursor back down); any other message
 * ends that block of lines. Off a terminal, progress bars are left out and every other message
 * is one plain line. `aux` messages go to a callback; `errorDetail` ends the display with a
 * CliError (exit 1), its message printed as is, as the docker CLI does.
 *
 * The rendering is pure (`renderMessage` over a `DisplayState`); `displayProgress` is the one
 * place that reads the stream and writes.
 */
import { Writable } from 'node:stream';
import { jsonValues, StreamError } from '../client/streams.js';
import { humanSize } from './format/index.js';
import { CliError } from './types.js';

export interface JsonProgressDetail {
  current?: number;
  total?: number;
  start?: number;
  hidecounts?: boolean;
  units?: string;
}

export interface JsonMessage {
  stream?: string;
  status?: string;
  progressDetail?: JsonProgressDetail;
  /** The daemon's own rendering of the bar (deprecated; shown when there is no detail). */
  progress?: string;
  id?: string;
  from?: string;
  time?: number;
  timeNano?: number;
  errorDetail?: { code?: number; message?: string };
  error?: string;
  aux?: unknown;
}

export interface ProgressOptions {
  /** A terminal: bars redrawn in place. Default: `out.isTTY`. */
  isTTY?: boolean;
  /** The terminal's width (the bar is drawn only when wider than 110). Default: `out.columns`, else 200. */
  columns?: number;
  /** Out-of-band data: push's `{Tag,Digest,Size}`, build's `{ID}`. */
  onAux?(aux: unknown): void;
  /** The clock for the time-left estimate (tests). */
  now?(): number;
}

/** Go's time.Duration String for whole seconds: `0s`, `45s`, `2m5s`, `1h0m3s`. */
function goDuration(seconds: number): string {
  if (seconds <= 0) return '0s';
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  if (h) return `${h}h${m}m${s}s`;
  if (m) return `${m}m${s}s`;
  return `${s}s`;
}

/** JSONProgress.String: `[=====>      ]  1.2MB/3.4MB 5s`, or '' when there is nothing to show. */
export function progressString(p: JsonProgressDetail, width: number, nowMs: number = Date.now()): string {
  const current = p.current ?? 0;
  const total = p.total ?? 0;
  if (current <= 0 && total <= 0) return '';
  if (total <= 0) return p.units ? `${current} ${p.units}` : humanSize(current).padStart(8);
  let percentage = Math.min(50, Math.trunc(Math.trunc((current / total) * 100) / 2));
  if (percentage < 0) percentage = 0;
  let bar = '';
  if (width > 110) bar = `[${'='.repeat(percentage)}>${' '.repeat(Math.max(0, 50 - percentage))}] `;
  let numbers = '';
  if (p.hidecounts) {
    numbers = '';
  } else if (!p.units) {
    numbers = current > total ? humanSize(current).padStart(8) : `${humanSize(current).padStart(8)}/${humanSize(total)}`;
  } else {
    numbers = current > total ? `${current} ${p.units}` : `${current}/${total} ${p.units}`;
  }
  let left = '';
  const start = p.start ?? 0;
  if (current > 0 && start > 0 && percentage < 50 && width > 50) {
    const elapsed = nowMs / 1000 - start;
    left = ` ${goDuration(Math.floor(((total - current) * elapsed) / current))}`;
  }
  return bar + numbers + left;
}

/** RFC3339NanoFixed in local time, as the CLI prints event times. */
function fixedTime(ms: number, nanos: number): string {
  const d = new Date(ms);
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  const off = -d.getTimezoneOffset();
  const zone = off === 0 ? 'Z' : `${off > 0 ? '+' : '-'}${pad(Math.floor(Math.abs(off) / 60))}:${pad(Math.abs(off) % 60)}`;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(nanos, 9)}${zone}`;
}

const ESC = '\x1b[';
const hasProgress = (jm: JsonMessage) => jm.progressDetail !== undefined && jm.progressDetail !== null;

/** The layer lines drawn so far (id → its line in the block), reset by any other message. */
export interface DisplayState {
  ids: Map<string, number>;
}

export function newDisplayState(): DisplayState {
  return { ids: new Map() };
}

/** JSONMessage.Display: the text of one message, without the cursor moves around it. */
function displayText(jm: JsonMessage, tty: boolean, width: number, nowMs: number): string {
  let out = '';
  let endl = '';
  if (tty && !jm.stream && hasProgress(jm)) {
    out += `${ESC}2K`;
    endl = '\r';
    out += endl;
  } else if (hasProgress(jm) && progressString(jm.progressDetail!, width, nowMs) !== '') {
    // off a terminal, the bars are left out
    return '';
  }
  if (jm.timeNano) out += `${fixedTime(Math.floor(jm.timeNano / 1e6), jm.timeNano % 1e9)} `;
  else if (jm.time) out += `${fixedTime(jm.time * 1000, 0)} `;
  if (jm.id) out += `${jm.id}: `;
  if (jm.from) out += `(from ${jm.from}) `;
  const status = jm.status ?? '';
  if (hasProgress(jm) && tty) out += `${status} ${progressString(jm.progressDetail!, width, nowMs)}${endl}`;
  else if (jm.progress) out += `${status} ${jm.progress}${endl}`;
  else if (jm.stream) out += `${jm.stream}${endl}`;
  else out += `${status}${endl}\n`;
  return out;
}

/**
 * The bytes one message adds to the output, and its error if it carries one (the display stops
 * there). `aux` messages render nothing: the caller hands them on.
 */
export function renderMessage(
  jm: JsonMessage,
  state: DisplayState,
  tty: boolean,
  width = 200,
  nowMs: number = Date.now(),
): { text: string; error?: string } {
  let text = '';
  let diff = 0;
  if (jm.id && (hasProgress(jm) || jm.progress)) {
    let line = state.ids.get(jm.id);
    if (line === undefined) {
      // A new layer gets a new line at the bottom of the block.
      line = state.ids.size;
      state.ids.set(jm.id, line);
      if (tty) text += '\n';
    }
    diff = state.ids.size - line;
    if (tty && diff > 0) text += `${ESC}${diff}A`;
  } else {
    // Anything else closes the block: later progress must not redraw lines above it.
    state.ids = new Map();
  }
  let error: string | undefined;
  if (jm.errorDetail) error = jm.errorDetail.message ?? '';
  else text += displayText(jm, tty, width, nowMs);
  if (jm.id && tty && diff > 0) text += `${ESC}${diff}B`;
  return error === undefined ? { text } : { text, error };
}

/** A response body that ended before its end (the daemon died, the socket was reset). */
export function isCutShort(err: unknown): boolean {
  const e = err as { code?: string; message?: string } | null;
  return e?.message === 'aborted' || e?.code === 'ECONNRESET' || e?.code === 'ERR_STREAM_PREMATURE_CLOSE' || e?.code === 'EPIPE';
}

/**
 * Reads a daemon's JSON message stream to its end and shows it on `out` as the docker CLI does.
 * Rejects with a CliError (exit 1) carrying the stream's `errorDetail` message.
 */
export async function displayProgress(
  stream: AsyncIterable<Buffer | string>,
  out: Writable & { isTTY?: boolean; columns?: number },
  opts: ProgressOptions = {},
): Promise<void> {
  const tty = opts.isTTY ?? out.isTTY === true;
  const width = opts.columns ?? out.columns ?? 200;
  const state = newDisplayState();
  const write = (s: string) => (s ? out.write(s) : true);
  try {
    for await (const value of jsonValues(stream)) {
      if (value === null || typeof value !== 'object' || Array.isArray(value))
        throw new CliError('json: cannot unmarshal array into Go value of type jsonmessage.JSONMessage');
      const jm = value as JsonMessage;
      if (jm.aux !== undefined && jm.aux !== null) {
        opts.onAux?.(jm.aux);
        continue;
      }
      const r = renderMessage(jm, state, tty, width, opts.now?.() ?? Date.now());
      write(r.text);
      if (r.error !== undefined) throw new CliError(r.error, 1);
    }
  } catch (err) {
    // a broken stream (garbage, cut short): its text, exit 1
    if (err instanceof StreamError) throw new CliError(err.message, 1);
    // the connection dropped mid-stream: Go's reader says unexpected EOF
    if (isCutShort(err)) throw new CliError('unexpected EOF', 1);
    throw err;
  }
}

/** An output that shows nothing (`-q`): the stream is still read and its errors still fail. */
export function discardOutput(): Writable & { isTTY?: boolean } {
  return new Writable({
    write(_chunk, _enc, cb) {
      cb();
    },
  });
}
