/**
 * The Engine API server: the routes behind one router, served on every listener (unix socket,
 * TCP with TLS), over plain requests and HTTP upgrades alike. This is the one place that turns a
 * thrown error into a status and `{"message"}`, puts dockerd's headers on every answer, and owns
 * the connections (so close() ends them: idle keep-alives, streams, hijacked sockets).
 */
import http, { type IncomingMessage, ServerResponse } from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import { BerthError } from '../common/errors.js';
import { errorBody, messageOf, statusOf } from './errors.js';
import type { HijackedStream } from './hijack.js';
import { type ListenerSpec, type OpenedListener, openListener, parseListenAddress, type TlsSettings } from './listen.js';
import { JSON_BODY_LIMIT, Request } from './request.js';
import { Response } from './response.js';
import { Router } from './router.js';
import { API_VERSION, type Route } from './types.js';
import { BERTH_VERSION_STRING } from './version.js';

export type { ListenerSpec, TlsSettings } from './listen.js';
export { parseListenAddress } from './listen.js';

export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export const consoleLogger: Logger = {
  debug: () => {},
  info: (m) => console.error(m),
  warn: (m) => console.error(`warning: ${m}`),
  error: (m) => console.error(`error: ${m}`),
};

export interface ApiServerOptions {
  logger?: Logger;
  /** The version in the `Server` header (default: the package's). */
  version?: string;
  /** How long close() lets in-flight responses finish after aborting them (default 2 s). */
  closeGraceMs?: number;
}

export interface ListenDefaults {
  tls?: TlsSettings;
  group?: string;
}

export interface ApiServer extends AsyncDisposable {
  /**
   * Opens the listeners (dockerd `-H` strings or specs); resolves to the bound addresses.
   * `defaults` applies dockerd's `--tls*` flags to the TCP strings and `--group` to the unix ones.
   */
  listen(listeners: Array<string | ListenerSpec>, defaults?: ListenDefaults): Promise<string[]>;
  /** Every bound address so far: `unix:///path`, `tcp://127.0.0.1:PORT`. */
  readonly addresses: readonly string[];
  /** Serves one request (for an http.Server the caller owns). */
  handleRequest(req: IncomingMessage, res: ServerResponse): void;
  /** Serves one HTTP upgrade (the http.Server 'upgrade' event). */
  handleUpgrade(req: IncomingMessage, socket: Socket, head: Buffer): void;
  /** Stops listening, aborts in-flight requests, closes idle and hijacked connections. */
  close(): Promise<void>;
}

function splitUrl(rawUrl: string): { path: string; query: URLSearchParams } {
  // An absolute-form request line (`GET http://docker/_ping`) means its path, as in Go.
  const url = /^https?:\/\//i.test(rawUrl) ? rawUrl.replace(/^https?:\/\/[^/?]*/i, '') || '/' : rawUrl;
  const q = url.indexOf('?');
  return q < 0 ? { path: url, query: new URLSearchParams() } : { path: url.slice(0, q), query: new URLSearchParams(url.slice(q + 1)) };
}

/**
 * Cuts the request body (Content-Length bytes) from an upgraded connection: Node's 'upgrade'
 * leaves it unparsed, in `head` and then on the socket. What follows is stdin.
 */
function readUpgradeBody(req: IncomingMessage, socket: Socket, head: Buffer): Promise<{ body: Buffer; rest: Buffer }> {
  // A chunked body on an upgrade is not something Docker's clients send: all of it is stdin.
  const length = Number(req.headers['content-length'] ?? 0);
  if (!Number.isSafeInteger(length) || length < 0) {
    return Promise.reject(new BerthError('invalid-argument', 'invalid Content-Length'));
  }
  if (length > JSON_BODY_LIMIT) {
    return Promise.reject(new BerthError('invalid-argument', `request body is larger than ${JSON_BODY_LIMIT} bytes`));
  }
  if (head.length >= length) return Promise.resolve({ body: head.subarray(0, length), rest: head.subarray(length) });
  return new Promise((resolve, reject) => {
    const chunks = [head];
    let have = head.length;
    const done = () => {
      socket.off('data', onData);
      socket.off('close', onClose);
      socket.pause();
    };
    const onData = (c: Buffer) => {
      chunks.push(c);
      have += c.length;
      if (have >= length) {
        done();
        const all = Buffer.concat(chunks);
        resolve({ body: all.subarray(0, length), rest: all.subarray(length) });
      }
    };
    const onClose = () => {
      done();
      reject(new BerthError('invalid-argument', 'the client went away before sending the body'));
    };
    socket.on('data', onData);
    socket.on('close', onClose);
  });
}

