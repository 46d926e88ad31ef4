/**
 * Compression of a layer for a push: the layer tar in, the compressed blob out, with both
 * digests — the blob's (the manifest's descriptor) and the tar's (the config's diff_id) — and
 * both sizes, measured on the bytes as they pass.
 *
 * The output is deterministic for a given compressor: Node's zlib writes a gzip header with
 * mtime 0, no name and OS 3; `pigz -n` stores no name and no time either, and its output does
 * not depend on its thread count; `zstd -T0` output is the same for any worker count (it differs
 * from `--single-thread`, which is never used). Different compressors give different bytes, so
 * the diff_id, not the blob digest, is a layer's stable identity.
 *
 * gzip defaults to Node's zlib, in-process. Measured here on 40 MB of /usr/lib as a tar (level 6):
 * Node's zlib (Chromium's, with SIMD) spent 1.8 CPU-seconds, `pigz -n -6` 2.6–2.8 CPU-seconds for
 * the same bytes, whatever its thread count. pigz wins on wall time only with idle cores (images.md
 * §8: 62–119 vs 45–54 MB/s on 2 idle CPUs); on a loaded machine (load 10 on 2 CPUs during this
 * measurement: zlib 10–17 MB/s, pigz 9–10 MB/s) it is slower and costs 1.5× the CPU, and zlib's
 * bytes do not depend on which pigz is installed. `gzip: 'pigz'` asks for it.
 * zstd (`zstd -3 -T0`) spent 0.45 CPU-seconds on the same tar, for a slightly smaller blob.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, type Hash } from 'node:crypto';
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { PassThrough, type Readable, Transform, type TransformCallback, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { BerthError } from '../common/errors.js';
import { type Compression, MediaType } from '../oci/image.js';

export interface CompressOptions {
  compression: Compression;
  /** gzip 1–9 (default 6), zstd 1–19 (default 3) */
  level?: number;
  /** which gzip: Node's zlib (the default) or `pigz -n` (faster on idle cores, costlier in CPU) */
  gzip?: 'zlib' | 'pigz';
  /** the layer's name in messages */
  layer?: string;
  signal?: AbortSignal;
}

export interface CompressResult {
  /** sha256 of the compressed blob */
  digest: string;
  /** bytes of the compressed blob */
  size: number;
  /** sha256 of the uncompressed tar */
  diffId: string;
  uncompressedSize: number;
}

export interface CompressedLayer {
  /** the compressed bytes; the caller must read it to the end (into the content store) */
  stream: Readable;
  /** settles when the stream has ended (or failed) */
  result: Promise<CompressResult>;
}

/** The OCI media type of a layer blob compressed so. */
export function layerMediaType(compression: Compression): string {
  return compression === 'gzip' ? MediaType.ociLayerGzip : compression === 'zstd' ? MediaType.ociLayerZstd : MediaType.ociLayer;
}

/** Hashes and counts what passes, unchanged; `beforeEnd` may fail the stream at its end. */
class Measure extends Transform {
  readonly hash: Hash = createHash('sha256');
  size = 0;
  constructor(private readonly beforeEnd?: () => Promise<void>) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.hash.update(chunk);
    this.size += chunk.length;
    cb(null, chunk);
  }
  override _flush(cb: TransformCallback): void {
    if (this.beforeEnd) this.beforeEnd().then(() => cb(), cb);
    else cb();
  }
  digest(): string {
    return `sha256:${this.hash.digest('hex')}`;
  }
}

/** Where `name` is on PATH (probed once per process). */
const found = new Map<string, string | undefined>();
export function findTool(name: string): string | undefined {
  if (!found.has(name)) {
    let at: string | undefined;
    for (const dir of (process.env.PATH ?? '/usr/bin:/bin').split(':')) {
      if (!dir) continue;
      try {
        accessSync(path.join(dir, name), constants.X_OK);
        at = path.join(dir, name);
        break;
      } catch {}
    }
    found.set(name, at);
  }
  return found.get(name);
}

