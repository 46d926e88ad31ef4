/**
 * The seam for the runtime's effects on the host, as youki's `Syscall` trait is: the cgroup
 * filesystem, /proc and signals go through one `Effects` object, so that unit tests give a
 * recording fake (effects-fake.ts) and check, without root, which cgroup files are written in
 * which order and what a failed create or a delete removes. `hostEffects` is the real host.
 *
 * The state root (plain files under --root) is not behind the seam: tests give it a temporary
 * directory. Process spawning is behind the `Launcher` interface (launcher/launcher.ts).
 */
import { closeSync, constants, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmdirSync, writeSync } from 'node:fs';

export interface Effects {
  /** The file's content, or undefined if it cannot be read. */
  readFile(file: string): string | undefined;
  /** One write(2) of `value` to an existing file (cgroup files take one value per write). */
  writeFile(file: string, value: string): void;
  /**
   * One open of an existing file, then one write(2) per value, in order (the device rules of
   * cgroup v1: ~11 per container, each otherwise an open, a write and a close). A failed write
   * throws its error with `valueIndex` set. Optional: without it, writeFile per value.
   */
  writeEach?(file: string, values: readonly string[]): void;
  exists(file: string): boolean;
  /** mkdir(2); with `recursive`, missing parents too and no EEXIST. */
  mkdir(dir: string, opts?: { recursive?: boolean }): void;
  rmdir(dir: string): void;
  /** Names of the subdirectories of `dir` (throws if it cannot be read). */
  subdirs(dir: string): string[];
  /** Names in `dir` (throws if it cannot be read). */
  readdir(dir: string): string[];
  /** kill(2); throws ESRCH when there is no such process. */
  kill(pid: number, signal: NodeJS.Signals | number): void;
}

export const hostEffects: Effects = {
  readFile(file) {
    try {
      return readFileSync(file, 'utf8');
    } catch {
      return undefined;
    }
  },
  writeFile(file, value) {
    const fd = openSync(file, constants.O_WRONLY);
    try {
      writeSync(fd, value);
    } finally {
      closeSync(fd);
    }
  },
  writeEach(file, values) {
    const fd = openSync(file, constants.O_WRONLY);
    try {
      for (const [i, v] of values.entries()) {
        try {
          writeSync(fd, v);
        } catch (err) {
          throw Object.assign(err as Error, { valueIndex: i });
        }
      }
    } finally {
      closeSync(fd);
    }
  },
  exists: (file) => existsSync(file),
  mkdir(dir, opts) {
    mkdirSync(dir, { recursive: opts?.recursive ?? false });
  },
  rmdir: (dir) => rmdirSync(dir),
  subdirs: (dir) =>
    readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name),
  readdir: (dir) => readdirSync(dir),
  kill: (pid, signal) => process.kill(pid, signal),
};
