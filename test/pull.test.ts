/**
 * Pull from Debian's real docker-registry (started per test on a free loopback port): anonymous,
 * htpasswd basic auth and a token server; layers with whiteouts seen through the real overlay;
 * an index with two platforms; concurrent pulls sharing the download; "Already exists"; a
 * pulled busybox image run by berth-runtime; a hostile layer refused naming the layer and the
 * entry, leaving nothing GC does not collect.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, type TestContext, test } from 'node:test';
import { createResolver } from '../src/distribution/registry.js';
import { type Fetcher, type FetchOptions, isSocketBody, type Resolver } from '../src/distribution/types.js';
import type { ProgressEvent } from '../src/images/types.js';
import type { Descriptor } from '../src/oci/image.js';
import { withMounted } from '../src/snapshots/mount.js';
import { busyboxTar, fsck, HOST_ARCH, imageOf, indexOf, putImage, registryOptions, testService, withBundle } from './helpers/images.js';
import { blobOf, registryMissing, startRegistry, type TestRegistry } from './helpers/registry.js';
import { firstReason, needsRoot } from './helpers/requires.js';
import { rootfsUnavailable } from './helpers/rootfs.js';
import { createRuntime } from './helpers/runtime.js';
import { defaultSpec } from './helpers/spec.js';
import { packTar } from './helpers/tar.js';

const skip = firstReason(needsRoot(), registryMissing());

/** The real resolver, counting the blob fetches per digest. */
function counting(inner: Resolver): { resolver: Resolver; fetches: Map<string, number> } {
  const fetches = new Map<string, number>();
  const resolver: Resolver = {
    resolve: (ref) => inner.resolve(ref),
    pusher: (ref) => inner.pusher(ref),
    fetcher: (ref) => {
      const f = inner.fetcher(ref);
      return {
        fetch: (desc, opts) => {
          fetches.set(desc.digest, (fetches.get(desc.digest) ?? 0) + 1);
          return f.fetch(desc, opts);
        },
      };
    },
  };
  return { resolver, fetches };
}

async function withRegistry<T>(mode: TestRegistry['mode'], fn: (reg: TestRegistry) => Promise<T>): Promise<T> {
  const reg = await startRegistry({ mode, users: mode === 'anonymous' ? {} : { alice: 's3cret' } });
  try {
    return await fn(reg);
  } finally {
    await reg.stop();
  }
}

const files = (n: number, seed: string) =>
  packTar(Array.from({ length: n }, (_, i) => ({ name: `${seed}/f${i}`, data: `${seed} ${i}\n` })));

/**
 * A TCP proxy on loopback to `reg`, for cutting or stalling connections: `onData` sees each
 * chunk the registry sends on a connection (`sent` bytes of it so far, this chunk included) and
 * says what to do with it. Every connection is destroyed when the test ends.
 */
