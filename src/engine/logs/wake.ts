/**
 * Wakes a log follower when the log's directory changes (fs.watch: appends, renames, creation),
 * with a modest fallback interval for what inotify does not tell (a dropped event, a directory
 * that does not exist yet, a file system without notifications).
 */
import { type FSWatcher, watch } from 'node:fs';
import { basename, dirname } from 'node:path';

export class Wakeup {
  private pending = true;
  private resolve: (() => void) | undefined;
  private watcher: FSWatcher | undefined;
  private closed = false;

  constructor(
    private readonly path: string,
    private readonly intervalMs: number,
  ) {
    this.arm();
  }

  private arm(): void {
    if (this.watcher || this.closed) return;
    const base = basename(this.path);
    try {
      // Not persistent: a wait's timer keeps the process up; an iterator left suspended does not.
      const w = watch(dirname(this.path), { persistent: false }, (_event, name) => {
        if (name === null || String(name).startsWith(base)) this.kick();
      });
      w.on('error', () => {
        w.close();
        if (this.watcher === w) this.watcher = undefined;
        this.kick();
      });
      this.watcher = w;
    } catch {
      // no directory yet, or no inotify watches left: the interval does the work
    }
  }

  /** Something may have changed: the next (or the current) wait returns. */
  kick(): void {
    this.pending = true;
    const r = this.resolve;
    this.resolve = undefined;
    r?.();
  }

  /**
   * Returns once something may have changed since the previous wait returned (at once if it
   * already did), or after the interval.
   */
  async wait(): Promise<void> {
    this.arm();
    if (!this.pending) {
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((r) => {
        this.resolve = r;
        timer = setTimeout(() => this.kick(), this.intervalMs);
      });
      clearTimeout(timer);
    }
    this.pending = false;
  }

  close(): void {
    this.closed = true;
    this.watcher?.close();
    this.watcher = undefined;
    this.kick();
  }
}
