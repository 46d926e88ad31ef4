/**
 * Layer apply and layer diff: the two directions between an OCI layer tar and a snapshot's
 * directory. Apply is carried out by one C helper process per layer (native/unpack), reading
 * the uncompressed tar on stdin; containment is the kernel's (openat2 RESOLVE_IN_ROOT), not
 * string checks. Diff walks an overlay upperdir (or compares two trees) and writes a
 * reproducible OCI layer.
 */
import type { Readable, Writable } from 'node:stream';
import type { Compression } from '../oci/image.js';

export interface ApplyTarget {
  /** host directory written into: an overlay upperdir, or a flattened full copy */
  dir: string;
  /** overlay: whiteouts become `c 0 0` and opaque dirs `trusted.overlay.opaque=y`; flat: they delete */
  mode: 'overlay' | 'flat';
  /** the lower layers' directories, top first: implied parents copy their metadata from these */
  parents: string[];
}

export interface ApplyOptions {
  compression: Compression;
  target: ApplyTarget;
  /** the layer's name in messages: its digest, or the archive path */
  layer: string;
  /** when given, the uncompressed digest must equal it, or apply fails naming the layer */
  expectedDiffId?: string;
  /** in a user namespace devices are skipped and opaque marks use user.overlay.opaque */
  userns?: boolean;
  signal?: AbortSignal;
  /** false skips the final syncfs (the caller syncs, or a test); default true */
  sync?: boolean;
  /**
   * A speculative apply: overlay mode into a parentless upperdir before the lower layers exist.
   * Every question the apply would have asked the lowers is returned in `lookups`; when
   * `checkLookups` says the lowers answer none of them, the result is the one an apply on
   * those lowers gives, byte for byte (else apply again, with them).
   */
  recordLookups?: boolean;
}

export interface ApplyResult {
  /** sha256 of the uncompressed tar, all of it (trailing bytes after the end marker included) */
  diffId: string;
  /** uncompressed bytes */
  size: number;
  entries: number;
  /** with `recordLookups`: the recorded questions (opaque; for `checkLookups`) */
  lookups?: string[];
}

/** What a fed apply hands its feeder (see ApplyFeed). */
export interface FeedPort {
  /** where the layer's bytes go (its end: every byte was fed); with a followed file, only the end */
  stdin: Writable;
  /**
   * To be called with the layer's first bytes (at least 4, or all there are): on a mismatch with
   * the media type, apply stops and fails with the message a stream input would give.
   */
  check(head: Buffer): void;
  /** The feeder failed: apply kills its processes and fails with `read: <reason>`, not applying a truncated layer. */
  abort(reason: Error): void;
}

/**
 * A file the feeder's bytes land in as they arrive (a pull's ingest file, written by
 * berth-ingest): apply reads it itself as it grows, up to `size` bytes, and `stdin` only says
 * when it is whole (its end). `fd` is the feeder's, open until `attach` or apply's failure.
 */
export interface FollowedFile {
  fd: number;
  size: number;
}

/**
 * Input written by the caller, as it arrives: apply calls `attach` once its first process runs.
 * Before that it waits for `followed`: a file to read as it grows (then the bytes never pass
 * through Node, nor through a pipe), or undefined, and the feeder writes the bytes into
 * `stdin`. `attach` is never called when apply fails first.
 */
export interface ApplyFeed {
  readonly kind: 'feed';
  readonly followed?: Promise<FollowedFile | undefined>;
  attach(port: FeedPort): void;
}

/**
 * The layer's bytes: a stream, a file (a committed blob) that the decompressor or the helper
 * then reads itself, without the bytes passing through Node, or a feed.
 */
export type ApplyInput = Readable | { file: string } | ApplyFeed;

export function isFeed(input: ApplyInput): input is ApplyFeed {
  return (input as ApplyFeed).kind === 'feed';
}

export type ApplyLayer = (input: ApplyInput, options: ApplyOptions) => Promise<ApplyResult>;

export interface DiffOptions {
  /** the lower layers' directories (top first), needed to tell adds from modifies and to skip whiteouts of absent paths */
  lowers: string[];
  /** overlay: `upper` is an upperdir (whiteouts as `c 0 0`, opaque xattrs); flat: `upper` is a full tree compared with the lowers */
  mode: 'overlay' | 'flat';
  /** clamps every mtime to at most this (seconds), for reproducible layers */
  sourceDateEpoch?: number;
}

export type DiffLayer = (upper: string, options: DiffOptions) => Readable;
