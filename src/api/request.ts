/**
 * The ApiRequest the handlers see: the matched route's parameters, the query with Docker's
 * parsing, and the body as JSON with a size limit. On a hijacked (upgraded) request the body
 * was already cut from the connection by the server (the JSON of exec start arrives in the same
 * packet as the head), so `body` is a ready buffer there; otherwise it is read from the stream.
 */
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { BerthError } from '../common/errors.js';
import { parseBool, parseFilters, parseInteger } from './query.js';
import type { RouteMatch } from './router.js';
import type { ApiRequest, Method } from './types.js';

/** Bodies above this are refused: a create or exec body is a few kB. */
export const JSON_BODY_LIMIT = 10 * 1024 * 1024;

/** Reads a request stream whole, failing at `limit` bytes without buffering past it. */
export function readBody(raw: IncomingMessage, limit: number, what: string): Promise<Buffer> {
  const declared = Number(raw.headers['content-length'] ?? 0);
  const tooLarge = () => new BerthError('invalid-argument', `request body of ${what} is larger than ${limit} bytes`);
  if (declared > limit) return Promise.reject(tooLarge());
  if (raw.readableEnded) return Promise.resolve(Buffer.alloc(0));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = () => {
      raw.off('data', onData);
      raw.off('end', onEnd);
      raw.off('error', onError);
      raw.off('close', onClose);
    };
    const onData = (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        cleanup();
        raw.pause();
        reject(tooLarge());
        return;
      }
      chunks.push(c);
    };
    const onEnd = () => {
      cleanup();
      resolve(Buffer.concat(chunks));
    };
    const onError = (err: Error) => {
      cleanup();
      reject(new BerthError('invalid-argument', `read the body of ${what}: ${err.message}`));
    };
    const onClose = () => {
      cleanup();
      reject(new BerthError('invalid-argument', `read the body of ${what}: the client went away`));
    };
    raw.on('data', onData);
    raw.on('end', onEnd);
    raw.on('error', onError);
    raw.on('close', onClose);
  });
}

export function parseJsonBody<T>(body: Buffer, what: string): T {
  if (body.length === 0) return {} as T;
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new BerthError('invalid-argument', `invalid JSON: ${(err as Error).message} (the body of ${what})`);
  }
  // Go decodes `null` into the zero struct; every Docker body is an object.
  if (value === null) return {} as T;
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new BerthError('invalid-argument', `invalid JSON: expected an object (the body of ${what})`);
  }
  return value as T;
}

export interface RequestInit {
  raw: IncomingMessage;
  match: RouteMatch;
  query: URLSearchParams;
  signal: AbortSignal;
  /** The body already cut from an upgraded connection; undefined to read it from `raw`. */
  body?: Buffer;
  /** Called when the body was refused unread, so the connection is not kept alive. */
  onRefusedBody?: () => void;
}

export class Request implements ApiRequest {
  readonly method: Method;
  readonly path: string;
  readonly version: string;
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
  readonly signal: AbortSignal;
  readonly raw: IncomingMessage;
  private bodyPromise: Promise<Buffer> | undefined;

  constructor(private readonly init: RequestInit) {
    this.method = init.match.route.method;
    this.path = init.match.path;
    this.version = init.match.version;
    this.params = init.match.params;
    this.query = init.query;
    this.headers = init.raw.headers;
    this.signal = init.signal;
    this.raw = init.raw;
  }

  /** `POST /containers/create`, for messages. */
  get what(): string {
    return `${this.method} ${this.path}`;
  }

  private body(): Promise<Buffer> {
    if (this.bodyPromise === undefined) {
      this.bodyPromise =
        this.init.body !== undefined
          ? Promise.resolve(this.init.body)
          : readBody(this.raw, JSON_BODY_LIMIT, this.what).catch((err) => {
              this.init.onRefusedBody?.();
              throw err;
            });
    }
    return this.bodyPromise;
  }

  async json<T = unknown>(): Promise<T> {
    return parseJsonBody<T>(await this.body(), this.what);
  }

  bool(name: string, dflt = false): boolean {
    return parseBool(this.query, name, dflt);
  }

  int(name: string, dflt?: number): number | undefined {
    return parseInteger(this.query, name, dflt);
  }

  filters(): Map<string, string[]> {
    return parseFilters(this.query.get('filters'));
  }
}
