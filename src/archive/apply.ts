/**
 * ApplyLayer: feeds one layer to berth-unpack (native/unpack), which decompresses it (gzip with
 * ISA-L's inflate, zstd with libzstd: `--decompress`), applies it inside the target directory
 * and hashes the uncompressed stream. This file only wires processes and streams; the
 * containment is the helper's (openat2 RESOLVE_IN_ROOT).
 *
 * Data path: one process per layer. Its stdin is the stored blob's descriptor, a pipe Node pumps
 * a stream into or a feeder writes into, or, during a pull, the ingest file berth-ingest is
 * writing, which the helper follows as it grows (`--follow`; its stdin then only ends). The layer's
 * bytes are decompressed and hashed in that process: no decompressor process, no pipe between
 * the two (a copy of every uncompressed byte, and a process per layer, saved). The helper is
 * started with posix_spawn (src/native/spawn.ts), not by a fork of Node, and its stdin is a
 * real pipe, which it grows to 1 MiB.
 *
 * Every path, success, failure or abort, ends with the child reaped and every pipe closed.
 */
import { existsSync } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import path from 'node:path';
import { Readable, type Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { BerthError, type ErrorKind } from '../common/errors.js';
import { drainOrClose } from '../common/streams.js';
import { type ChildLike, spawnProcess } from '../native/spawn.js';
import type { Compression } from '../oci/image.js';
import { type ApplyFeed, type ApplyInput, type ApplyLayer, type ApplyOptions, type ApplyResult, isFeed } from './types.js';

/**
 * After a speculative apply (`recordLookups`): true when the lower layers `parents` (top first)
 * answer none of the recorded lookups, i.e. the speculative upperdir is exactly what an apply
 * on them would have written. False means: apply again, with the parents.
 */
export async function checkLookups(lookups: string[], parents: string[], options: { userns?: boolean } = {}): Promise<boolean> {
  if (lookups.length === 0) return true;
  if (parents.length === 0) return true;
  const args = ['--check-lookups', '--mode', 'overlay'];
  for (const p of parents) args.push('--parent', p);
  if (options.userns) args.push('--userns');
  const child = watch('berth-unpack', spawnProcess(unpackPath(), args, ['pipe', 'pipe', 'pipe']));
  let stdout = '';
  child.proc.stdout?.setEncoding('utf8');
  child.proc.stdout?.on('data', (d: string) => {
    stdout += d;
  });
  child.proc.stdin?.end(`${lookups.join('\n')}\n`);
  const exit = await child.exited;
  if (exit.code !== 0) {
    const e = parseHelperError(child.stderr);
    throw new BerthError(
      'internal',
      `berth-unpack --check-lookups: ${e ? `${e.message} (${e.errno})` : `exit ${exit.code ?? exit.signal}`}`,
    );
  }
  return stdout.trim() === 'absent';
}

/** Finds a helper of the image library next to the bundle (dist/ → native/build/) or in the source tree. */
export function helperPath(name: 'berth-unpack' | 'berth-ingest'): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (const candidate of [path.join(here, '../native/build', name), path.join(here, '../../native/build', name)]) {
    if (existsSync(candidate)) return candidate;
  }
  throw new BerthError('not-found', `find '${name}': not built (run 'npm run build')`, { object: name });
}

export function unpackPath(): string {
  return helperPath('berth-unpack');
}

/** What the first bytes say the stream is. */
export function sniff(head: Buffer): Compression | 'short' {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 4) {
    const m = head.readUInt32LE(0);
    // a zstd frame, or a skippable frame (0x184D2A50..5F)
    if (m === 0xfd2fb528 || (m & 0xfffffff0) === 0x184d2a50) return 'zstd';
    return 'none';
  }
  return 'short';
}

const HELPER_ERRNO_KINDS: Record<string, ErrorKind> = {
  ENOSPC: 'unavailable',
  EDQUOT: 'unavailable',
  EIO: 'unavailable',
  EROFS: 'unavailable',
  ENOMEM: 'unavailable',
  EMFILE: 'unavailable',
  ENOENT: 'not-found',
  EACCES: 'permission-denied',
};

export interface HelperError {
  errno: string;
  /** the entry's name as the helper printed it (non-printable bytes as \xNN), or undefined */
  entry: string | undefined;
  message: string;
}

/** Parses berth-unpack's `error ERRNAME ENTRY MESSAGE` line (the last one on stderr). */
export function parseHelperError(stderr: string): HelperError | undefined {
  const lines = stderr.split('\n').filter((l) => l.startsWith('error '));
  const m = /^error (\S+) (\S+) (.*)$/.exec(lines.at(-1) ?? '');
  if (!m) return undefined;
  return { errno: m[1] as string, entry: m[2] === '-' ? undefined : m[2], message: m[3] as string };
}

