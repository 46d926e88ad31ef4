/**
 * The Engine API client's contract: what every `berth` command talks to. It speaks only the
 * Docker Engine API (unix socket, tcp, tcp+TLS), so `berth` works against berthd and dockerd
 * alike. Implementation: src/client/client.ts (connect, negotiate, request); stream helpers:
 * src/client/streams.ts.
 */
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';

/** Query values: arrays repeat the key; `undefined` leaves it out; booleans go as 1/0 like v28. */
export type QueryValue = string | number | boolean | string[] | undefined;

export interface RequestOptions {
  query?: Record<string, QueryValue>;
  /** A plain value is sent as JSON (Content-Type: application/json); a stream or Buffer as is. */
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

export interface ApiResponse<T = unknown> {
  status: number;
  headers: IncomingHttpHeaders;
  /** Parsed JSON when the answer is JSON, the text otherwise, `undefined` when empty. */
  body: T;
}

/**
 * The connection taken over by attach or exec start (101 UPGRADED): raw bytes both ways.
 * `socket.end()` half-closes (stdin EOF) and the output keeps coming until the daemon ends the
 * stream, which also ends our side.
 */
export interface Hijacked {
  socket: Socket;
  /** Bytes the daemon sent after the response head and that were read with it. */
  head: Buffer;
}

export interface EngineClient {
  /** The API version in use (negotiated with `/_ping`, or DOCKER_API_VERSION). */
  readonly version: string;
  /** Where it connects, as given: `unix:///run/berth/berth.sock`, `tcp://host:2376`. */
  readonly host: string;
  /** A request whose answer is read whole. Status ≥ 400 throws ApiError with the daemon's message. */
  json<T = unknown>(method: string, path: string, opts?: RequestOptions): Promise<ApiResponse<T>>;
  /** A request whose answer is a stream (logs, events, pull progress, export, save). Status ≥ 400 throws ApiError. */
  stream(method: string, path: string, opts?: RequestOptions): Promise<IncomingMessage>;
  /** POST with `Connection: Upgrade` / `Upgrade: tcp`; 101 expected (attach, exec start). */
  hijack(method: string, path: string, opts?: RequestOptions): Promise<Hijacked>;
  /** Upload a body stream (cp, load, import). Status ≥ 400 throws ApiError. */
  upload<T = unknown>(method: string, path: string, body: Readable, opts?: RequestOptions): Promise<ApiResponse<T>>;
  close(): void;
}

/** A daemon's error answer: `Error response from daemon: <message>` in the CLI. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The daemon could not be reached at all (socket missing, refused): the CLI says how to start it. */
export class ConnectError extends Error {
  override readonly name = 'ConnectError';
  constructor(
    readonly host: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
