/**
 * The Duplex a hijacking handler (attach, exec start) reads stdin from and writes output to.
 * Over an upgraded connection both sides are the socket (with the bytes that followed the body
 * in the first packet put first); without an upgrade the readable side is the request body and
 * the writable side the chunked response.
 *
 * Why a wrapper and not the socket itself: the client half-closes (CloseWrite) as soon as its
 * stdin is done while output must keep flowing, so the readable side ending never ends the
 * writable one; and a client that vanishes (`-d`, Ctrl-C) must not throw EPIPE/ECONNRESET into
 * the handler: the stream simply closes, which the handler sees as 'close'.
 */
import { Duplex, type Readable, type Writable } from 'node:stream';

export interface HijackSides {
  /** Where stdin comes from (the socket or the request body). */
  source: Readable;
  /** Bytes of stdin already read with the request head. */
  prefix?: Buffer;
  /** Where output goes (the socket or the response). */
  sink: Writable;
}

const swallow = () => {};

export class HijackedStream extends Duplex {
  private readonly source: Readable;
  private readonly sink: Writable;

  constructor({ source, prefix, sink }: HijackSides) {
    super({ allowHalfOpen: true });
    this.source = source;
    this.sink = sink;
    if (prefix && prefix.length > 0) this.push(prefix);
    source.on('error', swallow);
    sink.on('error', swallow);
    source.on('data', (chunk: Buffer) => {
      if (!this.push(chunk)) source.pause();
    });
    // The client's half-close: stdin is over, output goes on. (A request body already read,
    // e.g. the JSON of exec start without an upgrade, has ended before the hijack.)
    if (source.readableEnded) this.push(null);
    else source.on('end', () => this.push(null));
    // The connection itself is gone: nothing more can be written.
    sink.on('close', () => this.destroy());
    // Keep reading into our buffer (up to its high-water mark), so the half-close is noticed
    // even by a handler that never reads stdin.
    source.resume();
  }

  override _read(): void {
    if (!this.source.destroyed) this.source.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.sink.destroyed || this.sink.writableEnded) {
      callback();
      return;
    }
    // The callback fires once the bytes reached the kernel: backpressure for free. A write error
    // (the client went away) is not the handler's: 'close' follows.
    this.sink.write(chunk, () => callback());
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (!this.sink.destroyed && !this.sink.writableEnded) this.sink.end();
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (!this.sink.destroyed && !this.sink.writableFinished) this.sink.destroy();
    if (!this.source.destroyed) this.source.destroy();
    callback(error);
  }
}
