/**
 * The content store's roles, after containerd's: a Provider reads committed blobs, an Ingester
 * writes new ones through an ingest area, a Manager lists, labels and deletes. Content becomes
 * visible only on a verified commit (digest and size), so a reader never sees a partial blob.
 */
import type { Readable } from 'node:stream';

export interface Info {
  digest: string;
  size: number;
  createdAt: Date;
  updatedAt: Date;
  labels: Record<string, string>;
}

export interface Status {
  ref: string;
  /** bytes written so far */
  offset: number;
  /** expected size, 0 when unknown */
  total: number;
  expected?: string;
  startedAt: Date;
  updatedAt: Date;
}

export interface Provider {
  /** A stream of the blob's bytes from `offset`; not-found when the blob is not committed. */
  reader(digest: string, options?: { offset?: number }): Readable;
  readAll(digest: string): Promise<Buffer>;
  /** Host path of the committed blob, for zero-copy consumers (apply, export). */
  path(digest: string): string;
}

export interface WriterOptions {
  ref: string;
  expected?: string;
  total?: number;
}

export interface Writer extends AsyncDisposable {
  readonly ref: string;
  status(): Status;
  write(chunk: Uint8Array): Promise<void>;
  /** The digest of everything written so far. */
  digest(): string;
  truncate(size: 0): Promise<void>;
  /**
   * fsync, verify size and digest (failed-precondition on a mismatch; the writer stays usable),
   * rename into blobs/, fsync the directory, record labels. already-exists when the blob is
   * already committed (the ingest is removed).
   */
  commit(size: number, expected: string, options?: { labels?: Record<string, string> }): Promise<void>;
  /** Releases the ref without removing the partial data (a later writer resumes it). */
  close(): Promise<void>;
  /**
   * Lends the data file to a process that writes the blob from its first byte (berth-ingest):
   * its descriptor, open until `adopt` or `close`. Only while nothing is written; until `adopt`
   * the writer takes no write, truncate or commit. Optional: a store may not have files.
   */
  lend?(): number;
  /**
   * Ends the loan: the borrower wrote `length` bytes that hash to `digest`. After it, commit
   * (which checks the file's size) or truncate; no more writes. Without it, only close: a later
   * writer re-hashes whatever the borrower left.
   */
  adopt?(length: number, digest: string): void;
}

export interface Ingester {
  /**
   * Opens the writer of `ref`, resuming its partial data. unavailable when another writer holds
   * the ref; already-exists at once when `expected` is already committed.
   */
  writer(options: WriterOptions): Promise<Writer>;
  status(ref: string): Promise<Status>;
  listStatuses(prefix?: string): Promise<Status[]>;
  abort(ref: string): Promise<void>;
}

export interface Manager {
  info(digest: string): Promise<Info>;
  /** Replaces labels; with `fieldpaths` ('labels' or 'labels.<key>') updates only those (an empty value deletes). */
  update(info: Pick<Info, 'digest' | 'labels'>, fieldpaths?: string[]): Promise<Info>;
  walk(fn: (info: Info) => void | Promise<void>, filter?: (info: Info) => boolean): Promise<void>;
  delete(digest: string): Promise<void>;
}

export interface ContentStore extends Provider, Ingester, Manager {}
