/**
 * The Engine API's stream formats, client side: stdcopy frames (attach, logs and exec without a
 * tty), raw tty output, and JSON message streams (pull/push/load progress, events). Every reader
 * is robust to chunk boundaries anywhere (a frame header or a JSON object split in two) and
 * respects the writer's backpressure.
 */
import type { Readable, Writable } from 'node:stream';

/** stdcopy stream types (moby pkg/stdcopy). */
const STDIN = 0;
const STDOUT = 1;
const STDERR = 2;
const SYSTEMERR = 3;
const HEADER = 8;

/** A message of the JSON progress stream (moby pkg/jsonmessage). */
export interface JSONMessage {
  stream?: string;
  status?: string;
  progressDetail?: { current?: number; total?: number; start?: number; hidecounts?: boolean; units?: string };
  progress?: string;
  id?: string;
  from?: string;
  time?: number;
  timeNano?: number;
  errorDetail?: { code?: number; message?: string };
  error?: string;
  aux?: unknown;
}

/**
 * An error the daemon reported inside a stream (a JSON message's errorDetail, or a stdcopy
 * frame of type 3). `code` is the exit code a build step failed with, when given.
 */
export class StreamError extends Error {
  override readonly name = 'StreamError';
  constructor(
    message: string,
    readonly code?: number,
  ) {
    super(message);
  }
}

function write(out: Writable, chunk: Buffer): Promise<void> | undefined {
  if (out.write(chunk)) return undefined;
  return new Promise((resolve, reject) => {
    const done = (err?: Error) => {
      out.off('drain', ok);
      out.off('error', done);
      out.off('close', ok);
      if (err) reject(err);
      else resolve();
    };
    const ok = () => done();
    out.once('drain', ok);
    out.once('error', done);
    out.once('close', ok);
  });
}

/**
 * Splits stdcopy frames (`[type,0,0,0,len32be]` + payload) to stdout and stderr until the
 * stream ends. A type-3 frame (the daemon's own error) rejects with its text, as the Go
 * client's StdCopy does; an unknown type rejects too. A stream that ends inside a frame ends
 * quietly with what was complete (the daemon or the connection went away).
 */
export async function demux(stream: Readable, stdout: Writable, stderr: Writable): Promise<void> {
  let buf: Buffer = Buffer.alloc(0);
  for await (const chunk of stream) {
    buf = buf.length === 0 ? (chunk as Buffer) : Buffer.concat([buf, chunk as Buffer]);
    while (buf.length >= HEADER) {
      const type = buf[0];
      const len = buf.readUInt32BE(4);
      if (buf.length < HEADER + len) break;
      const payload = buf.subarray(HEADER, HEADER + len);
      buf = buf.subarray(HEADER + len);
      if (type === STDOUT || type === STDIN) {
        await write(stdout, payload);
      } else if (type === STDERR) {
        await write(stderr, payload);
      } else if (type === SYSTEMERR) {
        stream.destroy();
        throw new StreamError(payload.toString('utf8'));
      } else {
        stream.destroy();
        throw new StreamError(`Unrecognized input header: ${type}`);
      }
    }
  }
}

/** A tty's output: raw bytes, stderr merged into stdout. */
export async function copyRaw(stream: Readable, out: Writable): Promise<void> {
  for await (const chunk of stream) await write(out, chunk as Buffer);
}

/** demux or raw copy, chosen by the container's (or exec's) Tty setting, as the CLI does. */
export function copyOutput(stream: Readable, o: { tty: boolean; stdout: Writable; stderr: Writable }): Promise<void> {
  return o.tty ? copyRaw(stream, o.stdout) : demux(stream, o.stdout, o.stderr);
}

/** Objects bigger than this are refused rather than buffered without end (a hostile daemon). */
const MAX_OBJECT = 64 * 1024 * 1024;

/**
 * Splits a byte stream into top-level JSON values: `\r\n`-framed (dockerd), `\n`-framed or
 * simply concatenated (`}{`). A scanner tracks strings and depth so that braces in strings and
 * objects split across chunks are handled; bytes between values must be whitespace.
 */
export async function* jsonValues(stream: AsyncIterable<Buffer | string>): AsyncGenerator<unknown> {
  let text = '';
  let start = -1; // where the current value began in `text`
  let depth = 0;
  let inString = false;
  let escaped = false;
  let pos = 0; // next character to scan
  const decoder = new TextDecoder('utf-8');
  for await (const chunk of stream) {
    text += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    for (; pos < text.length; pos++) {
      const c = text[pos];
      if (start < 0) {
        if (c === ' ' || c === '\n' || c === '\r' || c === '\t') continue;
        if (c !== '{' && c !== '[') throw new StreamError(`invalid character '${c}' looking for beginning of value`);
        start = pos;
        depth = 1;
        continue;
      }
      if (inString) {
        if (escaped) escaped = false;
        else if (c === '\\') escaped = true;
        else if (c === '"') inString = false;
        continue;
      }
      if (c === '"') inString = true;
      else if (c === '{' || c === '[') depth++;
      else if (c === '}' || c === ']') {
        depth--;
        if (depth === 0) {
          const raw = text.slice(start, pos + 1);
          start = -1;
          try {
            yield JSON.parse(raw);
          } catch (err) {
            if (err instanceof SyntaxError) throw new StreamError(`invalid JSON in stream: ${err.message}`);
            throw err;
          }
        }
      }
    }
    // Keep only the unfinished value.
    if (start < 0) {
      text = '';
      pos = 0;
    } else {
      text = text.slice(start);
      pos -= start;
      start = 0;
      if (text.length > MAX_OBJECT) throw new StreamError('JSON message too large');
    }
  }
  if (start >= 0) throw new StreamError('unexpected EOF');
}

/**
 * The messages of a progress stream (pull, push, load, import, build). The first message with
 * `errorDetail` (or the deprecated bare `error`) ends the iteration with a StreamError carrying
 * its message and code, as the CLI's DisplayJSONMessagesStream does.
 */
export async function* jsonMessages(stream: AsyncIterable<Buffer | string>): AsyncGenerator<JSONMessage> {
  for await (const v of jsonValues(stream)) {
    const m = v as JSONMessage;
    if (m.errorDetail || m.error) {
      throw new StreamError(m.errorDetail?.message || m.error || 'unknown error', m.errorDetail?.code);
    }
    yield m;
  }
}

/** An event of `GET /events` (moby api/types/events.Message). */
export interface EngineEvent {
  Type: string;
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  scope?: string;
  time: number;
  timeNano: number;
  status?: string;
  id?: string;
  from?: string;
}

/** The events of `GET /events` as they come (concatenated or newline-framed objects). */
export async function* eventsStream(stream: AsyncIterable<Buffer | string>): AsyncGenerator<EngineEvent> {
  for await (const v of jsonValues(stream)) yield v as EngineEvent;
}
