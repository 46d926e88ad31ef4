/**
 * A small EngineClient for the CLI's frame until src/client/client.ts (the client helper's)
 * lands: JSON and streamed requests over a unix socket or tcp(+TLS), version negotiation with
 * /_ping. main reaches it only through `openClient` (src/cli/connect.ts), so the swap is one line.
 */
import { readFileSync } from 'node:fs';
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import { Readable } from 'node:stream';
import { ApiError, ConnectError, type EngineClient, type Hijacked, type QueryValue, type RequestOptions } from '../client/types.js';
import type { Target } from './contexts.js';

/** The highest API version berth speaks (berthd serves 1.41). */
export const CLIENT_API_VERSION = '1.41';

function versionLess(a: string, b: string): boolean {
  const [a1 = 0, a2 = 0] = a.split('.').map(Number);
  const [b1 = 0, b2 = 0] = b.split('.').map(Number);
  return a1 < b1 || (a1 === b1 && a2 < b2);
}

export function queryString(q: Record<string, QueryValue> | undefined): string {
  if (!q) return '';
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) {
    if (v === undefined) continue;
    if (Array.isArray(v)) for (const x of v) p.append(k, x);
    else if (typeof v === 'boolean') p.append(k, v ? '1' : '0');
    else p.append(k, String(v));
  }
  const s = p.toString();
  return s ? `?${s}` : '';
}

function daemonMessage(status: number, body: string): string {
  try {
    const j = JSON.parse(body) as { message?: string };
    if (typeof j.message === 'string') return j.message;
  } catch {}
  return body.trim() || `${status} ${http.STATUS_CODES[status] ?? ''}`.trim();
}

class StandInClient implements EngineClient {
  version = CLIENT_API_VERSION;
  readonly host: string;
  private readonly agentOpts: http.RequestOptions;
  private readonly mod: typeof http | typeof https;
  constructor(private readonly target: Target) {
    this.host = target.host;
    if (target.host.startsWith('unix://')) {
      this.agentOpts = { socketPath: target.host.slice('unix://'.length) };
      this.mod = http;
    } else {
      const u = new URL(target.host.replace(/^tcp:/, 'http:'));
      const tls = target.tls;
      this.agentOpts = { host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port) };
      this.mod = tls ? https : http;
      if (tls) {
        Object.assign(this.agentOpts, {
          ca: tls.ca ? readFileSync(tls.ca) : undefined,
          cert: tls.cert ? readFileSync(tls.cert) : undefined,
          key: tls.key ? readFileSync(tls.key) : undefined,
          rejectUnauthorized: tls.verify,
        });
      }
    }
  }

  private raw(method: string, path: string, opts: RequestOptions = {}, extra: http.OutgoingHttpHeaders = {}): Promise<IncomingMessage> {
    const versioned = path === '/_ping' ? path : `/v${this.version}${path}`;
    const headers: http.OutgoingHttpHeaders = { 'User-Agent': 'berth-cli', ...extra, ...opts.headers };
    let body: Buffer | Readable | undefined;
    if (opts.body instanceof Readable) body = opts.body;
    else if (Buffer.isBuffer(opts.body)) body = opts.body;
    else if (opts.body !== undefined) {
      body = Buffer.from(JSON.stringify(opts.body));
      headers['Content-Type'] = 'application/json';
    }
    if (Buffer.isBuffer(body)) headers['Content-Length'] = body.length;
    return new Promise((resolve, reject) => {
      const req = this.mod.request(
        { ...this.agentOpts, method, path: versioned + queryString(opts.query), headers, signal: opts.signal },
        resolve,
      );
      req.on('error', (err: NodeJS.ErrnoException) => {
        if (['ENOENT', 'ECONNREFUSED', 'EACCES', 'ENOTSOCK', 'EHOSTUNREACH', 'ETIMEDOUT', 'ECONNRESET'].includes(err.code ?? '')) {
          reject(new ConnectError(this.host, err.message, { cause: err }));
        } else reject(err);
      });
      req.on('upgrade', (res, socket, head) => {
        (res as IncomingMessage & { hijacked?: Hijacked }).hijacked = { socket: socket as Socket, head };
        resolve(res);
      });
      if (body instanceof Readable) body.pipe(req);
      else req.end(body);
    });
  }

  private async check(res: IncomingMessage): Promise<IncomingMessage> {
    if ((res.statusCode ?? 0) < 400) return res;
    const chunks: Buffer[] = [];
    for await (const c of res) chunks.push(c as Buffer);
    throw new ApiError(res.statusCode ?? 500, daemonMessage(res.statusCode ?? 500, Buffer.concat(chunks).toString('utf8')));
  }

  async negotiate(): Promise<void> {
    if (this.target.apiVersion) {
      this.version = this.target.apiVersion;
      return;
    }
    const res = await this.raw('GET', '/_ping');
    res.resume();
    const v = res.headers['api-version'];
    if (typeof v === 'string' && /^\d+\.\d+$/.test(v) && versionLess(v, CLIENT_API_VERSION)) this.version = v;
  }

  async json<T = unknown>(method: string, path: string, opts?: RequestOptions) {
    const res = await this.check(await this.raw(method, path, opts));
    const chunks: Buffer[] = [];
    for await (const c of res) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const isJson = /json/.test(String(res.headers['content-type'] ?? ''));
    const body = text === '' ? undefined : isJson ? JSON.parse(text) : text;
    return { status: res.statusCode ?? 0, headers: res.headers, body: body as T };
  }

  async stream(method: string, path: string, opts?: RequestOptions) {
    return this.check(await this.raw(method, path, opts));
  }

  async hijack(method: string, path: string, opts?: RequestOptions): Promise<Hijacked> {
    const res = await this.raw(method, path, opts, { Connection: 'Upgrade', Upgrade: 'tcp' });
    const h = (res as IncomingMessage & { hijacked?: Hijacked }).hijacked;
    if (h) return h;
    await this.check(res);
    throw new ApiError(res.statusCode ?? 500, `expected 101 Switching Protocols, got ${res.statusCode}`);
  }

  async upload<T = unknown>(method: string, path: string, body: Readable, opts?: RequestOptions) {
    return this.json<T>(method, path, { ...opts, body });
  }

  close(): void {}
}

export async function connectStandIn(target: Target): Promise<EngineClient> {
  const c = new StandInClient(target);
  await c.negotiate();
  return c;
}
