/**
 * The system endpoints: `/_ping` (GET and HEAD), `/version`, `/info` and `GET /events`.
 * Wire facts: engine-api.md §A1.1, §A5.1, §A5.2; moby api/server/router/system.
 */
import { BerthError } from '../../common/errors.js';
import type { EngineEvent, EventBus } from '../../engine/events.js';
import { includeEvent } from '../event-filter.js';
import { hostInfo, versionInfo } from '../host-info.js';
import type { Handler, Route } from '../types.js';

/** The engine's part of `/info` (counts, DockerRootDir, Driver, Name, …), merged over the host's. */
export interface SystemInfoProvider {
  info(): Promise<Record<string, unknown>> | Record<string, unknown>;
}

export interface SystemDeps {
  events: EventBus;
  info?: SystemInfoProvider;
}

/** A subscriber whose socket holds more than this much unsent output is dropped (events.ts). */
const EVENTS_BACKLOG_LIMIT = 4 * 1024 * 1024;

/** moby's timetypes.ParseTimestamps: `seconds[.fraction]` → nanoseconds; undefined when absent. */
export function parseEventTime(name: string, value: string | null): bigint | undefined {
  if (value === null || value === '') return undefined;
  const m = /^(-?[0-9]+)(?:\.([0-9]{1,9})[0-9]*)?$/.exec(value);
  if (!m) throw new BerthError('invalid-argument', `invalid value for ${name}: ${JSON.stringify(value)} is not a unix timestamp`);
  const frac = (m[2] ?? '').padEnd(9, '0');
  return BigInt(m[1] as string) * 1_000_000_000n + BigInt(frac || '0');
}

const ping: Handler = (req, res) => {
  res.header('Cache-Control', 'no-cache, no-store, must-revalidate');
  res.header('Pragma', 'no-cache');
  // No Builder-Version header: `2` would switch the 20.10 CLI to BuildKit, which is not served.
  // HEAD answers `Content-Length: 0`, as dockerd does.
  res.text(req.method === 'HEAD' ? '' : 'OK');
};

export function systemRoutes(deps: SystemDeps): Route[] {
  const info: Handler = async (_req, res) => {
    const engine = deps.info ? await deps.info.info() : {};
    res.json({ ...hostInfo(), NEventsListener: deps.events.subscribers, ...engine });
  };

  const events: Handler = (req, res) => {
    const since = parseEventTime('since', req.query.get('since'));
    const until = parseEventTime('until', req.query.get('until'));
    if (since !== undefined && until !== undefined && until < since) {
      throw new BerthError(
        'invalid-argument',
        `\`since\` time (${req.query.get('since')}) cannot be after \`until\` time (${req.query.get('until')})`,
      );
    }
    const filters = req.filters();
    const nowNs = BigInt(Date.now()) * 1_000_000n;
    const onlyPast = until !== undefined && until < nowNs;
    const wanted = (e: EngineEvent) => (until === undefined || BigInt(e.timeNano) <= until) && includeEvent(filters, e);

    const out = res.stream('application/json');
    const send = (e: EngineEvent) => {
      out.write(`${JSON.stringify(e)}\n`);
      if (out.writableLength > EVENTS_BACKLOG_LIMIT) {
        // A reader that does not read: drop it, and the output it left unread with it.
        finish();
        out.destroy();
      }
    };
    // History and subscription in one synchronous step: publish() cannot slip in between.
    const past = since !== undefined || until !== undefined ? deps.events.history(Number(since ?? 0n)) : [];
    let unsubscribe = () => {};
    let timer: NodeJS.Timeout | undefined;
    let done = false;
    function finish(): void {
      if (done) return;
      done = true;
      unsubscribe();
      clearTimeout(timer);
      req.signal.removeEventListener('abort', finish);
      if (!out.writableEnded) out.end();
    }
    if (!onlyPast) {
      unsubscribe = deps.events.subscribe((e) => {
        if (wanted(e)) send(e);
      });
      // (Beyond setTimeout's 24-day range, `until` is as good as never.)
      const wait = until === undefined ? undefined : Number((until - nowNs) / 1_000_000n) + 1;
      if (wait !== undefined && wait < 2 ** 31) timer = setTimeout(finish, wait);
      req.signal.addEventListener('abort', finish);
    }
    for (const e of past) if (wanted(e) && !done) send(e);
    if (onlyPast) finish();
  };

  return [
    { method: 'GET', path: '/_ping', handler: ping },
    { method: 'HEAD', path: '/_ping', handler: ping },
    { method: 'GET', path: '/version', handler: (_req, res) => res.json(versionInfo()) },
    { method: 'GET', path: '/info', handler: info },
    { method: 'GET', path: '/events', handler: events },
  ];
}
