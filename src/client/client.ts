/**
 * The Engine API client (src/client/types.ts): HTTP/1.1 over a unix socket, tcp or tcp+TLS,
 * through one keep-alive agent so that consecutive calls reuse a connection as the v28 CLI does.
 * The API version is negotiated lazily, by the first request: `HEAD /_ping` (GET when HEAD
 * fails), then min(the daemon's Api-Version, 1.41) — unless a version was given
 * (DOCKER_API_VERSION), which turns negotiation off as in the Go client.
 */
import { readFileSync } from 'node:fs';
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { Readable } from 'node:stream';
import tls from 'node:tls';
import { BERTH_VERSION_STRING } from '../api/version.js';
import { BerthError } from '../common/errors.js';
import { type Endpoint, parseHost, type TlsOptions } from './host.js';
import {
  ApiError,
  type ApiResponse,
  ConnectError,
  type EngineClient,
  type Hijacked,
  type QueryValue,
  type RequestOptions,
} from './types.js';

/** The highest API version berth speaks (berthd serves exactly this one). */
export const MAX_API_VERSION = '1.41';
/** What the Go client assumes when a daemon's ping carries no Api-Version header. */
const FALLBACK_API_VERSION = '1.24';
export const USER_AGENT = `berth/${BERTH_VERSION_STRING}`;

export interface ConnectOptions {
  /** As given by -H / DOCKER_HOST / the context; normalised by parseHost. Default: the berthd socket. */
  host?: string;
  tls?: TlsOptions;
  /** A fixed API version (DOCKER_API_VERSION): no negotiation. */
  apiVersion?: string;
}

/** Compares dotted versions numerically ("1.9" < "1.41"). */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map((x) => Number.parseInt(x, 10) || 0);
  const pb = b.split('.').map((x) => Number.parseInt(x, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}

/** `?a=1&f=x&f=y`: arrays repeat the key, booleans go as 1/0, undefined is left out. */
export function encodeQuery(query: Record<string, QueryValue> | undefined): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined) continue;
    if (Array.isArray(v)) for (const x of v) params.append(k, x);
    else if (typeof v === 'boolean') params.append(k, v ? '1' : '0');
    else params.append(k, String(v));
  }
  const s = params.toString();
  return s ? `?${s}` : '';
}

/**
 * The daemon's error message as the v28 CLI reads it (client/request.go checkResponseErr): the
 * JSON `message` only when Content-Type is exactly application/json, the text otherwise.
 */
export function errorMessage(status: number, contentType: string | undefined, body: Buffer, url: string): string {
  if (body.length === 0) {
    return `request returned ${http.STATUS_CODES[status] ?? status} for API route and version ${url}, check if the server supports the requested API version`;
  }
  if (contentType === 'application/json') {
    try {
      const j = JSON.parse(body.toString('utf8')) as { message?: unknown };
      if (j && typeof j.message === 'string') return j.message;
    } catch {
      // not JSON after all: fall through to the text
    }
  }
  return body.toString('utf8').trim();
}

/** Nothing listens there: the daemon is not running (a reset or EPIPE mid-request is another story). */
const CONNECT_CODES = new Set(['ENOENT', 'ECONNREFUSED', 'ENOTSOCK']);

/** A dial failure as the CLI words it (the host kept, so the CLI can say how to start the daemon). */
export function connectError(host: string, err: unknown): ConnectError {
  const e = err as NodeJS.ErrnoException;
  if (e?.code === 'EACCES' || e?.code === 'EPERM') {
    return new ConnectError(host, `permission denied while trying to connect to the daemon socket at ${host}: connect: permission denied`, {
      cause: err,
    });
  }
  if (e?.code && CONNECT_CODES.has(e.code)) {
    return new ConnectError(host, `Cannot connect to the Docker daemon at ${host}. Is the docker daemon running?`, { cause: err });
  }
  return new ConnectError(host, `error during connect: ${e?.message ?? String(err)}`, { cause: err });
}

async function readAll(res: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of res) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

function parseBody(res: IncomingMessage, buf: Buffer): unknown {
  if (buf.length === 0) return undefined;
  const ct = res.headers['content-type'] ?? '';
  if (ct.startsWith('application/json')) {
    try {
      return JSON.parse(buf.toString('utf8'));
    } catch {
      return buf.toString('utf8');
    }
  }
  return buf.toString('utf8');
}

interface Dialer {
  agent: http.Agent;
  /** Request options that select the transport. */
  base: http.RequestOptions;
  /**
   * A fresh connection for a hijack. Our `end()` half-closes (stdin EOF) and reading goes on
   * until the daemon ends; the daemon's end ends our side too (allowHalfOpen false): once the
   * output is over, dockerd reads no more stdin, and a socket left half-open would keep the CLI
   * alive.
   */
  dial(): net.Socket;
  transport: typeof http | typeof https;
}

