/**
 * berth-shim's wire format (docs/shim-protocol.md), pure: frames are `u32 BE length` (of what
 * follows) + `u8 kind` + payload, in both directions and on the shim's stdin at launch.
 */
import { BerthError } from '../../common/errors.js';

export const PROTOCOL_VERSION = 1;

export const Kind = { json: 0, stdin: 1, stdout: 2, stderr: 3, eof: 4, plan: 5 } as const;
export type FrameKind = (typeof Kind)[keyof typeof Kind];

export const MAX_JSON_FRAME = 64 * 1024;
export const MAX_DATA_FRAME = 32 * 1024;
export const MAX_PLAN_FRAME = 1024 * 1024;

export interface Frame {
  kind: number;
  payload: Buffer;
}

export function encodeFrame(kind: FrameKind, payload: Buffer | string): Buffer {
  const out = Buffer.allocUnsafe(frameSize(kind, payload));
  putFrame(out, 0, kind, payload);
  return out;
}

/** The bytes the frame of `payload` takes (its head included); throws past the kind's limit. */
export function frameSize(kind: FrameKind, payload: Buffer | string): number {
  const len = typeof payload === 'string' ? Buffer.byteLength(payload, 'utf8') : payload.length;
  const max = kind === Kind.json ? MAX_JSON_FRAME : kind === Kind.plan ? MAX_PLAN_FRAME : MAX_DATA_FRAME;
  if (len > max) throw new BerthError('invalid-argument', `shim frame of kind ${kind}: ${len} bytes, more than ${max}`);
  return 5 + len;
}

/**
 * Writes the frame of `payload` into `out` at `offset` (room checked by frameSize), returns the
 * offset after it. One buffer for a whole request instead of one per part and their
 * concatenation: a fresh buffer of a few pages costs a page fault per page (~20 µs here).
 */
export function putFrame(out: Buffer, offset: number, kind: FrameKind, payload: Buffer | string): number {
  const len = typeof payload === 'string' ? out.write(payload, offset + 5, 'utf8') : payload.copy(out, offset + 5);
  out.writeUInt32BE(len + 1, offset);
  out.writeUInt8(kind, offset + 4);
  return offset + 5 + len;
}

/** Data of any length as stdin frames of at most MAX_DATA_FRAME bytes. */
export function encodeData(kind: FrameKind, data: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let off = 0; off < data.length; off += MAX_DATA_FRAME) out.push(encodeFrame(kind, data.subarray(off, off + MAX_DATA_FRAME)));
  return out;
}

/** Splits a byte stream into frames; a frame longer than the limits is a protocol error. */
export class FrameDecoder {
  private buf: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Frame[] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    const frames: Frame[] = [];
    while (this.buf.length >= 5) {
      const len = this.buf.readUInt32BE(0);
      const kind = this.buf.readUInt8(4);
      // The shim's answers and output: JSON up to 64 KiB plus headroom for its own fields.
      if (len < 1 || len - 1 > MAX_JSON_FRAME + 4096) throw new BerthError('internal', `shim: bad frame length ${len}`);
      if (this.buf.length < 4 + len) break;
      frames.push({ kind, payload: this.buf.subarray(5, 4 + len) });
      this.buf = this.buf.subarray(4 + len);
    }
    return frames;
  }
}

/** The request berth-shim reads on its stdin at launch (a JSON frame; the plan follows as a plan frame). */
export interface ShimRequest {
  v: 1;
  id: string;
  /** Created if missing (0700): shim.json, state.json, exit.json, shim.log, the socket by default. */
  state_dir: string;
  /** The control socket (default `<state_dir>/shim.sock`; at most 107 bytes). */
  socket?: string;
  /** berth-nsinit, for a plan; or `runtime` + `bundle` for an OCI runtime binary. */
  nsinit?: string;
  runtime?: string;
  runtime_args?: string[];
  bundle?: string;
  /** The json-file log (none: output is only passed to attached clients). */
  log_path?: string;
  /** Bytes; <= 0: never rotate. Default 20,000,000 (Docker's `local` driver). */
  log_max_size?: number;
  /** Files kept, the current one included (1..100). Default 5. */
  log_max_file?: number;
  tty?: boolean;
  /** Where the pty master arrives (required with tty). */
  console_socket?: string;
  rows?: number;
  cols?: number;
  /** Give the container a stdin pipe (else /dev/null). */
  stdin?: boolean;
  /** The container's cgroup v2 directory: orphans killed after the init's exit, `kill all`, oom_killed. */
  cgroup?: string;
  /** The container's oom_score_adj (the shim itself runs at -999). */
  oom_score_adj?: number;
  /** cgroup.procs files the shim moves itself into at start (one per hierarchy): out of berthd's cgroups. */
  shim_cgroups?: string[];
  /**
   * Launch at once, after the handshake, instead of on a connection's `launch` (which then claims
   * the launch and the messages held until then): the container's start overlaps the connect.
   */
  launch?: boolean;
  /**
   * Start the process as soon as nsinit says `created`, without waiting for a connection's
   * `start` (which then only waits for the outcome): one round trip through the caller less.
   * Not for a terminal, an OCI runtime binary or an exec.
   */
  start?: boolean;
}

/** What the shim writes to exit.json and answers to `wait`. */
export interface ExitRecord {
  v: 1;
  pid: number;
  exit_code: number;
  signal: number | null;
  core_dumped: boolean;
  oom_killed: boolean;
  started_at: string | null;
  finished_at: string | null;
  reason: 'exited' | 'start_failed' | 'shim_lost';
  message?: string;
}

export interface ShimState {
  status: 'new' | 'creating' | 'created' | 'running' | 'stopped';
  pid: number;
  shim_pid: number;
  created_at: string | null;
  started_at: string | null;
  tty: boolean;
  log_rotations: number;
  log_dropped_bytes: number;
  seq: number;
  exit?: ExitRecord;
}

/** shim.json: who serves a container (the pid paired with its start time: never a bare pid). */
export interface ShimInfo {
  v: 1;
  shim: string;
  pid: number;
  start_time: string;
  socket: string;
}
