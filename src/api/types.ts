/**
 * The contract between the Engine API's HTTP layer (src/api/server.ts, router.ts) and the route
 * files (src/api/routes/*.ts): a route is a method, a path pattern and a handler; the handler
 * gets a parsed request and a response with the few shapes the Docker API answers in (JSON, no
 * content, a flushed stream, a hijacked connection, a JSON-progress stream). A handler reports
 * failure by throwing a BerthError; the layer maps its kind to the status and body the Docker
 * clients parse (`{"message": …}` with exactly `Content-Type: application/json`).
 *
 * The wire facts behind these shapes: ../shared/reference/engine-api.md (§A1–A4).
 */
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { Duplex, Writable } from 'node:stream';

export type Method = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'DELETE';

export interface ApiRequest {
  readonly method: Method;
  /** The path without the `/v1.NN` prefix, e.g. `/containers/abc/json`. */
  readonly path: string;
  /** The API version the client asked for (`1.41` when unversioned). */
  readonly version: string;
  /** The pattern's parameters (`{name}`; `{name:.*}` is greedy, for image names with slashes). */
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
  /** Aborted when the client goes away (a closed connection), for long waits and streams. */
  readonly signal: AbortSignal;
  /** The raw request (the body stream, for tar uploads). */
  readonly raw: IncomingMessage;
  /** The body as JSON: `{}` when empty; a 400 naming the route when malformed or above the limit. */
  json<T = unknown>(): Promise<T>;
  /** A query boolean as Docker parses it: 1/true/True true; "", 0, false, no, none false. */
  bool(name: string, dflt?: boolean): boolean;
  /** A query integer; a 400 naming the parameter when it is not one. */
  int(name: string, dflt?: number): number | undefined;
  /** `filters` decoded from either JSON form ({"k":{"v":true}} or {"k":["v"]}); a 400 when malformed. */
  filters(): Map<string, string[]>;
}

export interface HijackOptions {
  /** `application/vnd.docker.raw-stream` (default) or `application/vnd.docker.multiplexed-stream`. */
  contentType?: string;
}

export interface ApiResponse {
  /** A JSON body (status default 200). */
  json(body: unknown, status?: number): void;
  /** A plain-text body (status default 200), e.g. `OK` for `/_ping`. */
  text(body: string, status?: number, contentType?: string): void;
  /** An empty answer: 204 by default, 304 for "already started/stopped", 201, 200. */
  empty(status?: number): void;
  /** Extra headers for the answer to come (before json/text/empty/stream). */
  header(name: string, value: string): void;
  /**
   * A chunked 200 with its headers flushed at once (wait, logs, stats, events, export): clients
   * block on the headers before they send the next call (`docker run`'s wait then start).
   */
  stream(contentType: string, status?: number): Writable;
  /**
   * The connection for attach and exec start: `101 UPGRADED` when the client asked for an
   * upgrade, else a 200 with the raw-stream type, headers flushed at once (dockerode). The Duplex
   * reads the client's stdin (the request body's bytes that came with the head included) and
   * writes output; the client may half-close while output continues (never end on 'end').
   */
  hijack(options?: HijackOptions): Duplex;
  /**
   * A JSON-progress stream (pull, push, load, build): `{…}\r\n` messages. Nothing is sent until
   * the first message, so an error before any output still goes out as a plain HTTP error.
   */
  progress(): ProgressStream;
  /** True once anything was sent (the layer then cannot turn a thrown error into a status). */
  readonly started: boolean;
}

/** One message of Docker's JSON progress stream (pkg/jsonmessage). */
export interface JsonMessage {
  status?: string;
  id?: string;
  progressDetail?: { current?: number; total?: number };
  progress?: string;
  stream?: string;
  aux?: unknown;
  errorDetail?: { code?: number; message: string };
  error?: string;
}

export interface ProgressStream {
  write(message: JsonMessage): void;
  /** An error inside the stream: `errorDetail` and `error`, as the CLI reads them; then ends. */
  fail(message: string, code?: number): void;
  end(): void;
}

export type Handler = (req: ApiRequest, res: ApiResponse) => Promise<void> | void;

export interface Route {
  method: Method;
  /** `/containers/{id}/json`, `/images/{name:.*}/json`; matched against the unversioned path. */
  path: string;
  handler: Handler;
}

/** A route file exports a function of the engine's parts it needs, returning its routes. */
export type RouteFactory<Deps> = (deps: Deps) => Route[];

/** The API versions this server speaks (engine-api.md §A1: 1.41, down to 1.24). */
export const API_VERSION = '1.41';
export const MIN_API_VERSION = '1.24';
