/**
 * `berth events` / `berth system events`: GET /events, printed as each event comes (Docker's
 * one-line layout, or `--format`), until `--until` is reached or the user interrupts.
 */
import { type EngineEvent, jsonValues } from '../../../client/streams.js';
import type { CommandSpec } from '../../types.js';
import { CliError } from '../../types.js';
import { goStruct, parseTemplate, type Render } from './render.js';
import { filterFlag, filtersJson, goEscape, INSPECT_FORMAT_USAGE } from './shared.js';

/**
 * Docker's timestamps for `--since`/`--until` (timetypes.GetTimestamp): a Unix time as given
 * (`1700000000`, `1700000000.5`), a duration before now (`10m`, `1h30m`), or a date (RFC 3339,
 * with or without time and zone) → `seconds.nanoseconds`.
 */
export function apiTimestamp(value: string, now = Date.now()): string {
  if (/^\d+(\.\d{1,9})?$/.test(value)) return value;
  const dur = /^(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m(?!s))?(?:(\d+(?:\.\d+)?)s)?(?:(\d+)ms)?$/.exec(value);
  if (dur && value !== '') {
    const ms = Number(dur[1] ?? 0) * 3_600_000 + Number(dur[2] ?? 0) * 60_000 + Number(dur[3] ?? 0) * 1000 + Number(dur[4] ?? 0);
    return fixed(now - ms);
  }
  // Dates without a zone are local times, as Go parses them with time.Local.
  const t = Date.parse(/^\d{4}-\d\d-\d\d$/.test(value) ? `${value}T00:00:00` : value);
  if (Number.isNaN(t)) throw new CliError(`failed to parse value as time or duration: "${value}"`);
  return fixed(t);
}

const fixed = (ms: number) => `${Math.floor(ms / 1000)}.${String((ms % 1000) * 1_000_000).padStart(9, '0')}`;

/** RFC3339 with nine fraction digits (jsonmessage.RFC3339NanoFixed), in UTC. */
function nanoTime(ev: EngineEvent): string {
  const ns = BigInt(ev.timeNano || 0) || BigInt(ev.time) * 1_000_000_000n;
  const secs = ns / 1_000_000_000n;
  const frac = String(ns % 1_000_000_000n).padStart(9, '0');
  return `${new Date(Number(secs) * 1000).toISOString().slice(0, 19)}.${frac}Z`;
}

/** One event in Docker's default layout: time, type, action, actor, sorted attributes. */
export function eventLine(ev: EngineEvent): string {
  let s = ev.timeNano || ev.time ? `${nanoTime(ev)} ` : '';
  s += `${ev.Type} ${ev.Action} ${ev.Actor?.ID ?? ''}`;
  const attrs = ev.Actor?.Attributes ?? {};
  const keys = Object.keys(attrs).sort();
  if (keys.length > 0) s += ` (${keys.map((k) => `${k}=${attrs[k]}`).join(', ')})`;
  return `${s}\n`;
}

/**
 * The events of the stream, one JSON object a line, with `timeNano` kept exact: it exceeds 2^53,
 * so it is read as a string before JSON.parse would round it.
 */
async function* events(stream: AsyncIterable<Buffer | string>): AsyncGenerator<EngineEvent> {
  let buf = '';
  const parse = (line: string) => JSON.parse(line.replace(/"timeNano":(\d+)/, '"timeNano":"$1"')) as EngineEvent;
  for await (const chunk of stream) {
    buf += chunk.toString();
    let nl = buf.indexOf('\n');
    while (nl >= 0) {
      const line = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      if (line !== '') yield parse(line);
      nl = buf.indexOf('\n');
    }
  }
  if (buf.trim() !== '') yield parse(buf.trim());
}

