/**
 * The ApiResponse the handlers answer through. Every shape sits on a Node ServerResponse, also
 * for upgraded connections (the server makes one over the raw socket), so an error before a
 * hijack is an ordinary HTTP answer; hijack() then writes the 101 straight to the socket, as
 * moby does, and hands the connection over.
 */
import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Readable, Writable } from 'node:stream';
import { BerthError } from '../common/errors.js';
import { HijackedStream } from './hijack.js';
import { ProgressWriter } from './progress.js';
import type { ApiResponse, HijackOptions, ProgressStream } from './types.js';

export const RAW_STREAM = 'application/vnd.docker.raw-stream';

export interface ResponseInit {
  res: ServerResponse;
  /** The request body stream: stdin of a hijack without upgrade. */
  body: Readable;
  /** Present when the request came as an HTTP upgrade: the socket and the stdin bytes read with the head. */
  upgrade?: { socket: Socket; rest: Buffer };
  /** Told about a hijacked connection, for the server to close it on shutdown. */
  onHijack?: (stream: HijackedStream) => void;
}

export class Response implements ApiResponse {
  private progressWriter: ProgressWriter | undefined;
  private hijacked: HijackedStream | undefined;

  constructor(private readonly init: ResponseInit) {}

  get started(): boolean {
    return this.init.res.headersSent || this.hijacked !== undefined;
  }

  /** The progress stream, when the handler opened one (the server fails it on a late error). */
  get progressStream(): ProgressWriter | undefined {
    return this.progressWriter;
  }

  get hijackedStream(): HijackedStream | undefined {
    return this.hijacked;
  }

  private checkUnsent(what: string): void {
    if (this.started || this.progressWriter !== undefined) {
      throw new BerthError('internal', `${what}: the response was already started`);
    }
  }

  header(name: string, value: string): void {
    this.checkUnsent(`header ${name}`);
    this.init.res.setHeader(name, value);
  }

  json(body: unknown, status = 200): void {
    this.checkUnsent('json');
    const text = `${JSON.stringify(body)}\n`;
    // Exactly `application/json`: the Go client parses error bodies only for that string.
    this.init.res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
    this.init.res.end(text);
  }

  text(body: string, status = 200, contentType = 'text/plain; charset=utf-8'): void {
    this.checkUnsent('text');
    this.init.res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body) });
    this.init.res.end(body);
  }

  empty(status = 204): void {
    this.checkUnsent('empty');
    this.init.res.writeHead(status);
    this.init.res.end();
  }

  stream(contentType: string, status = 200): Writable {
    this.checkUnsent('stream');
    const res = this.init.res;
    res.writeHead(status, { 'Content-Type': contentType });
    // Clients block on these headers before their next call (`docker run`: wait, then start).
    res.flushHeaders();
    return res;
  }

  hijack(options: HijackOptions = {}): HijackedStream {
    this.checkUnsent('hijack');
    const contentType = options.contentType ?? RAW_STREAM;
    const { res, upgrade } = this.init;
    let stream: HijackedStream;
    if (upgrade) {
      const { socket, rest } = upgrade;
      // Written by hand, as moby does: the v28 CLI requires exactly a 101 here.
      socket.write(`HTTP/1.1 101 UPGRADED\r\nContent-Type: ${contentType}\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n`);
      res.detachSocket(socket);
      stream = new HijackedStream({ source: socket, prefix: rest, sink: socket });
    } else {
      res.writeHead(200, { 'Content-Type': contentType });
      // dockerode starts the container only once these headers arrived.
      res.flushHeaders();
      stream = new HijackedStream({ source: this.init.body, sink: res });
    }
    this.hijacked = stream;
    this.init.onHijack?.(stream);
    return stream;
  }

  progress(): ProgressStream {
    this.checkUnsent('progress');
    this.progressWriter = new ProgressWriter(this.init.res);
    return this.progressWriter;
  }
}
