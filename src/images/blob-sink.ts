/**
 * Where a layer's downloaded bytes go: the content store's ingest and, when an apply runs as
 * the layer downloads, that apply's input. Two sinks carry the bytes:
 *
 * - `IngestHelper` (the default): one berth-ingest process (native/ingest) reads the bytes (from
 *   a pipe, or from the connection itself), hashes them and writes them into the ingest's data
 *   file (lent by the writer); an apply follows that file as it grows (ApplyTee.follow). The
 *   hashing, the file writes and the copy to the apply cost Node's thread ~7 ms of CPU per MB
 *   before (docs/layer-apply.md), on a 2-CPU machine the bound of a pull.
 * - `NodeSink`: the same in Node (the writer hashes and writes; Node writes apply's stdin), for
 *   what the helper cannot take: a store whose writer lends no file, an ingest that resumes a
 *   prefix.
 *
 * A speculative apply that fails costs neither the download: it stops following the file, or
 * Node's feed skips it.
 */
import { closeSync, openSync } from 'node:fs';
import type { Duplex, Readable, Writable } from 'node:stream';
import { type Child, helperPath, parseHelperError, watch } from '../archive/apply.js';
import type { ApplyFeed, FeedPort, FollowedFile } from '../archive/types.js';
import { BerthError } from '../common/errors.js';
import { drainOrClose } from '../common/streams.js';
import type { Writer } from '../content/types.js';
import type { SocketBody } from '../distribution/types.js';
import { spawnProcess } from '../native/spawn.js';

/** bytes per ingest write and apply feed in Node (see NodeSink) */
const BATCH = 1 << 20;

/**
 * What the feed into apply buffers before the download waits for apply: enough that a layer of
 * small files (whose apply is slower than its download) does not hold its download slot, and
 * so the other layers' downloads, while the kernel creates its files.
 */
export const TEE_BUFFER = 8 << 20;

/**
 * An apply fed as the bytes arrive (the pull hands it to apply as its input). `required`: its
 * failure fails the download (the apply on the committed parent); otherwise (a speculative
 * apply) the download goes on without it.
 *
 * The download decides how the bytes reach apply (`follow`), as soon as its ingest is open:
 * through berth-ingest, apply reads the ingest file as it grows (FollowedFile), so the
 * download starts without waiting for apply's snapshot and process and never waits for apply
 * after; otherwise (NodeSink) the bytes are written into apply's stdin. Apply starts its process
 * once that is decided. The download may end before apply is attached: the head check and the
 * end wait for the port.
 */
export class ApplyTee implements ApplyFeed {
  readonly kind = 'feed';
  /** the apply's port once its first process runs; undefined when it failed before */
  readonly attached: Promise<FeedPort | undefined>;
  /** the followed file, or undefined when the bytes come through stdin (see `follow`) */
  readonly followed: Promise<FollowedFile | undefined>;
  /** the apply's failure, once it failed */
  failed: unknown;
  #port: FeedPort | undefined;
  #settle!: (port: FeedPort | undefined) => void;
  #decide!: (file: FollowedFile | undefined) => void;
  #decided = false;
  /** the followed file's descriptor while it is ours (until apply runs or failed) */
  #fd: number | undefined;
  #head: Buffer | null = Buffer.alloc(0);
  #headDone = false;
  #aborted: Error | undefined;
  #ended = false;

  constructor(readonly required: boolean) {
    this.attached = new Promise((resolve) => {
      this.#settle = resolve;
    });
    this.followed = new Promise((resolve) => {
      this.#decide = resolve;
    });
  }

  /**
   * How apply gets the bytes, once: `file` (whose descriptor the tee now owns and closes once
   * apply runs or failed) or, undefined, through stdin. Later calls change nothing; a file
   * offered too late is closed.
   */
  follow(file: FollowedFile | undefined): void {
    if (this.#decided) {
      if (file) closeQuietly(file.fd);
      return;
    }
    this.#decided = true;
    this.#fd = file?.fd;
    this.#decide(file);
  }