/** The event as a template sees it: Go's field names (events.Message). */
export function eventContext(ev: EngineEvent): Record<string, unknown> {
  const fields = {
    Status: ev.status ?? '',
    ID: ev.id ?? '',
    From: ev.from ?? '',
    Type: ev.Type,
    Action: ev.Action,
    Actor: { ID: ev.Actor?.ID ?? '', Attributes: ev.Actor?.Attributes ?? {} },
    Scope: ev.scope ?? '',
    Time: ev.time,
    TimeNano: String(ev.timeNano),
  };
  const o = goStruct('*events.Message', fields, false);
  // `{{json .}}`: the JSON names of events.Message, not its Go field names.
  Object.defineProperty(o, 'toJSON', { value: () => JSON.parse(eventJson({ ...ev, timeNano: Number(ev.timeNano) })) });
  return o;
}

/** `{{json .}}` of an event: Go's encoding of events.Message (its JSON names and order, the exact timeNano). */
export function eventJson(ev: EngineEvent): string {
  const j = (v: unknown) => goEscape(JSON.stringify(v));
  let s = '{';
  if (ev.status) s += `"status":${j(ev.status)},`;
  if (ev.id) s += `"id":${j(ev.id)},`;
  if (ev.from) s += `"from":${j(ev.from)},`;
  const attrs = ev.Actor?.Attributes ?? {};
  const sorted = Object.fromEntries(
    Object.keys(attrs)
      .sort()
      .map((k) => [k, attrs[k]]),
  );
  s += `"Type":${j(ev.Type)},"Action":${j(ev.Action)},"Actor":{"ID":${j(ev.Actor?.ID ?? '')},"Attributes":${j(sorted)}},`;
  s += `"scope":${j(ev.scope ?? '')},"time":${ev.time},"timeNano":${String(ev.timeNano)}}`;
  return s;
}

export const eventsCommand: CommandSpec = {
  name: 'events',
  usage: 'events [OPTIONS]',
  short: 'Get real time events from the server',
  topLevel: 'events',
  args: { max: 0 },
  flags: [
    filterFlag('Filter output based on conditions provided', 'f'),
    { name: 'format', kind: 'string', default: '', usage: INSPECT_FORMAT_USAGE },
    { name: 'since', kind: 'string', default: '', usage: 'Show all events created since timestamp' },
    { name: 'until', kind: 'string', default: '', usage: 'Stream events until this timestamp' },
  ],
  async run(ctx, { flags }) {
    const format = flags.string('format');
    let tmpl: Render | undefined;
    if (format !== '' && format !== 'json') {
      tmpl = parseTemplate(format, 'Error parsing format: ', 64);
      // Checked on an empty event first, as docker does: a bad field fails before any event.
      tmpl(eventContext({ Type: '', Action: '', Actor: { ID: '', Attributes: {} }, time: 0, timeNano: 0 }));
    }
    const now = Date.now();
    const since = flags.string('since');
    const until = flags.string('until');
    const query = {
      since: since ? apiTimestamp(since, now) : undefined,
      until: until ? apiTimestamp(until, now) : undefined,
      filters: filtersJson(flags.list('filter')),
    };
    const client = await ctx.client();
    const ac = new AbortController();
    // Interrupted: end the stream and leave with the status a signal gives.
    const onSignal = () => ac.abort();
    ctx.signals.on('SIGINT', onSignal);
    ctx.signals.on('SIGTERM', onSignal);
    try {
      const res = await client.stream('GET', '/events', { query, signal: ac.signal });
      for await (const ev of events(res)) {
        if (format === 'json') {
          ctx.stdout.write(`${eventJson(ev)}\n`);
          continue;
        }
        if (!tmpl) {
          ctx.stdout.write(eventLine(ev));
          continue;
        }
        let line: string;
        try {
          line = tmpl(eventContext(ev));
        } catch (err) {
          throw new CliError(`Error parsing format: ${(err as Error).message.replace(/^Error parsing format: /, '')}`, 64);
        }
        ctx.stdout.write(`${line}\n`);
      }
    } catch (err) {
      if (ac.signal.aborted) return 130;
      throw err;
    } finally {
      ctx.signals.off('SIGINT', onSignal);
      ctx.signals.off('SIGTERM', onSignal);
    }
    return 0;
  },
};