/** Parses the `ok entries=N bytes=B sha256=HEX ...` summary. */
export function parseSummary(stdout: string): { entries: number; size: number; sha256: string } | undefined {
  const m = /^ok entries=(\d+) bytes=(\d+) sha256=([0-9a-f]{64})/m.exec(stdout);
  if (!m) return undefined;
  return { entries: Number(m[1]), size: Number(m[2]), sha256: m[3] as string };
}

/** A helper process followed to its exit, its stderr kept (the last 64 KiB at most). */
export interface Child {
  name: string;
  proc: ChildLike;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr: string;
}

export function watch(name: string, proc: ChildLike): Child {
  const child: Child = {
    name,
    proc,
    stderr: '',
    exited: new Promise((resolve) => {
      proc.once('close', (code, signal) => resolve({ code, signal }));
      proc.once('error', () => resolve({ code: null, signal: null }));
    }),
  };
  proc.stderr?.setEncoding('utf8');
  proc.stderr?.on('data', (d: string) => {
    if (child.stderr.length < 1 << 16) child.stderr += d;
  });
  // a write to a child that died is reported by its exit status, not by an EPIPE
  proc.stdin?.on('error', () => {});
  return child;
}

/** Writes `input` into `dest`, with backpressure, checking the first bytes against `expected`. */
async function pump(input: Readable, dest: Writable, check: (head: Buffer) => void): Promise<void> {
  let head: Buffer | null = Buffer.alloc(0);
  for await (const chunk of input) {
    let data = chunk as Buffer;
    if (head) {
      head = Buffer.concat([head, data]);
      if (head.length < 4) continue;
      check(head);
      data = head;
      head = null;
    }
    if (dest.destroyed || dest.writableEnded) return;
    if (!dest.write(data)) {
      await drainOrClose(dest);
      if (dest.destroyed) return;
    }
  }
  if (head) check(head);
  if (!dest.destroyed) dest.end();
}

export const applyLayer: ApplyLayer = async (source: ApplyInput, options: ApplyOptions): Promise<ApplyResult> => {
  const { layer, compression } = options;
  const fail = (kind: ErrorKind, message: string, cause?: unknown) =>
    new BerthError(kind, `apply layer '${layer}': ${message}`, { object: layer, cause });
  if (options.signal?.aborted) {
    if (source instanceof Readable) source.destroy();
    throw fail('unavailable', 'aborted', options.signal.reason);
  }
  if (source instanceof Readable) return applyStream(source, undefined, options, fail);
  if (isFeed(source)) return applyStream(undefined, undefined, options, fail, source);
  // A file: the helper reads it through its own descriptor (no copy through Node). Its first
  // bytes are checked against the media type here, with a pread that leaves the offset at 0.
  let fh: FileHandle;
  try {
    fh = await open(source.file, 'r');
  } catch (err) {
    throw fail('not-found', `open '${source.file}': ${(err as Error).message}`, err);
  }
  try {
    const head = Buffer.alloc(4);
    const { bytesRead } = await fh.read(head, 0, 4, 0);
    checkHead(head.subarray(0, bytesRead), compression, fail);
    return await applyStream(undefined, fh.fd, options, fail);
  } finally {
    await fh.close().catch(() => {});
  }
};

/** Throws when the first bytes do not match the media type's compression. */
function checkHead(head: Buffer, compression: Compression, fail: (kind: ErrorKind, message: string) => BerthError): void {
  const seen = sniff(head);
  const ok = compression === 'none' ? seen === 'none' || seen === 'short' : seen === compression;
  if (!ok) {
    const what = seen === 'short' ? `only ${head.length} bytes` : seen === 'none' ? 'not compressed' : seen;
    throw fail('invalid-argument', `the media type says ${compression === 'none' ? 'uncompressed' : compression} but the data is ${what}`);
  }
}