  attach(port: FeedPort): void {
    this.#port = port;
    this.#release();
    this.#settle(port);
    // aborted before apply ran: it must not wait for bytes that will not come
    if (this.#aborted) {
      port.abort(this.#aborted);
      return;
    }
    // what happened before apply ran: the head seen, every byte in
    if (this.#headDone || this.#ended) this.#checkHead();
    if (this.#ended && !port.stdin.destroyed) port.stdin.end();
  }

  /** Follows the apply (started with this tee as its input): a failure before attaching settles `attached`. */
  watch(applying: Promise<unknown>): void {
    applying.then(
      () => {
        this.#release();
        this.#settle(undefined);
      },
      (err: unknown) => {
        this.failed = err ?? new Error('apply failed');
        this.#release();
        this.#settle(undefined);
      },
    );
  }

  /** Shows apply the stream's first bytes (its check against the media type). */
  sniff(chunk: Buffer): void {
    // enough is kept once there are 4 bytes (not the whole layer while apply is not attached yet)
    if (!this.#head || this.#headDone) return;
    this.#head = Buffer.concat([this.#head, chunk]);
    if (this.#head.length >= 4) {
      this.#headDone = true;
      this.#checkHead();
    }
  }

  /** Checks the head once there is a port to check it (else at attach). */
  #checkHead(): void {
    if (!this.#port) return;
    if (this.#head) this.#port.check(this.#head);
    this.#head = null;
  }

  /** Every byte was fed: apply sees its end (now, or once attached). Once. */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#checkHead();
    const stdin = this.#port?.stdin;
    if (stdin && !stdin.destroyed) stdin.end();
  }

  /** The bytes will not all come: apply stops and fails, never applying a truncated layer. */
  abort(reason: Error): void {
    this.#aborted ??= reason;
    // an apply still waiting to hear where its bytes come from starts, and is stopped at attach
    this.follow(undefined);
    this.#port?.abort(reason);
  }

  /** True when apply's failure must stop the download. */
  mustStop(): boolean {
    return this.required && this.failed !== undefined;
  }

  #release(): void {
    if (this.#fd !== undefined) closeQuietly(this.#fd);
    this.#fd = undefined;
  }
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {}
}

/** The download's destination for one attempt after another; see the file comment. */
export interface BlobSink {
  /** bytes accepted so far (the next Range starts here) */
  readonly received: number;
  write(chunk: Buffer): Promise<void>;
  /** Writes out what is batched (a cut connection's bytes are a good prefix: kept). */
  flush(): Promise<void>;
  /** Every byte is in: after it, the writer holds them (commit is the caller's). */
  finish(): Promise<void>;
  /** Gives up: what was written stays in the ingest for a later resume. Never throws. */
  stop(): Promise<void>;
  /** true once the sink itself failed: another attempt cannot help */
  readonly failed: boolean;
  /** true when `take` can read a body from its connection (the fetch may then offer one) */
  readonly takesSockets: boolean;
  /**
   * Takes the body's bytes: its head, then the rest straight from its connection. 'done' when
   * every byte came, 'short' when the connection ended first (`received` says where: resume
   * with Range), 'refused' when the connection could not be taken (the head is taken; the
   * caller reads the rest with `body.resume()`, and no connection is offered again). A sink
   * that takes no connection takes the head and refuses the rest.
   */
  take(body: SocketBody, onProgress: (received: number) => void, signal?: AbortSignal): Promise<'done' | 'short' | 'refused'>;
}

/** Writes into a pipe with backpressure beyond `limit` buffered bytes; false when the reader is gone. */
async function feedPipe(dest: Writable, chunk: Buffer, limit: number): Promise<boolean> {
  if (dest.destroyed) return false;
  dest.write(chunk);
  if (dest.writableLength > limit) await drainOrClose(dest);
  return !dest.destroyed;
}

/** Feeds apply from Node: a speculative apply that stopped reading is left behind, a required one fails the download. */
async function feedTee(tee: ApplyTee, port: FeedPort | undefined, chunk: Buffer): Promise<void> {
  if (!port) {
    if (tee.mustStop()) throw tee.failed;
    return;
  }
  if (!(await feedPipe(port.stdin, chunk, TEE_BUFFER)) && tee.required) {
    throw tee.failed ?? port.stdin.errored ?? new Error('apply stopped reading');
  }
}

/** Copies a committed blob's stream into a tee (with backpressure; the caller ends the tee). */
export async function feedFromStore(from: Readable, tee: ApplyTee): Promise<void> {
  const port = await tee.attached;
  try {
    for await (const chunk of from as AsyncIterable<Buffer>) {
      tee.sniff(chunk);
      await feedTee(tee, port, chunk);
      if (!port || port.stdin.destroyed) break;
    }
  } finally {
    from.destroy();
  }
}

/** The bytes through Node: the writer hashes and writes them, Node writes apply's stdin. */
export class NodeSink implements BlobSink {
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  #received: number;

  constructor(
    private readonly writer: Writer,
    private readonly tee: ApplyTee | undefined,
    private readonly port: FeedPort | undefined,
  ) {
    this.#received = writer.status().offset;
  }

  get received(): number {
    return this.#received;
  }

  // the writer's failures are its own: a write after one fails at once
  readonly failed = false;
  readonly takesSockets = false;

  /** Takes no connection (its bytes are Node's to write): the head, then 'refused' unless that was all. */
  async take(body: SocketBody): Promise<'done' | 'refused'> {
    for (const chunk of body.head) await this.write(chunk);
    return body.remaining === 0 ? 'done' : 'refused';
  }

  // The socket hands over 64 KiB at a time; the ingest write (a thread-pool round trip) and
  // apply's pipe take them in batches of BATCH bytes: fewer calls, same bytes.
  async write(chunk: Buffer): Promise<void> {
    this.#pending.push(chunk);
    this.#pendingBytes += chunk.length;
    this.#received += chunk.length;
    if (this.#pendingBytes >= BATCH) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.#pendingBytes === 0) return;
    const batch = this.#pending.length === 1 ? this.#pending[0]! : Buffer.concat(this.#pending, this.#pendingBytes);
    this.#pending = [];
    this.#pendingBytes = 0;
    // the disk write and apply's read run side by side: neither waits for the other's batch
    const tee = this.tee;
    if (tee) await Promise.all([this.writer.write(batch), feedTee(tee, this.port, batch)]);
    else await this.writer.write(batch);
  }

  finish(): Promise<void> {
    return this.flush();
  }

  async stop(): Promise<void> {
    await this.flush().catch(() => {});
  }
}

/** berth-ingest's last line: `ok bytes=N sha256=HEX` (its errors are berth-unpack's `error` lines). */
function parseIngestSummary(stderr: string): { bytes: number; digest: string } | undefined {
  const ok = /^ok bytes=(\d+) sha256=([0-9a-f]{64})$/m.exec(stderr);
  return ok ? { bytes: Number(ok[1]), digest: `sha256:${ok[2]}` } : undefined;
}

/** A writer that can lend its data file (Writer.lend). */
type LendingWriter = Writer & Required<Pick<Writer, 'lend' | 'adopt'>>;

/** A take's replies from berth-ingest (native/ingest/main.c): `at N`, `took N [ERRNAME]`, `refused ERRNAME`. */
interface TakeWaiter {
  progress(n: number): void;
  done(line: string): void;
  fail(err: Error): void;
}

/**
 * The bytes through berth-ingest (see the file comment). Bytes Node read come through the
 * helper's stdin; a body left on its connection (a plain-HTTP download) is read by the helper
 * itself, which takes a copy of the connection's descriptor (`take` on its control socket):
 * then Node's thread sees none of the body but its first read.
 */
export class IngestHelper implements BlobSink {
  #received = 0;
  /** the writer's data file, lent to the helper */
  readonly #fd: number;
  readonly #child: Child;
  readonly #stdin: Writable;
  readonly #control: Duplex;
  #controlText = '';
  #waiter: TakeWaiter | undefined;
  #takes = true;

  /**
   * Can the helper take this download? The writer must lend its file with nothing written yet.
   */
  static fits(writer: Writer): writer is LendingWriter {
    return typeof writer.lend === 'function' && typeof writer.adopt === 'function' && writer.status().offset === 0;
  }

  /** Starts the helper on the writer's data file. */
  constructor(
    private readonly writer: LendingWriter,
    private readonly digest: string,
  ) {
    this.#fd = writer.lend();
    this.#child = watch(
      'berth-ingest',
      spawnProcess(helperPath('berth-ingest'), ['--control', '4'], ['pipe', 'ignore', 'pipe', this.#fd, 'socket']),
    );
    this.#stdin = this.#child.proc.stdin as Writable;
    this.#control = this.#child.proc.stdio[4] as Duplex;
    this.#control.setEncoding('latin1');
    this.#control.on('data', (text: string) => this.#onControl(text));
    this.#control.on('error', () => {});
    this.#control.on('close', () => this.#waiter?.fail(new Error('berth-ingest closed its control socket')));
  }

  get received(): number {
    return this.#received;
  }

  /**
   * The data file for an apply to follow as the helper writes it (ApplyTee.follow): a
   * descriptor of its own, read-only, that stays valid after the commit renames the file.
   */
  followed(size: number): FollowedFile {
    return { fd: openSync(`/proc/self/fd/${this.#fd}`, 'r'), size };
  }

  failed = false;

  get takesSockets(): boolean {
    return this.#takes && !this.failed;
  }

  async write(chunk: Buffer): Promise<void> {
    if (!(await feedPipe(this.#stdin, chunk, TEE_BUFFER))) throw await this.#failure();
    this.#received += chunk.length;
  }

  async take(body: SocketBody, onProgress: (received: number) => void, signal?: AbortSignal): Promise<'done' | 'short' | 'refused'> {
    // The head goes through stdin, and is in the helper's stdin buffer before the command: the
    // helper reads what its stdin holds first (a write's callback runs once the kernel has it).
    for (const chunk of body.head) {
      const sent = await new Promise<boolean>((resolve) => this.#stdin.write(chunk, (err) => resolve(!err)));
      if (!sent) throw await this.#failure();
      this.#received += chunk.length;
    }
    if (body.remaining === 0) return 'done';
    // aborted already: its 'abort' event has come and gone, and would never stop this take
    if (signal?.aborted) return 'short';
    const base = this.#received;
    const line = await new Promise<string>((resolve, reject) => {
      const onAbort = () => this.#control.write('stop\n');
      this.#waiter = {
        progress: (n) => {
          this.#received = base + n;
          onProgress(this.#received);
        },
        done: (l) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(l);
        },
        fail: (err) => {
          signal?.removeEventListener('abort', onAbort);
          reject(err);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#control.write(`take ${process.pid} ${body.fd} ${body.remaining}\n`);
    }).catch(async () => {
      throw await this.#failure();
    });
    this.#waiter = undefined;
    const took = /^took (\d+)(?: (\w+))?$/.exec(line);
    if (took) {
      const n = Number(took[1]);
      this.#received = base + n;
      if (n === body.remaining && took[2] === undefined) return 'done';
      if (n > body.remaining) throw await this.#failure();
      return 'short';
    }
    // pidfd_getfd refused (no ptrace access to us: another user namespace, a seccomp policy)
    this.#takes = false;
    return 'refused';
  }

  #onControl(text: string): void {
    this.#controlText += text;
    for (let nl = this.#controlText.indexOf('\n'); nl >= 0; nl = this.#controlText.indexOf('\n')) {
      const line = this.#controlText.slice(0, nl);
      this.#controlText = this.#controlText.slice(nl + 1);
      const w = this.#waiter;
      if (!w) continue;
      const at = /^at (\d+)$/.exec(line);
      if (at) w.progress(Number(at[1]));
      else if (/^(took \d+( \w+)?|refused \w+)$/.test(line)) w.done(line);
      else w.fail(new Error(`berth-ingest said '${line}'`));
    }
  }

  async flush(): Promise<void> {}

  async finish(): Promise<void> {
    this.#control.end();
    this.#stdin.end();
    const exit = await this.#child.exited;
    const said = parseIngestSummary(this.#child.stderr);
    if (exit.code !== 0 || !said) throw await this.#failure();
    if (said.bytes !== this.#received) {
      throw new BerthError('internal', `blob '${this.digest}': berth-ingest wrote ${said.bytes} bytes, ${this.#received} were sent`, {
        object: this.digest,
      });
    }
    this.writer.adopt(said.bytes, said.digest);
  }

  async stop(): Promise<void> {
    // a clean end: what it read reaches the file (a prefix the next writer resumes from)
    this.#control.end();
    if (!this.#stdin.destroyed) this.#stdin.end();
    await this.#child.exited;
  }

  async #failure(): Promise<BerthError> {
    this.failed = true;
    this.#child.proc.kill('SIGKILL');
    const exit = await this.#child.exited;
    const e = parseHelperError(this.#child.stderr);
    const why = e ? `${e.message} (${e.errno})` : exit.signal ? `killed by ${exit.signal}` : `exit ${exit.code}`;
    // a full disk, an I/O error: the store's trouble, as a writer's own would be
    return new BerthError('unavailable', `ingest '${this.digest}': berth-ingest failed: ${why}`, { object: this.digest });
  }
}
