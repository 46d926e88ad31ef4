/**
 * Copies a stream into a content store in one pass, verifying size and digest on the way, and
 * resuming a partial ingest of the same ref from where it stopped: the puller's way in.
 */
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { BerthError, invalid, isKind, precondition } from '../common/errors.js';
import { assertDigest } from '../oci/image.js';
import type { ContentStore, Writer } from './types.js';

/** A source that can start at an offset (an HTTP Range request, a file position). */
export interface OffsetSource {
  open(offset: number): Readable | Promise<Readable>;
}

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
      if (isOffsetSource(source)) await copy(writer, await source.open(offset), 0, size, digest, options);
      else await copy(writer, source, offset, size, digest, options);
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

async function copy(writer: Writer, stream: Readable, skip: number, size: number, digest: string, options: IngestOptions): Promise<void> {
  try {
    for await (const c of stream) {
      let chunk: Buffer = typeof c === 'string' ? Buffer.from(c) : Buffer.isBuffer(c) ? c : Buffer.from(c as Uint8Array);
      if (skip > 0) {
        const n = Math.min(skip, chunk.length);
        skip -= n;
        chunk = chunk.subarray(n);
        if (chunk.length === 0) continue;
      }
      const offset = writer.status().offset;
      if (offset + chunk.length > size) {
        // more than the descriptor says: a hostile or confused source; keep nothing of it
        await writer.truncate(0);
        throw precondition(`ingest '${digest}': the source gives more than the descriptor's ${size} bytes`, digest);
      }
      await writer.write(chunk);
      options.progress?.(offset + chunk.length, size);
      options.signal?.throwIfAborted();
    }
  } finally {
    stream.destroy();
  }
}
