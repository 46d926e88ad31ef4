/**
 * One log entry as the bytes of a `GET /containers/{id}/logs` (or attach with `logs=1`)
 * response: moby's WriteLogStream. Pure.
 *
 * The stdcopy frame is encoded here by a small local encoder; src/api/stdcopy.ts (helper "api")
 * owns the shared encoder/decoder, and this should switch to it once both are merged.
 */
import type { LogEntry } from './entry.js';
import { formatDockerTime } from './time.js';

export interface LogFormat {
  /** The container has a terminal: raw bytes, stderr merged into stdout. */
  tty: boolean;
  /** Prefix each entry with its time (RFC3339Nano, nine digits) and a space. */
  timestamps: boolean;
}

/** pkg/stdcopy's stream types. */
const STDOUT = 1;
const STDERR = 2;

/** One stdcopy frame: `[type, 0, 0, 0, len32 BE]` then the payload. */
function frame(type: number, payload: Buffer): Buffer {
  const out = Buffer.allocUnsafe(8 + payload.length);
  out.writeUInt32BE(0, 0);
  out[0] = type;
  out.writeUInt32BE(payload.length, 4);
  payload.copy(out, 8);
  return out;
}

/** The bytes to write for `entry`; empty (write nothing) for an entry without output. */
export function formatLogEntry(entry: LogEntry, fmt: LogFormat): Buffer {
  if (entry.line.length === 0) return Buffer.alloc(0);
  const payload = fmt.timestamps ? Buffer.concat([Buffer.from(`${formatDockerTime(entry.timeNs)} `), entry.line]) : entry.line;
  return fmt.tty ? payload : frame(entry.stream === 'stderr' ? STDERR : STDOUT, payload);
}