/**
 * Plain HTTP has no TLS server name, but Node's agent computes one for every request unless told
 * it is empty, and that first call compiles net.isIPv6's regular expression: ~7 ms of a CLI
 * command's start-up here.
 */
const NO_SERVERNAME = { servername: '' } as http.RequestOptions;

function makeDialer(ep: Endpoint, tlsOpts: TlsOptions | undefined): Dialer {
  if (ep.proto === 'unix') {
    const agent = new http.Agent({ keepAlive: true, maxFreeSockets: 1 });
    return {
      agent,
      base: { socketPath: ep.path, ...NO_SERVERNAME },
      dial: () => net.createConnection({ path: ep.path }),
      transport: http,
    };
  }
  if (!tlsOpts) {
    const agent = new http.Agent({ keepAlive: true, maxFreeSockets: 1 });
    return {
      agent,
      base: { host: ep.hostname, port: ep.port, ...NO_SERVERNAME },
      dial: () => net.createConnection({ host: ep.hostname, port: ep.port }),
      transport: http,
    };
  }
  const secure: tls.ConnectionOptions = {
    rejectUnauthorized: tlsOpts.verify,
    ca: tlsOpts.verify && tlsOpts.ca ? readPem(tlsOpts.ca, 'CA') : undefined,
    cert: tlsOpts.cert ? readPem(tlsOpts.cert, 'certificate') : undefined,
    key: tlsOpts.key ? readPem(tlsOpts.key, 'key') : undefined,
    minVersion: 'TLSv1.2',
  };
  const agent = new https.Agent({ keepAlive: true, maxFreeSockets: 1, ...secure });
  return {
    agent,
    base: { host: ep.hostname, port: ep.port },
    dial: () => tls.connect({ host: ep.hostname, port: ep.port, servername: net.isIP(ep.hostname) ? undefined : ep.hostname, ...secure }),
    transport: https,
  };
}

function readPem(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new BerthError(
      'invalid-argument',
      `Could not load X509 ${what} from ${path}: ${e.code === 'ENOENT' ? 'no such file or directory' : e.message}`,
      {
        cause: err,
        object: path,
      },
    );
  }
}

interface Prepared {
  headers: Record<string, string>;
  body: Buffer | Readable | undefined;
}

function prepareBody(opts: RequestOptions | undefined): Prepared {
  const headers: Record<string, string> = { 'User-Agent': USER_AGENT, ...(opts?.headers ?? {}) };
  const b = opts?.body;
  if (b === undefined) return { headers, body: undefined };
  if (b instanceof Readable) {
    headers['Transfer-Encoding'] ??= 'chunked';
    return { headers, body: b };
  }
  if (Buffer.isBuffer(b) || b instanceof Uint8Array) {
    const buf = Buffer.from(b);
    headers['Content-Length'] = String(buf.length);
    return { headers, body: buf };
  }
  const buf = Buffer.from(JSON.stringify(b));
  headers['Content-Type'] ??= 'application/json';
  headers['Content-Length'] = String(buf.length);
  return { headers, body: buf };
}

class HttpClient implements EngineClient {
  readonly host: string;
  private readonly endpoint: Endpoint;
  private readonly dialer: Dialer;
  private negotiated: string | undefined;
  private negotiation: Promise<string> | undefined;

  constructor(opts: ConnectOptions) {
    this.endpoint = parseHost(opts.host, { tls: opts.tls !== undefined });
    this.host = this.endpoint.host;
    this.dialer = makeDialer(this.endpoint, opts.tls);
    this.negotiated = opts.apiVersion ? opts.apiVersion.replace(/^v/, '') : undefined;
  }

  get version(): string {
    return this.negotiated ?? MAX_API_VERSION;
  }

  /** Pings once (HEAD, then GET) and settles the version; errors reaching the daemon throw ConnectError. */
  negotiate(): Promise<string> {
    if (this.negotiated) return Promise.resolve(this.negotiated);
    this.negotiation ??= this.ping().then(
      (v) => {
        this.negotiated = v;
        return v;
      },
      (err) => {
        this.negotiation = undefined;
        throw err;
      },
    );
    return this.negotiation;
  }

  private async ping(): Promise<string> {
    let res: IncomingMessage;
    try {
      res = await this.send('HEAD', '/_ping', {}, undefined);
      await readAll(res);
      // v28 (client/ping.go): a HEAD that fails is retried with GET; a 500 answer is still read.
      if (res.statusCode === 404 || res.statusCode === 405 || (res.statusCode ?? 0) >= 500) {
        res = await this.send('GET', '/_ping', {}, undefined);
        await readAll(res);
      }
    } catch (err) {
      throw connectError(this.host, err);
    }
    const server = res.headers['api-version'];
    const v = typeof server === 'string' && server !== '' ? server : FALLBACK_API_VERSION;
    return compareVersions(v, MAX_API_VERSION) < 0 ? v : MAX_API_VERSION;
  }