/** A compressor process as a stream stage; a non-zero exit fails the stream at its end. */
function tool(file: string, args: string[], layer: string): { stdin: Writable; child: ChildProcess; exited: () => Promise<void> } {
  const child = spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    if (stderr.length < 4096) stderr += d;
  });
  const done = new Promise<void>((resolve, reject) => {
    child.once('error', (err) =>
      reject(
        new BerthError('unavailable', `compress layer '${layer}': ${path.basename(file)}: ${err.message}`, { cause: err, object: layer }),
      ),
    );
    child.once('close', (code, signal) => {
      if (code === 0) return resolve();
      const why = signal ? `killed by ${signal}` : `exit status ${code}`;
      reject(new BerthError('internal', `compress layer '${layer}': ${path.basename(file)}: ${why}: ${stderr.trim()}`, { object: layer }));
    });
  });
  done.catch(() => {}); // observed through exited()
  return { stdin: child.stdin!, child, exited: () => done };
}

/**
 * Compresses `input` (an uncompressed layer tar). Read `stream` to the end; `result` then holds
 * both digests. Aborting (options.signal) or a failing compressor fails both. Throws at once
 * (not-found) when the compressor asked for is not installed.
 */
export function compressLayer(input: Readable, options: CompressOptions): CompressedLayer {
  const layer = options.layer ?? 'layer';
  const opts = options.signal ? { signal: options.signal } : {};
  const tar = new Measure();
  const stream = new PassThrough();
  let out: Measure;
  let runs: Promise<void>[];
  let kill: (() => void) | undefined;
  let ending = () => {};
  let cause: unknown;
  const pigz = options.compression === 'gzip' && options.gzip === 'pigz' ? findTool('pigz') : undefined;
  if (options.gzip === 'pigz' && options.compression === 'gzip' && !pigz) {
    throw new BerthError('not-found', `compress layer '${layer}': pigz is not installed`, { object: layer });
  }
  if (options.compression === 'none' || (options.compression === 'gzip' && !pigz)) {
    out = new Measure();
    const gzip = options.compression === 'gzip' ? [createGzip({ level: options.level ?? 6 })] : [];
    runs = [pipeline([input, tar, ...gzip, out, stream], opts)];
  } else {
    const [file, args] =
      options.compression === 'gzip'
        ? [pigz!, ['-n', `-${options.level ?? 6}`, '-c']]
        : [findTool('zstd'), ['-q', `-${options.level ?? 3}`, '-T0', '-c']];
    if (!file) throw new BerthError('not-found', `compress layer '${layer}': zstd is not installed`, { object: layer });
    const proc = tool(file, args, layer);
    kill = () => proc.child.kill('SIGKILL');
    // the stream ends only after the process exited with status 0
    out = new Measure(proc.exited);
    // The blob ends only when the tar was all written and the process exited with status 0: a
    // tar that failed half-way must not look like a shorter, complete blob to the reader.
    runs = [
      pipeline(input, tar, proc.stdin, opts).catch((err) => {
        // the tar side failed first (not an EPIPE from a compressor that died): that is the cause
        if ((err as NodeJS.ErrnoException).code !== 'EPIPE') cause = err;
        kill?.();
        throw err;
      }),
      pipeline(proc.child.stdout!, out, stream, { ...opts, end: false }),
    ];
    ending = () => stream.end();
  }
  const result = (async (): Promise<CompressResult> => {
    const settled = await Promise.allSettled(runs);
    const failures = settled.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
    if (failures.length === 0) {
      ending();
      return { digest: out.digest(), size: out.size, diffId: tar.digest(), uncompressedSize: tar.size };
    }
    kill?.();
    // a failing tar is the cause when there is one (the compressor was killed for it); otherwise
    // the compressor's own report (exit status, stderr) says more than the EPIPE it caused
    const err = cause ?? failures.find((f) => f instanceof BerthError) ?? failures[0];
    const wrapped =
      err instanceof BerthError
        ? err
        : new BerthError('internal', `compress layer '${layer}': ${(err as Error).message}`, { cause: err, object: layer });
    stream.destroy(wrapped);
    throw wrapped;
  })();
  result.catch(() => {}); // the stream carries the error to a reader that does not await result
  return { stream, result };
}