export function createApiServer(routes: Route[], opts: ApiServerOptions = {}): ApiServer {
  const log = opts.logger ?? consoleLogger;
  const router = new Router(routes);
  const serverHeader = `Berth/${opts.version ?? BERTH_VERSION_STRING} (linux)`;
  const listeners: OpenedListener[] = [];
  const addresses: string[] = [];
  const inFlight = new Set<AbortController>();
  const hijacked = new Set<HijackedStream>();
  let closing = false;

  function setCommonHeaders(res: ServerResponse): void {
    res.setHeader('Api-Version', API_VERSION);
    res.setHeader('Docker-Experimental', 'false');
    res.setHeader('Ostype', 'linux');
    res.setHeader('Server', serverHeader);
  }

  function sendError(res: ServerResponse, err: unknown): void {
    const body = errorBody(err);
    res.writeHead(statusOf(err), { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  }

  function logError(what: string, err: unknown): void {
    const status = statusOf(err);
    const line = `${what}: ${status} ${messageOf(err)}`;
    if (status >= 500) log.error(line);
    else log.debug(line);
  }

  async function dispatch(
    req: IncomingMessage,
    res: ServerResponse,
    ac: AbortController,
    upgrade?: { socket: Socket; head: Buffer },
  ): Promise<void> {
    setCommonHeaders(res);
    res.on('error', () => {});
    const { path, query } = splitUrl(req.url ?? '/');
    const what = `${req.method} ${path}`;
    let response: Response | undefined;
    try {
      const match = router.match(req.method ?? '', path);
      let body: Buffer | undefined;
      let rest: Buffer = Buffer.alloc(0);
      if (upgrade) ({ body, rest } = await readUpgradeBody(req, upgrade.socket, upgrade.head));
      const request = new Request({
        raw: req,
        match,
        query,
        signal: ac.signal,
        ...(body !== undefined ? { body } : {}),
        // A refused body stays unread: do not keep the connection for a next request.
        onRefusedBody: () => res.setHeader('Connection', 'close'),
      });
      response = new Response({
        res,
        body: req,
        ...(upgrade ? { upgrade: { socket: upgrade.socket, rest } } : {}),
        onHijack: (stream) => {
          hijacked.add(stream);
          stream.on('close', () => {
            hijacked.delete(stream);
            ac.abort();
          });
        },
      });
      await match.route.handler(request, response);
      if (!response.started && response.progressStream === undefined && !res.writableEnded) {
        throw new BerthError('internal', `${what}: the handler sent no response`);
      }
    } catch (err) {
      logError(what, err);
      if (res.destroyed) return;
      const progress = response?.progressStream;
      if (progress?.started) {
        // The 200 is out: the error goes inside the stream, where the CLI reads it.
        progress.fail(messageOf(err));
      } else if (response?.hijackedStream) {
        response.hijackedStream.destroy();
      } else if (res.headersSent) {
        // A half-sent body must not look complete: break the connection.
        res.destroy();
      } else {
        sendError(res, err);
      }
    }
  }

  function handleRequest(req: IncomingMessage, res: ServerResponse): void {
    const ac = new AbortController();
    inFlight.add(ac);
    res.on('close', () => {
      inFlight.delete(ac);
      if (!res.writableFinished) ac.abort();
    });
    void dispatch(req, res, ac);
  }

  function handleUpgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    socket.on('error', () => {});
    // A ServerResponse over the raw socket: the answers before a hijack are ordinary HTTP.
    const res = new ServerResponse(req);
    res.shouldKeepAlive = false;
    res.assignSocket(socket);
    res.on('finish', () => socket.end());
    const ac = new AbortController();
    inFlight.add(ac);
    socket.on('close', () => {
      inFlight.delete(ac);
      ac.abort();
    });
    void dispatch(req, res, ac, { socket, head });
  }

  function makeServer(tls: https.ServerOptions | undefined): http.Server {
    const server = tls ? https.createServer({ ...tls, allowHalfOpen: true }) : http.createServer();
    // A build context or an image load may take longer than any fixed limit.
    server.requestTimeout = 0;
    server.headersTimeout = 60_000;
    server.timeout = 0;
    // The Go client keeps idle connections 90 s and does not retry a POST on one the server
    // closed meanwhile: keep them longer than that.
    server.keepAliveTimeout = 5 * 60_000;
    server.on('request', handleRequest);
    server.on('upgrade', handleUpgrade);
    server.on('clientError', (err: Error, socket: Socket) => {
      log.debug(`client error: ${err.message}`);
      if (socket.writable && !socket.destroyed) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
      else socket.destroy();
    });
    return server;
  }

  async function listen(specs: Array<string | ListenerSpec>, defaults: ListenDefaults = {}): Promise<string[]> {
    if (closing) throw new BerthError('failed-precondition', 'the API server is closed');
    const bound: string[] = [];
    for (const s of specs) {
      let spec = typeof s === 'string' ? parseListenAddress(s, defaults.tls) : s;
      if (typeof s === 'string' && spec.kind === 'unix' && defaults.group) spec = { ...spec, group: defaults.group };
      const l = await openListener(spec, makeServer, (m) => log.warn(m));
      listeners.push(l);
      addresses.push(l.address);
      bound.push(l.address);
      log.info(`API listening on ${l.address}`);
    }
    return bound;
  }

  async function close(): Promise<void> {
    if (closing) return;
    closing = true;
    const closed = Promise.all(listeners.map((l) => l.close()));
    for (const l of listeners) l.server.closeIdleConnections();
    for (const ac of inFlight) ac.abort(new BerthError('unavailable', 'the daemon is shutting down'));
    for (const h of hijacked) h.destroy();
    const grace = opts.closeGraceMs ?? 2000;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((r) => {
      timer = setTimeout(() => r('timeout'), grace);
    });
    if ((await Promise.race([closed, timedOut])) === 'timeout') {
      for (const l of listeners) l.server.closeAllConnections();
      await closed;
    }
    clearTimeout(timer);
  }

  return {
    listen,
    get addresses() {
      return addresses;
    },
    handleRequest,
    handleUpgrade,
    close,
    [Symbol.asyncDispose]: close,
  };
}