  private url(path: string, query: Record<string, QueryValue> | undefined): string {
    return `${this.endpoint.proto === 'tcp' ? this.endpoint.basePath : ''}/v${this.version}${path}${encodeQuery(query)}`;
  }

  /** One HTTP exchange; resolves at the response head. */
  private send(
    method: string,
    path: string,
    headers: Record<string, string>,
    body: Buffer | Readable | undefined,
    signal?: AbortSignal,
  ): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const req = this.dialer.transport.request({
        ...this.dialer.base,
        agent: this.dialer.agent,
        method,
        path,
        headers: { 'User-Agent': USER_AGENT, ...headers },
        signal,
      });
      req.once('response', resolve);
      req.once('error', reject);
      if (body instanceof Readable) {
        // pipe() keeps backpressure: the body is read only as fast as the socket drains.
        body.once('error', (err) => req.destroy(err));
        body.pipe(req);
      } else {
        req.end(body);
      }
    });
  }

  private async exchange(method: string, path: string, opts: RequestOptions | undefined, body?: Readable): Promise<IncomingMessage> {
    await this.negotiate();
    const p = prepareBody(body ? { ...opts, body } : opts);
    if (body) p.headers['Content-Type'] ??= 'application/x-tar';
    const url = this.url(path, opts?.query);
    let res: IncomingMessage;
    try {
      res = await this.send(method, url, p.headers, p.body, opts?.signal);
    } catch (err) {
      if ((err as Error).name === 'AbortError') throw err;
      throw connectError(this.host, err);
    }
    const status = res.statusCode ?? 0;
    if (status >= 400) {
      const buf = await readAll(res);
      throw new ApiError(status, errorMessage(status, res.headers['content-type'], buf, url));
    }
    return res;
  }

  async json<T = unknown>(method: string, path: string, opts?: RequestOptions): Promise<ApiResponse<T>> {
    const res = await this.exchange(method, path, opts);
    const buf = await readAll(res);
    return { status: res.statusCode ?? 0, headers: res.headers, body: parseBody(res, buf) as T };
  }

  stream(method: string, path: string, opts?: RequestOptions): Promise<IncomingMessage> {
    return this.exchange(method, path, opts);
  }

  async upload<T = unknown>(method: string, path: string, body: Readable, opts?: RequestOptions): Promise<ApiResponse<T>> {
    const res = await this.exchange(method, path, opts, body);
    const buf = await readAll(res);
    return { status: res.statusCode ?? 0, headers: res.headers, body: parseBody(res, buf) as T };
  }

  async hijack(method: string, path: string, opts?: RequestOptions): Promise<Hijacked> {
    await this.negotiate();
    const p = prepareBody(opts);
    p.headers.Connection = 'Upgrade';
    p.headers.Upgrade = 'tcp';
    p.headers['Content-Type'] ??= 'text/plain';
    if (p.body === undefined) p.headers['Content-Length'] = '0';
    const url = this.url(path, opts?.query);
    return new Promise<Hijacked>((resolve, reject) => {
      // A connection of its own, outside the pool: the CLI closes its write side when stdin
      // ends and must still read all the output (engine-api.md A3).
      const req = this.dialer.transport.request({
        ...this.dialer.base,
        agent: undefined, // not false: with false Node makes an agent and ignores createConnection
        createConnection: () => this.dialer.dial(),
        method,
        path: url,
        headers: p.headers,
        signal: opts?.signal,
      });
      req.once('upgrade', (res: IncomingMessage, socket: net.Socket, head: Buffer) => {
        if (res.statusCode !== 101) {
          socket.destroy();
          reject(new ApiError(res.statusCode ?? 0, `unable to upgrade to tcp, received ${res.statusCode}`));
          return;
        }
        socket.setNoDelay(true);
        resolve({ socket, head });
      });
      req.once('response', (res: IncomingMessage) => {
        const sock = res.socket;
        const done = () => {
          req.destroy();
          sock?.destroy();
        };
        readAll(res).then(
          (buf) => {
            // a connection of its own, out of any pool: close it here
            done();
            const status = res.statusCode ?? 0;
            reject(
              new ApiError(
                status,
                status >= 400
                  ? errorMessage(status, res.headers['content-type'], buf, url)
                  : `unable to upgrade to tcp, received ${status}`,
              ),
            );
          },
          (err) => {
            done();
            reject(connectError(this.host, err));
          },
        );
      });
      req.once('error', (err) => reject((err as Error).name === 'AbortError' ? err : connectError(this.host, err)));
      if (p.body instanceof Readable) p.body.pipe(req);
      else req.end(p.body);
    });
  }

  close(): void {
    this.dialer.agent.destroy();
  }
}

/** The client with its negotiation exposed (the CLI pings first, as v28 does, e.g. for `version`). */
export type Client = EngineClient & { negotiate(): Promise<string> };

/** A client for one daemon. Nothing is dialed until the first request (which negotiates the version). */
export function connect(opts: ConnectOptions = {}): Client {
  return new HttpClient(opts);
}
