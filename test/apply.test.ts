/**
 * applyLayer's own duties, with the real helper (which decompresses gzip and zstd itself): the
 * digest covers every uncompressed byte, multi-member gzip and multi-frame zstd are one stream,
 * the media type must match the bytes, a wrong diff id fails, a corrupt or truncated stream is
 * reported as such, and on every path (success,
 * refusal, input error, abort) no child process and no file descriptor is left behind.
 * Needs root (the layers carry uid 0 entries).
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { applyLayer } from '../src/archive/apply.js';
import type { ApplyFeed, ApplyOptions, FeedPort } from '../src/archive/types.js';
import { BerthError, isKind } from '../src/common/errors.js';
import { packTar } from './helpers/tar.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
function setup(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root';
  const r = spawnSync('make', ['-s', '-C', `${ROOT}native`, 'build/berth-unpack'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`make berth-unpack failed:\n${r.stderr}`);
  return undefined;
}
const skip = setup();
const haveZstd = spawnSync('zstd', ['--version']).status === 0;

/** Children of this process, from /proc (any left after applyLayer settles is a leak). */
function children(): number[] {
  const out: number[] = [];
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === process.pid) out.push(Number(pid));
    } catch {}
  }
  return out;
}
const fds = () => readdirSync('/proc/self/fd').length;

