/**
 * Reading a container's json-file log the way `docker logs` does (moby's jsonfilelog reader
 * and daemon/logs.go): the files oldest first, `tail` taken from the end backwards, then
 * `since`/`until`, then the stream selection; with `follow`, new entries as they are written,
 * across rotations, until the container's exit is known and everything before it delivered.
 */
import type { LogEntry } from './entry.js';
import { decodeEntry } from './entry.js';
import { type LogFileHandle, type LogFileSystem, nodeLogFs, openLogFiles } from './files.js';
import { LineCursor, tailStart } from './lines.js';
import { Wakeup } from './wake.js';

export interface ReadLogsOptions {
  /** Entries of stdout (default true). */
  stdout?: boolean;
  /** Entries of stderr (default true). */
  stderr?: boolean;
  /** Skip entries before this time (nanoseconds since the epoch; parseSince). */
  since?: bigint;
  /** End at the first entry after this time (nanoseconds; parseUntil). */
  until?: bigint;
  /**
   * The last `tail` entries only (-1 or undefined: all). As in Docker, counted before `since`
   * and the stream selection apply, so `tail=5&stderr=0` may give fewer than 5.
   */
  tail?: number;
  /** Keep reading what is written until `done`. */
  follow?: boolean;
  /**
   * The container's exit: resolve it once the shim has written its exit record (the shim
   * writes the record after the drained output and the fsync'd log), and a follower ends as
   * soon as it has delivered everything the log holds.
   */
  done?: Promise<unknown>;
  /** The reader is no longer wanted (the client went away): end at once. */
  signal?: AbortSignal;
  /**
   * Called once the log's files as they are now are open (or found missing), when the first
   * `next()` has run that far: from then on they stay readable even if the container and its
   * log are removed.
   */
  onOpen?: () => void;
  /** The file system (tests count the bytes read through it). */
  fs?: LogFileSystem;
  /** A follower's fallback poll interval in ms, besides fs.watch (default 500). */
  pollMs?: number;
}

/**
 * The entries of the log at `path` (its rotated files `path.1`… included). A missing log
 * yields nothing (or, following, what appears until `done`); lines that are not entries are
 * skipped. Leaving the loop early (break, return, or `signal`) closes everything.
 */
export function readLogs(path: string, opts: ReadLogsOptions = {}): AsyncIterable<LogEntry> {
  return {
    [Symbol.asyncIterator](): AsyncIterator<LogEntry> {
      const stop = new AbortController();
      const onAbort = () => stop.abort();
      if (opts.signal?.aborted) stop.abort();
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      const gen = new Reader(path, opts, stop.signal).run();
      const unlink = () => opts.signal?.removeEventListener('abort', onAbort);
      return {
        next: async () => {
          try {
            const r = await gen.next();
            if (r.done) unlink();
            return r;
          } catch (err) {
            unlink();
            throw err;
          }
        },
        // An async generator queues return() behind a pending next(): abort first, so that a
        // follower waiting for lines wakes up and sees it.
        return: async () => {
          stop.abort();
          unlink();
          await gen.return(undefined);
          return { done: true, value: undefined };
        },
      };
    },
  };
}

class Reader {
  private readonly fs: LogFileSystem;
  private readonly held = new Set<LogFileHandle>();
  private readonly wake: Wakeup | undefined;
  /** `done` has resolved: the next pass that finds nothing new is the last. */
  private exited: boolean;
  /** An entry after `until` was seen. */
  private ended = false;

  constructor(
    private readonly path: string,
    private readonly o: ReadLogsOptions,
    private readonly signal: AbortSignal,
  ) {
    this.fs = o.fs ?? nodeLogFs;
    this.exited = !o.follow;
    if (o.follow) {
      const wake = new Wakeup(path, o.pollMs ?? 500);
      this.wake = wake;
      const exit = () => {
        this.exited = true;
        wake.kick();
      };
      o.done?.then(exit, exit);
      signal.addEventListener('abort', () => wake.kick(), { once: true });
    }
  }

  private get over(): boolean {
    return this.ended || this.signal.aborted;
  }

  async *run(): AsyncGenerator<LogEntry> {
    try {
      yield* this.read();
    } finally {
      this.wake?.close();
      await Promise.all([...this.held].map((f) => f.close().catch(() => {})));
      this.held.clear();
    }
  }

  private async *read(): AsyncGenerator<LogEntry> {
    // The files as they are now; following, wait for the first one to appear.
    let files: LogFileHandle[];
    for (;;) {
      const exited = this.exited;
      files = await this.open();
      this.o.onOpen?.();
      if (files.length > 0) break;
      if (exited || this.over) return;
      await this.wake!.wait();
    }
    const tail = this.o.tail ?? -1;
    const start = tail >= 0 ? await tailStart(files, tail) : { index: 0, offset: 0 };
    for (const f of files.slice(0, start.index)) await this.close(f);
    files = files.slice(start.index);
    // Every file but the last is rotated: the shim no longer writes to it.
    let cursor = new LineCursor(files[0]!, start.offset);
    for (const f of files.slice(1)) {
      yield* this.drain(cursor);
      await this.close(cursor.file);
      cursor = new LineCursor(f);
    }
    for (;;) {
      const exited = this.exited;
      yield* this.drain(cursor);
      if (this.over || !this.o.follow) return;
      const now = await this.fs.identity(this.path);
      if (now === cursor.file.id) {
        // Nothing new is coming after an exit, nor within `until` once it is past.
        if (exited || (this.o.until !== undefined && nowNs() > this.o.until)) return;
        await this.wake!.wait();
        continue;
      }
      // Rotated (or removed). The shim closes the file before renaming it, so ours is complete:
      // what follows it is every newer file, oldest first — all of them if ours is gone.
      const all = await this.open();
      const k = all.findIndex((f) => f.id === cursor.file.id);
      const newer = all.slice(k + 1);
      for (const f of all.slice(0, k + 1)) await this.close(f);
      if (newer.length === 0) {
        if (exited) return;
        await this.wake!.wait();
        continue;
      }
      yield* this.drain(cursor);
      await this.close(cursor.file);
      for (const f of newer.slice(0, -1)) {
        yield* this.drain(new LineCursor(f));
        await this.close(f);
        if (this.over) return;
      }
      cursor = new LineCursor(newer.at(-1)!);
    }
  }

  /** The wanted entries from the cursor to the end of its file. */
  private async *drain(cursor: LineCursor): AsyncGenerator<LogEntry> {
    const { since, until } = this.o;
    const stdout = this.o.stdout !== false;
    const stderr = this.o.stderr !== false;
    while (!this.over) {
      const lines = await cursor.next();
      if (!lines) return;
      for (const raw of lines) {
        const e = decodeEntry(raw);
        if (!e) continue; // garbage: skipped, never fatal
        if (since !== undefined && e.timeNs < since) continue;
        if (until !== undefined && e.timeNs > until) {
          this.ended = true;
          return;
        }
        if (e.stream === 'stdout' ? !stdout : !stderr) continue;
        yield e;
        if (this.over) return;
      }
    }
  }

  private async open(): Promise<LogFileHandle[]> {
    const files = await openLogFiles(this.path, this.fs);
    for (const f of files) this.held.add(f);
    return files;
  }

  private async close(f: LogFileHandle): Promise<void> {
    if (this.held.delete(f)) await f.close();
  }
}

function nowNs(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}
