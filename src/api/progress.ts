/**
 * Docker's JSON progress stream (pull, push, load, build): `{…}\r\n` messages, as dockerd frames
 * them. The 200 is held back until the first message, so an error found before any output
 * (manifest unknown, a refused dial) still goes out as a plain HTTP error with its status.
 */
import type { ServerResponse } from 'node:http';
import type { JsonMessage, ProgressStream } from './types.js';

export class ProgressWriter implements ProgressStream {
  private ended = false;

  constructor(private readonly res: ServerResponse) {}

  /** True once the 200 went out. */
  get started(): boolean {
    return this.res.headersSent;
  }

  get finished(): boolean {
    return this.ended;
  }

  private begin(): void {
    if (!this.res.headersSent) {
      this.res.writeHead(200, { 'Content-Type': 'application/json' });
      this.res.flushHeaders();
    }
  }

  write(message: JsonMessage): void {
    if (this.ended || this.res.destroyed) return;
    this.begin();
    this.res.write(`${JSON.stringify(message)}\r\n`);
  }

  fail(message: string, code?: number): void {
    if (this.ended) return;
    // The CLI fails on errorDetail; `error` is the deprecated field older clients read.
    this.write({ errorDetail: code === undefined ? { message } : { code, message }, error: message });
    this.end();
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.res.destroyed) return;
    this.begin();
    this.res.end();
  }
}
