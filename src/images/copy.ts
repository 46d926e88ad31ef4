/**
 * Moving blobs between the content store and the outside (layout directories, archives), with
 * the digest checked on every copy: a blob is never written under a name it does not hash to.
 */
import { createHash } from 'node:crypto';
import { constants, createWriteStream } from 'node:fs';
import { lstat, open, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BerthError, fromErrno, isKind } from '../common/errors.js';
import { uniqueName } from '../common/fs.js';
import type { ContentStore } from '../content/types.js';
import type { Descriptor } from '../oci/image.js';

/**
 * Writes a stream into the content store under its own digest (or `expected`, which it must
 * match), returning the digest and size. The blob may already be stored: then it is verified
 * by the stream's bytes all the same, and the stored one kept.
 */
export async function storeStream(
  content: ContentStore,
  input: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  options: {
    ref: string;
    expected?: string;
    size?: number;
    labels?: Record<string, string>;
    /** called with the digest before the blob is committed: the caller's lease takes it here, so GC never sees it unprotected */
    protect?: (digest: string) => Promise<void>;
  },
): Promise<{ digest: string; size: number }> {
  const writerOpts: Parameters<ContentStore['writer']>[0] = { ref: options.ref };
  if (options.expected) writerOpts.expected = options.expected;
  if (options.size !== undefined) writerOpts.total = options.size;
  let w: Awaited<ReturnType<ContentStore['writer']>> | undefined;
  try {
    w = await content.writer(writerOpts);
  } catch (err) {
    if (!isKind(err, 'already-exists') || !options.expected) throw err;
  }
  if (!w) {
    // already stored: still read the input through, checking it is what it claims to be
    const h = createHash('sha256');
    let size = 0;
    for await (const c of input) {
      h.update(c);
      size += c.length;
    }
    const digest = `sha256:${h.digest('hex')}`;
    if (digest !== options.expected) {
      throw new BerthError('invalid-argument', `blob '${options.expected}': content digest ${digest} does not match`, {
        object: options.expected,
      });
    }
    return { digest, size };
  }
  try {
    if (w.status().offset > 0) await w.truncate(0);
    let size = 0;
    for await (const c of input) {
      await w.write(c);
      size += c.length;
    }
    const digest = w.digest();
    if (options.expected && digest !== options.expected) {
      throw new BerthError('invalid-argument', `blob '${options.expected}': content digest ${digest} does not match`, {
        object: options.expected,
      });
    }
    if (options.size !== undefined && size !== options.size) {
      throw new BerthError('invalid-argument', `blob '${digest}': size ${size} does not match the declared ${options.size}`, {
        object: digest,
      });
    }
    await options.protect?.(digest);
    try {
      await w.commit(size, digest, options.labels ? { labels: options.labels } : undefined);
    } catch (err) {
      if (!isKind(err, 'already-exists')) throw err;
      if (options.labels && Object.keys(options.labels).length) {
        await content.update(
          { digest, labels: options.labels },
          Object.keys(options.labels).map((k) => `labels.${k}`),
        );
      }
    }
    return { digest, size };
  } catch (err) {
    await w.truncate(0).catch(() => {});
    throw err;
  } finally {
    await w.close().catch(() => {});
    await content.abort(options.ref).catch(() => {});
  }
}

/** A transform-free pass that hashes what flows through, failing at the end on a mismatch. */
export async function* verified(input: AsyncIterable<Uint8Array>, desc: Descriptor): AsyncGenerator<Uint8Array> {
  const h = createHash('sha256');
  let size = 0;
  for await (const c of input) {
    h.update(c);
    size += c.length;
    yield c;
  }
  const digest = `sha256:${h.digest('hex')}`;
  if (digest !== desc.digest || size !== desc.size) {
    throw new BerthError('internal', `blob '${desc.digest}': the stored copy hashes to ${digest} (${size} bytes)`, { object: desc.digest });
  }
}

/** Copies a stored blob to `file` (atomically: temp file, then rename), verifying it on the way. */
export async function copyBlobToFile(content: ContentStore, desc: Descriptor, file: string): Promise<void> {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${uniqueName()}.tmp`);
  try {
    await pipeline(
      content.reader(desc.digest),
      (src: Readable) => verified(src, desc),
      createWriteStream(tmp, { mode: 0o444 }) as Writable,
    );
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err instanceof BerthError ? err : fromErrno('write', file, err);
  }
}

/**
 * Opens `rel` under `root` refusing symlinks on the way (a layout is data: its blobs are files,
 * never links out of it). Returns a read stream.
 */
export async function openInside(root: string, rel: string): Promise<Readable> {
  const parts = rel.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw new BerthError('invalid-argument', `path '${rel}': escapes the layout`, { object: rel });
  let cur = root;
  for (const p of parts) {
    cur = path.join(cur, p);
    let st: Awaited<ReturnType<typeof lstat>>;
    try {
      st = await lstat(cur);
    } catch (err) {
      throw fromErrno('open', cur, err);
    }
    if (st.isSymbolicLink()) throw new BerthError('invalid-argument', `open '${cur}': is a symbolic link`, { object: cur });
  }
  try {
    const fh = await open(cur, constants.O_RDONLY | constants.O_NOFOLLOW);
    return fh.createReadStream();
  } catch (err) {
    throw fromErrno('open', cur, err);
  }
}

/** `blobs/sha256/<hex>` for a digest. */
export function blobPath(digest: string): string {
  const [alg, hex] = digest.split(':');
  return `blobs/${alg}/${hex}`;
}