function target(t: { after: (fn: () => void) => void }) {
  const dir = mkdtempSync(path.join(tmpdir(), 'berth-apply-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return { dir, mode: 'flat' as const, parents: [] };
}

const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** the layer: a few files, then the end marker, then trailing bytes the digest must cover */
async function layer(): Promise<Buffer> {
  const tar = await packTar([
    { name: 'etc/', type: 'directory' },
    { name: 'etc/hostname', data: 'berth\n' },
    { name: 'bin/big', data: Buffer.alloc(3 << 20, 7) },
  ]);
  return Buffer.concat([tar, Buffer.alloc(4096), Buffer.from('trailing')]);
}

/** runs an apply and checks the leak invariants around it */
async function clean<T>(fn: () => Promise<T>): Promise<T> {
  const before = fds();
  // tsx may keep a helper process of its own (esbuild): only new children count
  const kids = new Set(children());
  try {
    return await fn();
  } finally {
    // 'close' of every child has been awaited: nothing may remain
    assert.deepEqual(
      children().filter((p) => !kids.has(p)),
      [],
      'no child process left',
    );
    assert.equal(fds(), before, 'no file descriptor left');
  }
}

describe('applyLayer', { skip }, () => {
  const zstd = (b: Buffer) => execFileSync('zstd', ['-q', '-c'], { input: b, maxBuffer: 1 << 26 });
  // a stream cut in two, each part compressed on its own: one layer to every decompressor
  const split = (b: Buffer, encode: (b: Buffer) => Buffer) => Buffer.concat([encode(b.subarray(0, 1500)), encode(b.subarray(1500))]);
  const encodings = [
    ['none', 'plain', (b: Buffer) => b],
    ['gzip', 'gzip', (b: Buffer) => gzipSync(b)],
    // registries serve layers with zero padding after the last member; igzip and pigz ignore it
    ['gzip', 'gzip, two members and zero padding', (b: Buffer) => Buffer.concat([split(b, gzipSync), Buffer.alloc(9)])],
    ['zstd', 'zstd', zstd],
    ['zstd', 'zstd, two frames', (b: Buffer) => split(b, zstd)],
  ] as const;
  for (const [compression, name, encode] of encodings) {
    test(`${name}: applies, and the diff id covers every uncompressed byte`, {
      skip: compression === 'zstd' && !haveZstd && 'zstd missing',
    }, async (t) => {
      const tar = await layer();
      const tgt = target(t);
      const r = await clean(() =>
        applyLayer(Readable.from([encode(tar)]), { compression, layer: 'l', target: tgt, expectedDiffId: sha(tar), sync: false }),
      );
      assert.deepEqual(r, { diffId: sha(tar), size: tar.length, entries: 3 });
      assert.equal(readFileSync(path.join(tgt.dir, 'etc/hostname'), 'utf8'), 'berth\n');
    });
  }

  for (const [compression, name, encode] of encodings) {
    test(`${name} from a file: the same result, the file read by the child itself`, {
      skip: compression === 'zstd' && !haveZstd && 'zstd missing',
    }, async (t) => {
      const tar = await layer();
      const tgt = target(t);
      const file = path.join(target(t).dir, 'blob');
      writeFileSync(file, encode(tar));
      const r = await clean(() => applyLayer({ file }, { compression, layer: 'l', target: tgt, expectedDiffId: sha(tar), sync: false }));
      assert.deepEqual(r, { diffId: sha(tar), size: tar.length, entries: 3 });
      assert.equal(readFileSync(path.join(tgt.dir, 'etc/hostname'), 'utf8'), 'berth\n');
    });
  }

  test('from a file: a wrong media type, a wrong diff id and a missing file are refused', async (t) => {
    const tar = await layer();
    const file = path.join(target(t).dir, 'blob');
    writeFileSync(file, tar);
    await clean(() =>
      assert.rejects(
        applyLayer({ file }, { compression: 'gzip', layer: 'sha256:ab', target: target(t), sync: false }),
        /^BerthError: apply layer 'sha256:ab': the media type says gzip but the data is not compressed$/,
      ),
    );
    await clean(() =>
      assert.rejects(
        applyLayer(
          { file },
          { compression: 'none', layer: 'sha256:cd', target: target(t), expectedDiffId: `sha256:${'0'.repeat(64)}`, sync: false },
        ),
        /^BerthError: apply layer 'sha256:cd': wrong diff id: /,
      ),
    );
    await clean(() =>
      assert.rejects(
        applyLayer({ file: `${file}.missing` }, { compression: 'none', layer: 'sha256:ef', target: target(t), sync: false }),
        (err: Error) => isKind(err, 'not-found') && /^apply layer 'sha256:ef': open '/.test(err.message),
      ),
    );
  });

  test('a feed: the caller writes the first process’s stdin; a wrong media type is refused, an abort never applies a truncated layer', async (t) => {
    const tar = await layer();
    /** A feed that writes `data` (in two parts, checking the head) and then ends, or aborts after the first part. */
    const feedOf = (data: Buffer, abortAfterFirst = false): ApplyFeed => ({
      kind: 'feed',
      attach(port) {
        const half = Math.floor(data.length / 2);
        port.check(data.subarray(0, Math.max(4, Math.min(half, data.length))));
        port.stdin.write(data.subarray(0, half));
        if (abortAfterFirst) {
          port.abort(new Error('the download failed'));
          return;
        }
        port.stdin.end(data.subarray(half));
      },
    });
    const tgt = target(t);
    const r = await clean(() => applyLayer(feedOf(gzipSync(tar)), { compression: 'gzip', layer: 'f', target: tgt, sync: false }));
    assert.deepEqual(r, { diffId: sha(tar), size: tar.length, entries: 3 });
    await clean(() =>
      assert.rejects(
        applyLayer(feedOf(tar), { compression: 'gzip', layer: 'sha256:ab', target: target(t), sync: false }),
        /^BerthError: apply layer 'sha256:ab': the media type says gzip but the data is not compressed$/,
      ),
    );
    // a plain tar cut at an entry boundary could pass for a whole one: the abort must fail it
    await clean(() =>
      assert.rejects(
        applyLayer(feedOf(tar, true), { compression: 'none', layer: 'sha256:cd', target: target(t), sync: false }),
        (err: Error) => isKind(err, 'unavailable') && /^apply layer 'sha256:cd': read: the download failed$/.test(err.message),
      ),
    );
  });

  describe('a followed file (a pull: berth-ingest writes the ingest file, apply reads it as it grows)', () => {
    /**
     * A feed over a file that `writeOut` fills (a stand-in for berth-ingest): apply is told the
     * file and its size before any byte is there, and `finish` is what the pull does once the
     * digest is verified (the end of stdin), or its abort.
     */
    const followedFeed = (t: { after: (fn: () => void) => void }, size: number) => {
      const file = path.join(target(t).dir, 'ingest');
      const out = openSync(file, 'w');
      // the feed's descriptor stays the feed's (applyLayer's child holds its own): closed after
      const followed = { fd: openSync(file, 'r'), size };
      t.after(() => {
        closeSync(out);
        closeSync(followed.fd);
      });
      let attached!: (p: FeedPort) => void;
      const port = new Promise<FeedPort>((r) => {
        attached = r;
      });
      const feed: ApplyFeed = {
        kind: 'feed',
        followed: Promise.resolve(followed),
        attach: (p) => attached(p),
      };
      let at = 0;
      const write = (b: Buffer) => {
        writeSync(out, b, 0, b.length, at);
        at += b.length;
      };
      return { feed, port, write };
    };
    const pause = () => new Promise((r) => setTimeout(r, 15));

    for (const [compression, encode] of [
      ['none', (b: Buffer) => b],
      ['gzip', gzipSync],
    ] as const) {
      test(`${compression}: the layer is read as it arrives, and its end is the feeder's to give`, async (t) => {
        const tar = await layer();
        const data = encode(tar);
        const tgt = target(t);
        const f = followedFeed(t, data.length);
        await clean(async () => {
          const applying = applyLayer(f.feed, { compression, layer: 'l', target: tgt, expectedDiffId: sha(tar), sync: false });
          const port = await f.port;
          port.check(data.subarray(0, 4));
          const step = Math.ceil(data.length / 5);
          for (let i = 0; i < data.length; i += step) {
            f.write(data.subarray(i, i + step));
            await pause();
          }
          // every byte is there, and still the apply waits for the end
          let settled = false;
          void applying.finally(() => {
            settled = true;
          });
          await pause();
          assert.equal(settled, false, 'a whole file is not the end: the feeder says when');
          port.stdin.end();
          assert.deepEqual(await applying, { diffId: sha(tar), size: tar.length, entries: 3 });
        });
        assert.equal(readFileSync(path.join(tgt.dir, 'etc/hostname'), 'utf8'), 'berth\n');
      });
    }

    test('an end before the file is whole fails naming how far it got; an abort kills; a byte on stdin is refused', async (t) => {
      const tar = await layer();
      const short = followedFeed(t, tar.length);
      await clean(() =>
        assert.rejects(
          (async () => {
            const applying = applyLayer(short.feed, { compression: 'none', layer: 'sha256:ab', target: target(t), sync: false });
            const port = await short.port;
            short.write(tar.subarray(0, 1000));
            port.stdin.end();
            return applying;
          })(),
          (err: Error) =>
            isKind(err, 'invalid-argument') &&
            err.message === `apply layer 'sha256:ab': read: the file ended at 1000 of its ${tar.length} bytes (EPROTO)`,
        ),
      );
      const aborted = followedFeed(t, tar.length);
      await clean(() =>
        assert.rejects(
          (async () => {
            const applying = applyLayer(aborted.feed, { compression: 'none', layer: 'sha256:cd', target: target(t), sync: false });
            const port = await aborted.port;
            // a plain tar cut at an entry boundary could pass for a whole one: the abort must fail it
            aborted.write(tar.subarray(0, 1024));
            await pause();
            port.abort(new Error('the download failed'));
            return applying;
          })(),
          (err: Error) => isKind(err, 'unavailable') && /^apply layer 'sha256:cd': read: the download failed$/.test(err.message),
        ),
      );
      const chatty = followedFeed(t, tar.length);
      await clean(() =>
        assert.rejects(
          (async () => {
            const applying = applyLayer(chatty.feed, { compression: 'gzip', layer: 'sha256:ef', target: target(t), sync: false });
            const port = await chatty.port;
            port.stdin.write('x');
            return applying;
          })(),
          /^BerthError: apply layer 'sha256:ef': read: the feeder wrote into the end pipe of a followed file \(EPROTO\)$/,
        ),
      );
    });

    test('without inotify (the polling fallback) the file is followed just the same', async (t) => {
      const tar = await layer();
      const file = path.join(target(t).dir, 'ingest');
      const out = openSync(file, 'w');
      const inFd = openSync(file, 'r');
      t.after(() => {
        closeSync(out);
        closeSync(inFd);
      });
      const tgt = target(t);
      const child = spawn(
        path.join(ROOT, 'native/build/berth-unpack'),
        ['--root', tgt.dir, '--mode', 'flat', '--no-sync', '--follow', '3', '--size', String(tar.length), '--follow-poll'],
        { stdio: ['pipe', 'pipe', 'pipe', inFd] },
      );
      let stdout = '';
      let stderr = '';
      child.stdout?.on('data', (d: Buffer) => {
        stdout += d;
      });
      child.stderr?.on('data', (d: Buffer) => {
        stderr += d;
      });
      const exited = new Promise<number | null>((r) => child.once('close', r));
      const step = Math.ceil(tar.length / 4);
      for (let i = 0; i < tar.length; i += step) {
        writeSync(out, tar, i, Math.min(step, tar.length - i), i);
        await pause();
      }
      child.stdin?.end();
      assert.equal(await exited, 0, stderr);
      assert.match(stdout, new RegExp(`^ok entries=3 bytes=${tar.length} sha256=${sha(tar).slice(7)} `));
      assert.equal(readFileSync(path.join(tgt.dir, 'etc/hostname'), 'utf8'), 'berth\n');
    });

    test('berth-unpack refuses --follow without --size, and the reverse', () => {
      for (const args of [
        ['--follow', '3'],
        ['--size', '10'],
        ['--follow', '1', '--size', '10'],
      ]) {
        const r = spawnSync(path.join(ROOT, 'native/build/berth-unpack'), ['--root', '/nonexistent', '--mode', 'flat', ...args], {
          input: '',
          encoding: 'utf8',
        });
        assert.equal(r.status, 2, args.join(' '));
        assert.match(r.stderr, /^usage: berth-unpack [\s\S]*--follow FD --size N/);
      }
    });
  });

  test('a media type that does not match the bytes is refused, naming both', async (t) => {
    const tar = await layer();
    for (const [compression, data, what] of [
      ['gzip', tar, 'not compressed'],
      ['zstd', gzipSync(tar), 'gzip'],
      ['none', gzipSync(tar), 'gzip'],
    ] as const) {
      await clean(() =>
        assert.rejects(
          applyLayer(Readable.from([data]), { compression, layer: 'sha256:ab', target: target(t), sync: false }),
          (err: Error) => {
            assert.ok(isKind(err, 'invalid-argument'));
            assert.match(err.message, new RegExp(`^apply layer 'sha256:ab': the media type says \\S+ but the data is ${what}$`));
            return true;
          },
        ),
      );
    }
  });

  test('a wrong diff id fails naming the layer and both digests', async (t) => {
    const tar = await layer();
    await clean(() =>
      assert.rejects(
        applyLayer(Readable.from([tar]), {
          compression: 'none',
          layer: 'sha256:cd',
          target: target(t),
          expectedDiffId: `sha256:${'0'.repeat(64)}`,
          sync: false,
        }),
        /^BerthError: apply layer 'sha256:cd': wrong diff id: the uncompressed layer is sha256:[0-9a-f]{64}, the config says sha256:0{64}$/,
      ),
    );
  });

  // bad streams: named by the compression, not blamed on the entry being read
  const corrupt: [string, 'gzip' | 'zstd', (tar: Buffer) => Buffer, RegExp][] = [
    [
      'a wrong CRC',
      'gzip',
      (tar) => {
        const gz = gzipSync(tar);
        gz[gz.length - 6]! ^= 1;
        return gz;
      },
      /^apply layer 'l': gzip: checksum mismatch \(EINVAL\)$/,
    ],
    // BTYPE 11 is reserved
    [
      'an invalid deflate block',
      'gzip',
      (tar) => Buffer.concat([gzipSync(tar).subarray(0, 10), Buffer.from([0x07, 0, 0, 0])]),
      /^apply layer 'l': gzip: invalid deflate block \(EINVAL\)$/,
    ],
    [
      'a cut stream',
      'gzip',
      (tar) => gzipSync(tar).subarray(0, 200),
      /^apply layer 'l': gzip: unexpected end of the compressed stream \(EPROTO\)$/,
    ],
    [
      'garbage after a frame',
      'zstd',
      (tar) => Buffer.concat([zstd(tar), Buffer.from('garbage!')]),
      /^apply layer 'l': zstd: Unknown frame descriptor \(EINVAL\)$/,
    ],
    [
      'a cut stream',
      'zstd',
      (tar) => zstd(tar).subarray(0, 200),
      /^apply layer 'l': zstd: unexpected end of the compressed stream \(EPROTO\)$/,
    ],
  ];
  for (const [what, compression, make, message] of corrupt) {
    test(`${compression}, ${what}: refused as invalid, naming the compression`, {
      skip: compression === 'zstd' && !haveZstd && 'zstd missing',
    }, async (t) => {
      const bytes = make(await layer());
      await clean(() =>
        assert.rejects(applyLayer(Readable.from([bytes]), { compression, layer: 'l', target: target(t), sync: false }), (err: Error) => {
          assert.ok(isKind(err, 'invalid-argument'), err.message);
          assert.match(err.message, message);
          return true;
        }),
      );
    });
  }

  for (const compression of ['none', 'gzip', 'zstd'] as const) {
    const encode = (b: Buffer) =>
      compression === 'gzip' ? gzipSync(b) : compression === 'zstd' ? execFileSync('zstd', ['-q', '-c'], { input: b }) : b;
    test(`${compression}: a refused first entry stops a stream that would go on for ever`, {
      skip: compression === 'zstd' && !haveZstd && 'zstd missing',
    }, async (t) => {
      const head = encode(
        await packTar([
          { name: '../escape', data: 'x' },
          { name: 'big', data: Buffer.alloc(1 << 20) },
        ]),
      ).subarray(0, 600);
      const input = new PassThrough();
      input.write(head);
      const timer = setInterval(() => input.write(Buffer.alloc(65536)), 5); // never ends
      t.after(() => clearInterval(timer));
      await clean(() =>
        assert.rejects(applyLayer(input, { compression, layer: 'l', target: target(t), sync: false }), (err: Error) => {
          assert.match(
            err.message,
            compression === 'none' ? /entry '\.\.\/escape': path escapes the root/ : /entry '\.\.\/escape'|failed|gunzip/,
          );
          return true;
        }),
      );
    });

    test(`${compression}: abort kills the helper and the decompressor`, {
      skip: compression === 'zstd' && !haveZstd && 'zstd missing',
    }, async (t) => {
      const tar = await packTar([
        { name: 'a', data: 'a' },
        { name: 'big', data: Buffer.alloc(1 << 20) },
      ]);
      const input = new PassThrough();
      input.write(encode(tar).subarray(0, 700)); // then stalls
      const ac = new AbortController();
      setTimeout(() => ac.abort(new Error('user cancelled')), 200);
      await clean(() =>
        assert.rejects(applyLayer(input, { compression, layer: 'l', target: target(t), signal: ac.signal, sync: false }), (err: Error) => {
          assert.ok(err instanceof BerthError);
          assert.equal(err.message, "apply layer 'l': aborted");
          return true;
        }),
      );
    });
  }

  test('an already aborted signal fails before anything starts', async (t) => {
    await clean(() =>
      assert.rejects(
        applyLayer(Readable.from([Buffer.alloc(1024)]), {
          compression: 'none',
          layer: 'l',
          target: target(t),
          signal: AbortSignal.abort(),
        }),
        /^BerthError: apply layer 'l': aborted$/,
      ),
    );
  });

  test('an input stream that errors fails the apply as a read error', async (t) => {
    const input = new PassThrough();
    input.write((await packTar([{ name: 'big', data: Buffer.alloc(1 << 20) }])).subarray(0, 4096));
    setTimeout(() => input.destroy(new Error('connection reset')), 100);
    await clean(() =>
      assert.rejects(
        applyLayer(input, { compression: 'none', layer: 'l', target: target(t), sync: false } as ApplyOptions),
        /^BerthError: apply layer 'l': read: connection reset$/,
      ),
    );
  });

  test('syncfs runs by default and the apply still succeeds', async (t) => {
    const tar = await layer();
    const r = await clean(() => applyLayer(Readable.from([tar]), { compression: 'none', layer: 'l', target: target(t) }));
    assert.equal(r.diffId, sha(tar));
  });
});
