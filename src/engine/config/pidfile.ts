/**
 * berthd's pid file. Written atomically (a reader sees no pid or the whole pid), refused while
 * it names a live berthd — judged by /proc/<pid>/cmdline, since a pid left by a crash is soon
 * reused by some other process, which must not keep the daemon from starting — and removed at
 * shutdown only if it still names this process.
 *
 * The file alone cannot stop two daemons started at the same moment (both find no file, both
 * write one): `claimPidfile` first takes a lock the kernel drops when its holder dies
 * (common/lock.ts), so of two racing daemons exactly one gets past it.
 */
import { mkdirSync, readFileSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import { errnoCode, fromErrno, precondition } from '../../common/errors.js';
import { writeFileAtomic } from '../../common/fs.js';
import { lockNamed } from '../../common/lock.js';

/** Does this NUL-separated command line look like berthd's? (`berthd`, `node …/berthd.cjs`, `node --import tsx …/berthd.ts`) */
export function looksLikeBerthd(cmdline: string): boolean {
  return cmdline
    .split('\0')
    .filter((a) => a !== '')
    .slice(0, 4)
    .some((a) => /^berthd(\.(c?js|mjs|ts))?$/.test(path.basename(a)));
}

/** The pid in the file, or undefined (no file, or not a pid). */
export function readPidfile(file: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw fromErrno('read pid file', file, err);
  }
  const t = text.trim();
  return /^[1-9][0-9]{0,9}$/.test(t) ? Number(t) : undefined;
}

/** The process's command line, or undefined if it does not exist. */
function cmdlineOf(pid: number, proc: string): string | undefined {
  try {
    return readFileSync(path.join(proc, String(pid), 'cmdline'), 'utf8');
  } catch {
    return undefined;
  }
}

export interface Pidfile {
  readonly path: string;
  /** removes the file if it still holds our pid (idempotent) */
  remove(): void;
  [Symbol.dispose](): void;
}

/**
 * Writes `pid` (default this process's) to `file`, creating its directory. Throws
 * failed-precondition while another live berthd holds it; a stale file is replaced.
 * `proc` is the procfs root (tests point it at a fake).
 */
export function writePidfile(file: string, options: { pid?: number; proc?: string } = {}): Pidfile {
  const pid = options.pid ?? process.pid;
  const proc = options.proc ?? '/proc';
  const old = readPidfile(file);
  if (old !== undefined && old !== pid) {
    const cmd = cmdlineOf(old, proc);
    if (cmd !== undefined && looksLikeBerthd(cmd)) {
      throw precondition(`pid file found, ensure berthd is not running or delete ${file}`, file);
    }
  }
  try {
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o755 });
  } catch (err) {
    throw fromErrno('create pid file directory', path.dirname(file), err);
  }
  try {
    writeFileAtomic(file, `${pid}\n`, { mode: 0o644, durable: false });
  } catch (err) {
    throw fromErrno('write pid file', file, err);
  }
  const remove = () => {
    try {
      if (readPidfile(file) === pid) unlinkSync(file);
    } catch {
      // already gone, or unreadable: nothing of ours to remove
    }
  };
  return { path: file, remove, [Symbol.dispose]: remove };
}

export interface ClaimedPidfile extends Pidfile, AsyncDisposable {
  /** removes the file and releases the lock */
  release(): Promise<void>;
}

/**
 * `writePidfile` under an exclusive lock named for the file, held until `release()` (or the
 * process's death): the daemon's guard against a second copy of itself on the same pid file.
 */
export async function claimPidfile(file: string, options: { pid?: number; proc?: string } = {}): Promise<ClaimedPidfile> {
  const dir = path.dirname(path.resolve(file));
  try {
    mkdirSync(dir, { recursive: true, mode: 0o755 });
  } catch (err) {
    throw fromErrno('create pid file directory', dir, err);
  }
  const lock = await lockNamed(dir, `pidfile:${path.basename(file)}`, { namespace: 'berthd', wait: false });
  if (lock === undefined) throw precondition(`pid file found, ensure berthd is not running or delete ${file}`, file);
  let pf: Pidfile;
  try {
    pf = writePidfile(file, options);
  } catch (err) {
    await lock.release();
    throw err;
  }
  const release = async () => {
    pf.remove();
    await lock.release();
  };
  return { ...pf, release, [Symbol.asyncDispose]: release };
}