/** Runs the helper on `input` (pumped by Node), on `fd` (its stdin) or on what `feed` writes. */
async function applyStream(
  input: Readable | undefined,
  fd: number | undefined,
  options: ApplyOptions,
  fail: (kind: ErrorKind, message: string, cause?: unknown) => BerthError,
  feed?: ApplyFeed,
): Promise<ApplyResult> {
  const { compression, target } = options;

  const args = ['--root', target.dir, '--mode', target.mode];
  for (const p of target.parents) args.push('--parent', p);
  if (compression !== 'none') args.push('--decompress', compression);
  if (options.userns) args.push('--userns');
  if (options.sync === false) args.push('--no-sync');
  if (options.recordLookups) {
    if (target.mode !== 'overlay' || target.parents.length > 0) {
      throw fail('invalid-argument', 'a speculative apply needs an overlay target without parents');
    }
    args.push('--record-lookups');
  }

  // a followed file: the helper reads it as it grows; its stdin only ends (see FollowedFile)
  const followed = feed?.followed ? await feed.followed : undefined;
  if (options.signal?.aborted) throw fail('unavailable', 'aborted', options.signal.reason);
  if (followed) args.push('--follow', '3', '--size', String(followed.size));
  const helper = watch(
    'berth-unpack',
    spawnProcess(unpackPath(), args, [fd ?? 'pipe', 'pipe', 'pipe', ...(followed ? [followed.fd] : [])]),
  );
  // null when the helper reads a file descriptor
  const sink: Writable | null = helper.proc.stdin;
  let stdout = '';
  helper.proc.stdout?.setEncoding('utf8');
  helper.proc.stdout?.on('data', (d: string) => {
    stdout += d;
  });

  let mismatch: BerthError | undefined;
  const check = (head: Buffer) => {
    const seen = sniff(head);
    const ok = compression === 'none' ? seen === 'none' || seen === 'short' : seen === compression;
    if (!ok) {
      const what = seen === 'short' ? `only ${head.length} bytes` : seen === 'none' ? 'not compressed' : seen;
      mismatch = fail(
        'invalid-argument',
        `the media type says ${compression === 'none' ? 'uncompressed' : compression} but the data is ${what}`,
      );
      throw mismatch;
    }
  };

  const killAll = () => {
    if (helper.proc.exitCode === null && helper.proc.signalCode === null) helper.proc.kill('SIGKILL');
  };
  let aborted = false;
  const onAbort = () => {
    aborted = true;
    killAll();
    input?.destroy();
    sink?.destroy();
  };
  options.signal?.addEventListener('abort', onAbort, { once: true });

  let inputError: unknown;
  let pumped = false;
  if (feed && sink) {
    const port = sink;
    feed.attach({
      stdin: port,
      check: (head) => {
        try {
          check(head);
        } catch {
          killAll();
        }
      },
      abort: (reason) => {
        inputError ??= reason;
        // the helper must not apply a truncated layer as if it were whole
        killAll();
        port.destroy();
      },
    });
  }
  // a helper that stops early (a refused entry) stops the feeding too: nothing else would
  void helper.exited.then(() => {
    if (!pumped) {
      input?.destroy();
      sink?.destroy();
    }
  });
  try {
    try {
      // a feed is written by the caller: until the helper exits, its stdin stays open
      if (input && sink) {
        await pump(input, sink, check);
        pumped = true;
      }
    } catch (err) {
      inputError = err;
      // the helper must not apply a truncated layer as if it were whole
      killAll();
      sink?.destroy();
    }
    const helperExit = await helper.exited;
    if (aborted || options.signal?.aborted) throw fail('unavailable', 'aborted', options.signal?.reason);
    if (mismatch) throw mismatch;
    const helperError = helperExit.code !== 0 ? parseHelperError(helper.stderr) : undefined;
    // an input that failed truncates the stream: blame it, not the helper's "unexpected end"
    if (inputError && (!helperError || /unexpected end/.test(helperError.message))) {
      throw fail('unavailable', `read: ${(inputError as Error).message ?? inputError}`, inputError);
    }
    if (helperError) {
      const where = helperError.entry === undefined ? '' : `entry '${helperError.entry}': `;
      throw fail(HELPER_ERRNO_KINDS[helperError.errno] ?? 'invalid-argument', `${where}${helperError.message} (${helperError.errno})`);
    }
    if (helperExit.code !== 0) {
      const why = helperExit.signal ? `killed by ${helperExit.signal}` : `exit ${helperExit.code}`;
      throw fail('internal', `berth-unpack ${why}: ${helper.stderr.trim().slice(-500)}`);
    }
    const summary = parseSummary(stdout);
    if (!summary) throw fail('internal', `berth-unpack printed no summary: ${stdout.slice(0, 200)}`);
    const diffId = `sha256:${summary.sha256}`;
    if (options.expectedDiffId !== undefined && options.expectedDiffId !== diffId) {
      throw fail('invalid-argument', `wrong diff id: the uncompressed layer is ${diffId}, the config says ${options.expectedDiffId}`);
    }
    const result: ApplyResult = { diffId, size: summary.size, entries: summary.entries };
    if (options.recordLookups) result.lookups = stdout.split('\n').filter((l) => l.startsWith('lookup '));
    return result;
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    killAll();
    await helper.exited;
    helper.proc.stdin?.destroy();
    helper.proc.stdout?.destroy();
    helper.proc.stderr?.destroy();
  }
}