async function proxyTo(t: TestContext, reg: TestRegistry, onData: (sent: number) => 'forward' | 'cut' | 'hold'): Promise<string> {
  const conns = new Set<net.Socket>();
  const proxy = net.createServer((client) => {
    const upstream = net.connect(reg.port, '127.0.0.1');
    conns.add(client).add(upstream);
    let sent = 0;
    client.pipe(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
    };
    upstream.on('data', (d: Buffer) => {
      sent += d.length;
      const what = onData(sent);
      if (what === 'cut') drop();
      else if (what === 'forward') client.write(d);
    });
    upstream.on('end', () => client.end());
    client.on('error', drop);
    upstream.on('error', drop);
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  t.after(() => {
    for (const c of conns) c.destroy();
    return new Promise<void>((r) => proxy.close(() => r()));
  });
  return `127.0.0.1:${(proxy.address() as net.AddressInfo).port}`;
}

/** The registry client as a resolver whose fetches are watched: each one's offset, and how many gave a SocketBody. */
function watchedResolver(): { resolver: Resolver; fetches: { digest: string; offset: number }[]; socketBodies: () => number } {
  const inner = createResolver({});
  const fetches: { digest: string; offset: number }[] = [];
  let socketBodies = 0;
  const resolver: Resolver = {
    resolve: (ref) => inner.resolve(ref),
    pusher: (ref) => inner.pusher(ref),
    fetcher: (ref) =>
      ({
        fetch: async (desc: Descriptor, opts?: FetchOptions & { socketBody?: true }) => {
          fetches.push({ digest: desc.digest, offset: opts?.offset ?? 0 });
          const got = await inner.fetcher(ref).fetch(desc, opts as FetchOptions & { socketBody: true });
          if (isSocketBody(got)) socketBodies++;
          return got;
        },
      }) as Fetcher,
  };
  return { resolver, fetches, socketBodies: () => socketBodies };
}

describe('pull', { skip }, () => {
  for (const mode of ['anonymous', 'basic', 'token'] as const) {
    test(`a three-layer image, ${mode}: progress as Docker's, chain-ID snapshots, then "Already exists"`, async (t) => {
      await withRegistry(mode, async (reg) => {
        const img = imageOf([await files(3, 'a'), await files(2, 'b'), await files(1, 'c')], { docker: mode === 'basic' });
        await putImage(reg, 'pull/three', 'v1', [img]);
        const svc = await testService(t, { registry: registryOptions(reg) });
        const events: ProgressEvent[] = [];
        const r = await svc.pull(`${reg.host}/pull/three:v1`, { onProgress: (e) => events.push(e) });
        assert.equal(r.id, img.config.digest);
        assert.equal(r.digest, img.manifest.digest);
        assert.equal(r.upToDate, false);
        const statuses = (id: string) => events.filter((e) => e.id === id).map((e) => e.status);
        for (const l of img.layers) {
          const s = statuses(l.digest.slice(7, 19));
          assert.equal(s[0], 'Pulling fs layer');
          assert.ok(s.includes('Download complete') && s.at(-1) === 'Pull complete', s.join(', '));
        }
        assert.deepEqual(
          events.filter((e) => !e.id).map((e) => e.status),
          [`Digest: ${img.manifest.digest}`, `Status: Downloaded newer image for ${reg.host}/pull/three:v1`],
        );
        // manifest and config bytes stored as they came
        assert.deepEqual(await svc.content.readAll(img.manifest.digest), img.manifest.bytes);
        assert.deepEqual(await svc.content.readAll(img.config.digest), img.config.bytes);
        const f = await fsck(svc);
        assert.equal(f.snapshots.filter((s) => s.endsWith('committed')).length, 3);
        assert.deepEqual([f.corrupt, f.missing, f.leases], [[], [], 0]);

        events.length = 0;
        const again = await svc.pull(`${reg.host}/pull/three:v1`, { onProgress: (e) => events.push(e) });
        assert.equal(again.upToDate, true);
        assert.equal(events.filter((e) => e.status === 'Already exists').length, 3);
        assert.equal(events.at(-1)?.status, `Status: Image is up to date for ${reg.host}/pull/three:v1`);
      });
    });
  }

  test('whiteouts and opaque directories (plain and zstd layers), through the overlay mount and the native copy', async (t) => {
    await withRegistry('anonymous', async (reg) => {
      const l0 = await packTar([
        { name: 'a/', type: 'directory' },
        { name: 'a/x', data: 'x' },
        { name: 'a/y', data: 'y' },
        { name: 'b/', type: 'directory' },
        { name: 'b/z', data: 'z' },
        { name: 'gone', data: 'g' },
      ]);
      const l1 = await packTar([
        { name: 'a/.wh.x', data: '' },
        { name: 'b/.wh..wh..opq', data: '' },
        { name: 'b/new', data: 'n' },
        { name: '.wh.gone', data: '' },
      ]);
      const img = imageOf([l0, l1], { compression: ['none', 'zstd'] });
      await putImage(reg, 'pull/wh', 'v1', [img]);
      for (const snapshotter of ['overlayfs', 'native'] as const) {
        const svc = await testService(t, { snapshotter });
        await svc.pull(`${reg.host}/pull/wh:v1`);
        const mounts = await svc.rootfs(`${reg.host}/pull/wh:v1`, 'view-wh', { readonly: true });
        await withMounted(mounts, (dir) => {
          assert.equal(existsSync(join(dir, 'a/x')), false);
          assert.equal(readFileSync(join(dir, 'a/y'), 'utf8'), 'y');
          assert.equal(existsSync(join(dir, 'b/z')), false, 'the opaque dir hides the lower b/z');
          assert.equal(readFileSync(join(dir, 'b/new'), 'utf8'), 'n');
          assert.equal(existsSync(join(dir, 'gone')), false);
          assert.equal(existsSync(join(dir, 'a/.wh.x')), false, 'whiteout markers are never materialized');
        }).finally(() => svc.snapshotter.remove('view-wh'));
      }
    });
  });

  test('an index with two platforms: the host one by default, the other on request, only what is needed fetched', async (t) => {
    await withRegistry('anonymous', async (reg) => {
      const other = HOST_ARCH === 'amd64' ? 'arm64' : 'amd64';
      const host = imageOf([await files(1, 'host')]);
      const foreign = imageOf([await files(1, 'foreign')], { architecture: other });
      const index = indexOf([foreign, host]);
      await putImage(reg, 'pull/multi', 'v1', [foreign, host], index);
      const { resolver, fetches } = counting(createResolver({}));
      const svc = await testService(t, { resolver });
      const r = await svc.pull(`${reg.host}/pull/multi:v1`);
      assert.equal(r.digest, index.digest);
      assert.equal(r.id, host.config.digest);
      assert.equal(fetches.has(foreign.manifest.digest), false);
      assert.equal(fetches.has(foreign.layers[0]!.digest), false);
      assert.equal(svc.images.get(`${reg.host}/pull/multi:v1`).target.digest, index.digest);
      const r2 = await svc.pull(`${reg.host}/pull/multi:v1`, { platform: { os: 'linux', architecture: other } });
      assert.equal(r2.id, foreign.config.digest);
      await assert.rejects(
        svc.pull(`${reg.host}/pull/multi:v1`, { platform: { os: 'linux', architecture: 's390x' } }),
        /pull '127\.0\.0\.1:\d+\/pull\/multi:v1': index 'sha256:[0-9a-f]+': no matching manifest for linux\/s390x in the manifest list entries/,
      );
    });
  });

  test('concurrent pulls of one image share every download; a second image reuses the shared base', async (t) => {
    await withRegistry('anonymous', async (reg) => {
      const base = await files(20, 'base');
      const img = imageOf([base, await files(5, 'top1')]);
      const img2 = imageOf([base, await files(5, 'top2')]);
      await putImage(reg, 'pull/shared', 'v1', [img]);
      await putImage(reg, 'pull/shared', 'v2', [img2]);
      const { resolver, fetches } = counting(createResolver({}));
      const svc = await testService(t, { resolver });
      const events: ProgressEvent[][] = [[], [], []];
      const results = await Promise.all(
        [0, 1, 2].map((i) => svc.pull(`${reg.host}/pull/shared:v1`, { onProgress: (e) => events[i]!.push(e) })),
      );
      assert.deepEqual(new Set(results.map((r) => r.id)), new Set([img.config.digest]));
      for (const l of img.layers) assert.equal(fetches.get(l.digest), 1, `layer ${l.digest} fetched once`);
      for (const ev of events)
        assert.ok(
          ev.some((e) => e.status === 'Pull complete'),
          'every pull sees the shared progress',
        );
      const ev2: ProgressEvent[] = [];
      await svc.pull(`${reg.host}/pull/shared:v2`, { onProgress: (e) => ev2.push(e) });
      assert.deepEqual(
        ev2.filter((e) => e.status === 'Already exists').map((e) => e.id),
        [img2.layers[0]!.digest.slice(7, 19)],
      );
      assert.equal(fetches.get(img2.layers[0]!.digest), 1);
      const f = await fsck(svc);
      assert.equal(f.snapshots.length, 3);
      // deleting an image collects what only it used, soon after, by itself; the shared base stays
      svc.remove([`${reg.host}/pull/shared:v1`]);
      const rows = () => svc.db.prepare('SELECT count(*) FROM content').pluck().get() as number;
      const before = rows();
      for (let i = 0; i < 100 && rows() === before; i++) await new Promise((r) => setTimeout(r, 50));
      assert.ok(rows() < before, 'GC ran by itself after the deletion');
      await svc.collector.run(); // waits for that run to end, then runs once more: nothing left to take
      const g = await fsck(svc);
      assert.equal(g.snapshots.length, 2);
      assert.equal(g.blobs, 2 + 2, 'v2: manifest, config, two layers');
      await assert.rejects(svc.content.info(img.layers[1]!.digest), /not found|no such/i);
    });
  });

  test('the same layer twice in one image: fetched once, two chain-ID snapshots', async (t) => {
    await withRegistry('anonymous', async (reg) => {
      const same = await files(3, 'twice');
      const img = imageOf([same, same]);
      await putImage(reg, 'pull/twice', 'v1', [img]);
      const { resolver, fetches } = counting(createResolver({}));
      const svc = await testService(t, { resolver });
      const r = await svc.pull(`${reg.host}/pull/twice:v1`);
      assert.equal(r.id, img.config.digest);
      assert.equal(fetches.get(img.layers[0]!.digest), 1);
      assert.equal((await fsck(svc)).snapshots.length, 2);
    });
  });

  test('push to a token registry: blobs mounted from the repository they came from, then the exact manifest', async (t) => {
    await withRegistry('token', async (reg) => {
      const img = imageOf([await files(2, 'push')]);
      await putImage(reg, 'team/base', 'v1', [img]);
      const svc = await testService(t, { registry: registryOptions(reg) });
      await svc.pull(`${reg.host}/team/base:v1`);
      svc.images.put({ name: `${reg.host}/team/app:v1`, target: svc.images.get(`${reg.host}/team/base:v1`).target });
      const events: ProgressEvent[] = [];
      const r = await svc.push(`${reg.host}/team/app:v1`, { onProgress: (e) => events.push(e) });
      assert.equal(r.digest, img.manifest.digest);
      assert.ok(
        events.some((e) => e.status === 'Mounted from team/base'),
        JSON.stringify(events),
      );
      assert.ok(
        reg.tokenRequests.some(
          (q) => q.scopes.includes('repository:team/base:pull') && q.scopes.some((x) => x.startsWith('repository:team/app:')),
        ),
        'the token asked for covers the mount source',
      );
      const back = await testService(t, { registry: registryOptions(reg) });
      assert.equal((await back.pull(`${reg.host}/team/app:v1`)).id, img.config.digest);
    });
  });

  test('a missing tag is not-found, named; nothing is left behind', async (t) => {
    await withRegistry('anonymous', async (reg) => {
      const svc = await testService(t);
      await assert.rejects(svc.pull(`${reg.host}/pull/none:nope`), (err: Error & { kind?: string }) => {
        assert.equal(err.kind, 'not-found');
        assert.match(err.message, /^pull '127\.0\.0\.1:\d+\/pull\/none:nope': .*manifest unknown/);
        return true;
      });
      const f = await fsck(svc);
      assert.deepEqual([f.blobs, f.leases, f.snapshots], [0, 0, []]);
    });
  });

  // 400 kB: Node reads the body; 3 MB: berth-ingest reads it from the connection (blob-sink.ts)
  for (const [size, reader] of [
    [400_000, 'Node'],
    [3_000_000, 'berth-ingest'],
  ] as const)
    test(`a connection cut mid-layer (${reader} reading): the retry resumes with Range from the ingest offset, apply never notices`, async (t) => {
      await withRegistry('anonymous', async (reg) => {
        const noise = randomBytes(size);
        const img = imageOf([await packTar([{ name: 'noise', data: noise }])]);
        await putImage(reg, 'pull/cut', 'v1', [img]);
        // a proxy that kills the first connection once half the layer went to the client
        let cut = false;
        const host = await proxyTo(t, reg, (sent) => {
          if (cut || sent <= size / 2) return 'forward';
          cut = true;
          return 'cut';
        });
        const { resolver, fetches, socketBodies } = watchedResolver();
        const svc = await testService(t, { resolver });
        const events: ProgressEvent[] = [];
        const r = await svc.pull(`${host}/pull/cut:v1`, { retryDelayMs: 10, onProgress: (e) => events.push(e) });
        assert.equal(r.id, img.config.digest);
        assert.ok(cut, 'the proxy cut a connection');
        const offsets = fetches.filter((f) => f.digest === img.layers[0]!.digest).map((f) => f.offset);
        assert.equal(offsets[0], 0);
        assert.ok(offsets.length >= 2 && offsets.at(-1)! > 0, `fetch offsets ${offsets.join(', ')}`);
        assert.ok(events.some((e) => /^Retrying in/.test(e.status)));
        assert.equal(socketBodies(), reader === 'Node' ? 0 : offsets.length, 'who read the layer');
        const mounts = await svc.rootfs(`${host}/pull/cut:v1`, 'view-cut', { readonly: true });
        await withMounted(mounts, (dir) => {
          assert.ok(readFileSync(join(dir, 'noise')).equals(noise));
        }).finally(() => svc.snapshotter.remove('view-cut'));
      });
    });

  test('four layers of a few MiB, three at a time: berth-ingest reads each from its connection, trees whole', async (t) => {
    await withRegistry('anonymous', async (reg) => {
      const datas = [0, 1, 2, 3].map((i) => randomBytes((2 << 20) + i * 333_333));
      const img = imageOf(await Promise.all(datas.map((d, i) => packTar([{ name: `layer${i}.bin`, data: d }]))));
      await putImage(reg, 'pull/big', 'v1', [img]);
      const { resolver, socketBodies } = watchedResolver();
      const svc = await testService(t, { resolver });
      const events: ProgressEvent[] = [];
      const r = await svc.pull(`${reg.host}/pull/big:v1`, { onProgress: (e) => events.push(e) });
      assert.equal(r.id, img.config.digest);
      assert.equal(socketBodies(), 4, 'every layer was left on its connection');
      for (const l of img.layers) {
        const sizes = events.filter((e) => e.id === l.digest.slice(7, 19) && e.status === 'Downloading').map((e) => e.current ?? 0);
        assert.ok(
          sizes.length > 0 && sizes.every((n, i) => n <= l.size && (i === 0 || n >= sizes[i - 1]!)),
          `progress ${sizes.join(', ')}`,
        );
      }
      const mounts = await svc.rootfs(`${reg.host}/pull/big:v1`, 'view-big', { readonly: true });
      await withMounted(mounts, (dir) => {
        for (const [i, d] of datas.entries()) assert.ok(readFileSync(join(dir, `layer${i}.bin`)).equals(d), `layer${i}.bin`);
      }).finally(() => svc.snapshotter.remove('view-big'));
      const f = await fsck(svc);
      assert.deepEqual([f.corrupt, f.missing, f.leases], [[], [], 0]);
    });
  });

  test('four layers, two downloads at a time: never more, and the waiting layers are set up before their turn', async (t) => {
    await withRegistry('anonymous', async (reg) => {
      // four: up to 2 × 2 layers are set up at once, so the two that wait, wait for a download slot only
      const datas = [0, 1, 2, 3].map((i) => randomBytes((1 << 20) + i * 100_000));
      const img = imageOf(await Promise.all(datas.map((d, i) => packTar([{ name: `layer${i}.bin`, data: d }]))));
      await putImage(reg, 'pull/gated', 'v1', [img]);
      const inner = createResolver({});
      let svc!: Awaited<ReturnType<typeof testService>>;
      let inflight = 0;
      let most = 0;
      const setUpFirst: boolean[] = [];
      const waited = new Set<string>();
      const resolver: Resolver = {
        resolve: (ref) => inner.resolve(ref),
        pusher: (ref) => inner.pusher(ref),
        fetcher: (ref) =>
          ({
            fetch: async (desc: Descriptor, opts?: FetchOptions & { socketBody?: true }) => {
              if (desc.mediaType.includes('layer')) {
                most = Math.max(most, ++inflight);
                // a layer that queued for its slot had its ingest opened while it waited
                if (waited.has(desc.digest.slice(7, 19))) {
                  setUpFirst.push(
                    await svc.content.status(`layer-${desc.digest}`).then(
                      () => true,
                      () => false,
                    ),
                  );
                }
              }
              return inner.fetcher(ref).fetch(desc, opts as FetchOptions & { socketBody: true });
            },
          }) as Fetcher,
      };
      svc = await testService(t, { resolver });
      await svc.pull(`${reg.host}/pull/gated:v1`, {
        concurrency: 2,
        onProgress: (e) => {
          if (e.status === 'Waiting' && e.id) waited.add(e.id);
          // the slot is free once every byte is in, just before the checksum is verified
          if (e.status === 'Verifying Checksum') inflight--;
        },
      });
      assert.equal(most, 2, 'two downloads at a time, at most');
      assert.equal(setUpFirst.length, 2, 'two layers waited for a slot');
      assert.ok(
        setUpFirst.every((x) => x),
        'every waiting layer had its ingest open before its request',
      );
      const f = await fsck(svc);
      assert.deepEqual([f.corrupt, f.missing, f.leases], [[], [], 0]);
    });
  });

  test('a pull aborted while berth-ingest reads a connection stops at once with the abort as its reason', async (t) => {
    await withRegistry('anonymous', async (reg) => {
      const datas = [0, 1].map(() => randomBytes(4 << 20));
      const img = imageOf(await Promise.all(datas.map((d, i) => packTar([{ name: `f${i}`, data: d }]))));
      await putImage(reg, 'pull/abort', 'v1', [img]);
      // a proxy that stops forwarding a connection after 1.5 MB: the layers' takes wait on their connections
      const host = await proxyTo(t, reg, (sent) => (sent < 1_500_000 ? 'forward' : 'hold'));
      const svc = await testService(t);
      const ac = new AbortController();
      const reason = new Error('the client went away');
      let downloading = 0;
      const started = Date.now();
      const pulling = svc.pull(`${host}/pull/abort:v1`, {
        signal: ac.signal,
        onProgress: (e) => {
          if (e.status === 'Downloading' && ++downloading === 1) setTimeout(() => ac.abort(reason), 300);
        },
      });
      // the reason, named with the layer whose take it stopped
      await assert.rejects(pulling, (e: Error) => /^pull '[^']+': layer 'sha256:[0-9a-f]{64}': the client went away$/.test(e.message));
      assert.ok(Date.now() - started < 5000, `stopped after ${Date.now() - started} ms`);
      assert.ok(downloading > 0, 'a layer was downloading');
      await svc.gc();
      const f = await fsck(svc);
      assert.deepEqual([f.leases, f.snapshots], [0, []]);
    });
  });

  test('a pulled busybox image runs under berth-runtime from its snapshot mounts', async (t) => {
    const why = rootfsUnavailable() ?? createRuntime('berth').unavailable;
    if (why) return t.skip(why);
    await withRegistry('anonymous', async (reg) => {
      const work = mkdtempSync(join(tmpdir(), 'berth-pull-run-'));
      t.after(() => rmSync(work, { recursive: true, force: true }));
      const extra = await packTar([{ name: 'etc/motd', data: 'pulled by berth\n' }]);
      const img = imageOf([busyboxTar(work), extra]);
      await putImage(reg, 'pull/busybox', 'v1', [img]);
      const svc = await testService(t);
      await svc.pull(`${reg.host}/pull/busybox:v1`);
      await using rt = createRuntime('berth');
      const out = await withBundle(
        svc,
        `${reg.host}/pull/busybox:v1`,
        'ctr-1',
        () => {
          const spec = defaultSpec();
          spec.process!.terminal = false;
          spec.process!.args = ['/bin/sh', '-c', 'cat /etc/motd; ls /bin/busybox'];
          return spec;
        },
        (bundle) => rt.run(['run', '--bundle', bundle, `bc-pull-${process.pid}`]),
      );
      assert.equal(out.code, 0, out.stderr);
      assert.equal(out.stdout, 'pulled by berth\n/bin/busybox\n');
    });
  });

  test('a layer whose bytes are not what its media type says fails the pull naming it, first layer or not', async (t) => {
    await withRegistry('anonymous', async (reg) => {
      // layer 1 is a plain tar under a gzip media type: applied as it downloads on its parent
      // (no speculation) or speculatively, the feed's check refuses it either way
      const good = await files(2, 'good');
      const plain = await files(1, 'plain');
      const img = imageOf([good, plain], { compression: ['gzip', 'none'] });
      const manifest = JSON.parse(img.manifest.bytes.toString()) as { layers: { mediaType: string }[] };
      manifest.layers[1]!.mediaType = 'application/vnd.oci.image.layer.v1.tar+gzip';
      const lying = { ...img, manifest: blobOf(img.manifest.mediaType, Buffer.from(JSON.stringify(manifest))) };
      await putImage(reg, 'pull/lying', 'v1', [lying]);
      for (const speculate of [false, true]) {
        const svc = await testService(t);
        await assert.rejects(svc.pull(`${reg.host}/pull/lying:v1`, { speculate }), (err: Error) => {
          assert.match(
            err.message,
            new RegExp(`layer '${img.layers[1]!.digest}'.*the media type says gzip but the data is not compressed`),
            `speculate ${speculate}`,
          );
          return true;
        });
        await svc.gc({ ingestGrace: 0 });
        const after = await fsck(svc);
        assert.deepEqual([after.snapshots, after.corrupt], [[], []], 'nothing but what GC keeps');
      }
    });
  });

  test('a hostile layer is refused naming the reference, the layer and the entry; GC leaves nothing behind', async (t) => {
    await withRegistry('anonymous', async (reg) => {
      const good = await files(2, 'good');
      const evil = await packTar([
        { name: 'ok', data: 'fine' },
        { name: '../pwned', data: 'x' },
      ]);
      const img = imageOf([good, evil]);
      await putImage(reg, 'pull/evil', 'v1', [img]);
      const svc = await testService(t);
      const outside = join(svc.root, '..', 'pwned');
      await assert.rejects(svc.pull(`${reg.host}/pull/evil:v1`), (err: Error) => {
        assert.match(
          err.message,
          new RegExp(
            `^pull '127\\.0\\.0\\.1:\\d+/pull/evil:v1': .*layer '${img.layers[1]!.digest}'.*entry '\\.\\./pwned': path escapes the root`,
          ),
        );
        return true;
      });
      assert.equal(existsSync(outside), false);
      assert.throws(() => svc.images.get(`${reg.host}/pull/evil:v1`), /no such image/);
      const before = await fsck(svc);
      assert.equal(before.leases, 0, 'the pull dropped its lease');
      await svc.gc({ ingestGrace: 0 });
      const after = await fsck(svc);
      assert.deepEqual([after.blobs, after.snapshots, after.ingests, after.corrupt], [0, [], 0, []]);
    });
  });
});
