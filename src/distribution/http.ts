/**
 * The one place the registry client touches the network: a request over node:http or
 * node:https with keep-alive agents (one pool per client, so connections to a registry are
 * reused across manifests and blobs). Everything above works with URLs, headers and streams.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { Readable } from 'node:stream';
import { BerthError } from '../common/errors.js';

export interface HttpRequest {
  method: string;
  url: URL;
  headers?: Record<string, string | string[]>;
  /** a buffer, or a stream factory (called once per attempt, so a request can be retried) */
  body?: Buffer | (() => Readable);
  signal?: AbortSignal;
  /** https without certificate verification (Docker's insecure registries) */
  insecureTls?: boolean;
}

export interface Transport {
  send(req: HttpRequest): Promise<IncomingMessage>;
  close(): void;
}

/** How long a request may wait for its answer's next bytes before it is given up. */
export const IDLE_TIMEOUT_MS = 60_000;

export class NodeTransport implements Transport {
  private readonly http = new HttpAgent({ keepAlive: true, maxSockets: 32 });
  private readonly https = new HttpsAgent({ keepAlive: true, maxSockets: 32 });
  // Verifying nothing, it needs no CA: an empty list spares loading the ~140 root certificates
  // (~25 ms of a process's first TLS connection here), which a loopback registry's ping (https
  // first, as Docker) would otherwise pay
  private readonly httpsInsecure = new HttpsAgent({ keepAlive: true, maxSockets: 32, rejectUnauthorized: false, ca: [] });

  send(req: HttpRequest): Promise<IncomingMessage> {
    const tls = req.url.protocol === 'https:';
    if (!tls && req.url.protocol !== 'http:') {
      return Promise.reject(new BerthError('invalid-argument', `request '${req.url.href}': unsupported protocol '${req.url.protocol}'`));
    }
    const agent = tls ? (req.insecureTls ? this.httpsInsecure : this.https) : this.http;
    const headers: Record<string, string | string[]> = { ...req.headers };
    if (Buffer.isBuffer(req.body)) headers['Content-Length'] = String(req.body.length);
    return new Promise((resolve, reject) => {
      const r = (tls ? httpsRequest : httpRequest)(req.url, { method: req.method, headers, agent, signal: req.signal }, resolve);
      r.on('error', reject);
      // A stalled connect or response must not hang a pull forever.
      r.setTimeout(IDLE_TIMEOUT_MS, () =>
        r.destroy(new BerthError('unavailable', `${req.method} '${req.url.href}': no answer for ${IDLE_TIMEOUT_MS / 1000} s`)),
      );
      if (req.body === undefined) r.end();
      else if (Buffer.isBuffer(req.body)) r.end(req.body);
      else {
        const body = req.body();
        body.on('error', (err) => r.destroy(err));
        body.pipe(r);
      }
    });
  }

  close(): void {
    this.http.destroy();
    this.https.destroy();
    this.httpsInsecure.destroy();
  }
}

/** Reads a response body, at most `limit` bytes (a hostile registry must not fill memory). */
export async function readBody(res: IncomingMessage | Readable, limit: number, what: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  try {
    for await (const c of res) {
      n += (c as Buffer).length;
      if (n > limit) {
        res.destroy();
        throw new BerthError('invalid-argument', `read '${what}': response larger than ${limit} bytes`, { object: what });
      }
      chunks.push(c as Buffer);
    }
  } catch (err) {
    if (err instanceof BerthError) throw err;
    const e = err as NodeJS.ErrnoException;
    const text = e?.code && !String(e.message).includes(e.code) ? `${e.code}: ${e.message}` : String(e?.message ?? err);
    throw new BerthError('unavailable', `read '${what}': connection lost after ${n} bytes: ${text}`, { object: what, cause: err });
  }
  return Buffer.concat(chunks);
}

/** Drops a response body we do not need, so the socket goes back to the pool. */
export function discard(res: IncomingMessage): void {
  res.resume();
}

export function header(res: IncomingMessage, name: string): string | undefined {
  const v = res.headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

export { Readable };
