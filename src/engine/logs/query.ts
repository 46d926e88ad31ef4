/**
 * The query of `GET /containers/{id}/logs` (and the log part of attach's `logs=1`) as reader
 * options, validated before the 200 goes out, as moby's getContainersLogs does: once the
 * stream started, an error can no longer be a status. Pure.
 */
import { BerthError } from '../../common/errors.js';
import type { ReadLogsOptions } from './read.js';
import { parseSince, parseTail, parseUntil } from './time.js';

/** What the route needs of its request (src/api/types.ts ApiRequest). */
export interface LogsQuerySource {
  readonly query: URLSearchParams;
  bool(name: string, dflt?: boolean): boolean;
}

export interface LogsQuery {
  /** For readLogs; the route adds `done` (the container's exit) and `signal` (the client). */
  options: ReadLogsOptions;
  timestamps: boolean;
}

export function parseLogsQuery(req: LogsQuerySource): LogsQuery {
  const stdout = req.bool('stdout', false);
  const stderr = req.bool('stderr', false);
  if (!stdout && !stderr) throw new BerthError('invalid-argument', 'Bad parameters: you must choose at least one stream');
  const get = (k: string) => req.query.get(k) ?? undefined;
  return {
    options: {
      stdout,
      stderr,
      follow: req.bool('follow', false),
      since: parseSince(get('since')),
      until: parseUntil(get('until')),
      tail: parseTail(get('tail')),
    },
    timestamps: req.bool('timestamps', false),
  };
}
