/**
 * Docker's multiplexed stream (moby pkg/stdcopy), used by non-TTY attach, exec and logs: each
 * frame is an 8-byte header `[type, 0, 0, 0, length as uint32 big-endian]` and the payload.
 * The Go client treats a systemerr frame as an error ending the stream.
 */

export const STDIN = 0;
export const STDOUT = 1;
export const STDERR = 2;
export const SYSTEMERR = 3;
export type StreamType = 0 | 1 | 2 | 3;

const HEADER = 8;
/** A frame's length field is 32 bits; larger payloads are split. */
const MAX_FRAME = 0xffff_ffff;

/** One frame (or several, for a payload over 4 GiB) carrying `payload` on stream `type`. */
export function frame(type: StreamType, payload: Buffer | string): Buffer {
  const data = typeof payload === 'string' ? Buffer.from(payload) : payload;
  if (data.length <= MAX_FRAME) {
    const header = Buffer.alloc(HEADER);
    header[0] = type;
    header.writeUInt32BE(data.length, 4);
    return Buffer.concat([header, data]);
  }
  const parts: Buffer[] = [];
  for (let off = 0; off < data.length; off += MAX_FRAME) parts.push(frame(type, data.subarray(off, off + MAX_FRAME)));
  return Buffer.concat(parts);
}

export interface Frame {
  type: StreamType;
  payload: Buffer;
}

/**
 * An incremental decoder: feed it bytes as they come, get the complete frames; a partial frame
 * waits for the next push. A header with an unknown type is an error (the stream is not framed).
 */
export class FrameDecoder {
  private pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Frame[] {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const frames: Frame[] = [];
    while (this.pending.length >= HEADER) {
      const type = this.pending[0] as number;
      if (type > SYSTEMERR) throw new Error(`stdcopy: unknown stream type ${type}`);
      const length = this.pending.readUInt32BE(4);
      if (this.pending.length < HEADER + length) break;
      frames.push({ type: type as StreamType, payload: this.pending.subarray(HEADER, HEADER + length) });
      this.pending = this.pending.subarray(HEADER + length);
    }
    return frames;
  }

  /** Bytes of an incomplete frame still held (non-zero at the end of a stream means truncation). */
  get buffered(): number {
    return this.pending.length;
  }
}

/** Decodes a whole buffer into stdout, stderr and systemerr text (for tests and one-shot logs). */
export function demux(data: Buffer): { stdout: Buffer; stderr: Buffer; systemerr: Buffer } {
  const d = new FrameDecoder();
  const out: Record<'stdout' | 'stderr' | 'systemerr', Buffer[]> = { stdout: [], stderr: [], systemerr: [] };
  for (const f of d.push(data)) {
    if (f.type === STDOUT) out.stdout.push(f.payload);
    else if (f.type === STDERR) out.stderr.push(f.payload);
    else if (f.type === SYSTEMERR) out.systemerr.push(f.payload);
  }
  if (d.buffered !== 0) throw new Error(`stdcopy: ${d.buffered} bytes of a truncated frame`);
  return { stdout: Buffer.concat(out.stdout), stderr: Buffer.concat(out.stderr), systemerr: Buffer.concat(out.systemerr) };
}
