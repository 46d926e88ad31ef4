/**
 * Copies a stream into a content store in one pass, verifying size and digest on the way, and
 * resuming a partial ingest of the same ref from where it stopped: the puller's way in.
 */
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { BerthError, invalid, isKind, precondition } from '../common/errors.js';
import { assertDigest } from '../oci/image.js';
import type { ContentStore, Writer } from './types.js';

/**
 * A source that can start at an offset (an HTTP Range request, a file position). When it cannot
 * start where asked (a registry that answers a Range request with the whole blob), it says
 * where its stream does start, and the bytes before the offset are skipped.
 */
export interface OffsetSource {
  open(offset: number): OpenedSource | Promise<OpenedSource>;
}
export type OpenedSource = Readable | { stream: Readable; start: number };

export interface IngestOptions {
  labels?: Record<string, string>;
  /** called after every chunk with the bytes stored so far (resumed bytes included) */
  progress?: (offset: number, total: number) => void;
  /**
   * Called before the store is asked whether the blob exists: the caller records the resource
   * in its lease here, so that GC, which re-checks leases as it deletes, either sees the lease
   * or has removed the blob before we look (and we fetch it again).
   */
  protect?: (type: 'content' | 'ingest', id: string) => void | Promise<void>;
  signal?: AbortSignal;
}

export interface IngestResult {
  digest: string;
  size: number;
  /** the blob was already committed (nothing was written by us) */
  existed: boolean;
  /** bytes of an earlier partial ingest that were kept */
  resumedFrom: number;
}

function isReadable(s: unknown): s is Readable {
  return typeof (s as Readable).pipe === 'function';
}

function isOffsetSource(s: Readable | OffsetSource): s is OffsetSource {
  return typeof (s as OffsetSource).open === 'function' && typeof (s as Readable).pipe !== 'function';
}

/**
 * Stores `desc`'s blob read from `source` under ingest `ref`. A plain stream is read from its
 * start (the bytes an earlier attempt stored are skipped); an OffsetSource is opened at the
 * resume point. A resumed prefix that turns out wrong (the digest does not match) is thrown
 * away and the blob fetched once more from 0 when the source can start there.
 *
 * Errors: already-exists never (that is `existed: true`); failed-precondition when the source
 * gives more bytes than the size or bytes of another digest (the partial data is discarded);
 * unavailable when the source ends early (the partial data is kept for a resume).
 */
export async function ingest(
  store: ContentStore,
  ref: string,
  desc: { digest: string; size: number },
  source: Readable | OffsetSource,
  options: IngestOptions = {},
): Promise<IngestResult> {
  const digest = assertDigest(desc.digest, 'descriptor digest');
  const size = desc.size;
  if (!Number.isSafeInteger(size) || size < 0) throw invalid(`ingest '${digest}': invalid size ${size}`, digest);
  await options.protect?.('content', digest);
  await options.protect?.('ingest', ref);
  const existed: IngestResult = { digest, size, existed: true, resumedFrom: 0 };

  const writer = await openWriter(store, ref, digest, size, options.signal);
  if (!writer) return existed;
  try {
    const resumedFrom = writer.status().offset;
    let offset = resumedFrom;
    let restarted = false;
    for (;;) {
      options.signal?.throwIfAborted();
      if (isOffsetSource(source)) {
        const opened = await source.open(offset);
        const { stream, start } = isReadable(opened) ? { stream: opened, start: offset } : opened;
        if (!Number.isSafeInteger(start) || start < 0 || start > offset) {
          stream.destroy();
          throw invalid(`ingest '${digest}': the source starts at ${start}, after the offset ${offset} asked for`, digest);
        }
        await copy(writer, stream, offset - start, size, digest, options);
      } else await copy(writer, source, offset, size, digest, options);
      if (writer.status().offset < size) {
        throw new BerthError('unavailable', `ingest '${digest}': the source ended after ${writer.status().offset} of ${size} bytes`, {
          object: digest,
        });
      }
      try {
        await writer.commit(size, digest, { labels: options.labels });
        return { digest, size, existed: false, resumedFrom };
      } catch (err) {
        if (isKind(err, 'already-exists')) return { ...existed, resumedFrom };
        if (!isKind(err, 'failed-precondition')) throw err;
        // bad bytes: never resume from them
        await writer.truncate(0);
        if (offset > 0 && !restarted && isOffsetSource(source)) {
          restarted = true;
          offset = 0;
          continue;
        }
        throw err;
      }
    }
  } finally {
    await writer.close();
  }
}

/** The ref's writer, waiting while another one holds it; undefined when the blob exists. */
async function openWriter(
  store: ContentStore,
  ref: string,
  digest: string,
  size: number,
  signal?: AbortSignal,
): Promise<Writer | undefined> {
  let delay = 10;
  for (;;) {
    try {
      return await store.writer({ ref, expected: digest, total: size });
    } catch (err) {
      if (isKind(err, 'already-exists')) return undefined;
      if (!isKind(err, 'unavailable')) throw err;
    }
    // Another task or process is writing this ref (a concurrent pull of the same blob): wait,
    // then either it committed (already-exists) or it gave up and we resume its data.
    await sleep(delay, undefined, { signal });
    delay = Math.min(delay * 2, 1000);
  }
}

/** Chunks are gathered up to this before a write: one write per network chunk costs more than the copy. */
const BATCH = 1 << 20;

async function copy(writer: Writer, stream: Readable, skip: number, size: number, digest: string, options: IngestOptions): Promise<void> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  // One write in flight while the next batch is read and hashed: the writer hashes on the call
  // and the kernel copies on a pool thread, so the two overlap.
  let inflight: Promise<void> | undefined;
  const flush = async () => {
    if (pendingBytes === 0) return;
    const data = pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingBytes);
    pending = [];
    pendingBytes = 0;
    const offset = writer.status().offset + data.length;
    const p = writer.write(data).then(() => options.progress?.(offset, size));
    p.catch(() => {}); // awaited below; never an unhandled rejection meanwhile
    const before = inflight;
    inflight = p;
    await before;
  };
  const drain = async () => {
    await flush();
    await inflight;
  };
  const abort = () => stream.destroy(options.signal?.reason);
  options.signal?.addEventListener('abort', abort, { once: true });
  try {
    for await (const c of stream) {
      let chunk: Buffer = typeof c === 'string' ? Buffer.from(c) : Buffer.isBuffer(c) ? c : Buffer.from(c as Uint8Array);
      if (skip > 0) {
        const n = Math.min(skip, chunk.length);
        skip -= n;
        chunk = chunk.subarray(n);
        if (chunk.length === 0) continue;
      }
      if (writer.status().offset + pendingBytes + chunk.length > size) {
        // more than the descriptor says: a hostile or confused source; keep nothing of it
        pending = [];
        pendingBytes = 0;
        await writer.truncate(0);
        throw precondition(`ingest '${digest}': the source gives more than the descriptor's ${size} bytes`, digest);
      }
      pending.push(chunk);
      pendingBytes += chunk.length;
      if (pendingBytes >= BATCH) await flush();
      options.signal?.throwIfAborted();
    }
    await drain();
  } catch (err) {
    // what was read is good as far as it goes: keep it for a resume (unless refused above)
    if (!isKind(err, 'failed-precondition')) await drain().catch(() => {});
    else await inflight?.catch(() => {});
    throw err;
  } finally {
    options.signal?.removeEventListener('abort', abort);
    stream.destroy();
  }
}
