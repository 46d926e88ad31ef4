/**
 * Pull: resolve the tag, fetch the manifest (and index) by digest, pick the platform, then the
 * config and the layers in parallel (3 downloads at a time, and as many more layers set up
 * meanwhile: ingest opened, snapshot prepared, apply started, so that a freed download slot is
 * used at once). Each layer's bytes go, as they arrive, both
 * into the content store's ingest (which verifies the compressed digest and size at commit) and
 * into apply (decompress, untar into an active snapshot on the parent chain, check the diff_id),
 * with no temporary copy read back; a berth-ingest process does both, so that Node only moves
 * the socket's bytes (blob-sink.ts). Layer i is committed (as its chain ID) only after layer i−1.
 *
 * When a layer's parent is not committed yet as its download starts (an earlier layer is still
 * downloading), and `speculate` is not turned off, its bytes go just as well into an apply: a
 * speculative one, into a parentless snapshot that records every question the apply asked of
 * the (absent) lower layers. Once the parent commits, the lowers are asked the same questions:
 * when none of them has an answer the snapshot is adopted as is (byte for byte what an apply on
 * the parent writes), otherwise the layer is applied again from the content store. A failed
 * speculative apply decides nothing (the download goes on; the apply on the parent reports).
 * With snapshotters that cannot adopt (native) such a layer is stored, then applied after its
 * parent. When speculating, the smallest layers are downloaded first: they are done soonest,
 * and their applies (small layers are often many small files, which cost the kernel more per
 * byte than anything else) then run while the large ones download, instead of after them.
 *
 * Crash safety: everything is added to a lease before it is written; the image row is the one
 * commit point; the lease goes after it. A killed pull leaves a lease that `reapStaleLeases`
 * drops, an ingest that the next pull resumes with Range, and snapshots GC removes.
 *
 * Concurrent pulls in one process share work: a layer (by chain ID) and a manifest (by digest)
 * are fetched once, and every waiting pull sees the progress.
 */
import type { Readable } from 'node:stream';
import { BerthError, isKind } from '../common/errors.js';
import { Gate, type Ticket } from '../common/gate.js';
import type { ContentStore, Writer } from '../content/types.js';
import { isSocketBody, type Reference, type Resolver, type SocketBody } from '../distribution/types.js';
import { type Descriptor, type Platform, sha256Digest } from '../oci/image.js';
import { ApplyTee, type BlobSink, feedFromStore, IngestHelper, NodeSink } from './blob-sink.js';
import { contentResource, type ImageDeps, ingestResource, snapshotResource } from './deps.js';
import { type ActiveLease, withLease } from './lease.js';
import {
  addSource,
  configRefLabels,
  hostPlatform,
  Labels,
  type LayerInfo,
  layersOf,
  MAX_JSON_BLOB,
  manifestKind,
  manifestRefLabels,
  parseConfig,
  parseIndex,
  parseManifest,
  selectManifest,
  shortId,
  sourceLabelKey,
} from './manifest.js';
import { formatReference, parseName } from './names.js';
import type { Image, ProgressEvent, ProgressSink } from './types.js';
import {
  applyLayerSnapshot,
  applySpeculative,
  canSpeculate,
  finishSpeculative,
  type Speculative,
  snapshotExists,
  storedLayer,
  wrap,
} from './unpack.js';

export interface PullOptions {
  platform?: Platform;
  /** layers downloaded at once (Docker's and containerd's default: 3) */
  concurrency?: number;
  /** attempts per blob (Docker: 5) */
  attempts?: number;
  /** first retry delay, doubled each time (Docker waits 5 s, 10 s, …) */
  retryDelayMs?: number;
  /** false: fetch into the content store only */
  unpack?: boolean;
  /**
   * A layer whose parent is not committed yet is applied as it downloads, into a parentless
   * snapshot adopted later (see the file comment), where the snapshotter can adopt; downloads
   * go smallest first. On by default (the applies no longer wait for the chain); false applies
   * each layer after its parent and downloads in the manifest's order, as Docker does.
   */
  speculate?: boolean;
  onProgress?: ProgressSink;
  signal?: AbortSignal;
  /** the registry client for this pull only (one request's credentials, X-Registry-Auth); default the service's */
  resolver?: Resolver;
}

export interface PullDeps extends ImageDeps {
  resolver: Resolver;
}

export interface PullResult {
  image: Image;
  /** Docker's image ID: the config digest */
  id: string;
  /** the digest the name resolved to (Docker's RepoDigests entry) */
  digest: string;
  /** true when nothing had to be downloaded */
  upToDate: boolean;
}

/** One shared piece of work and the progress sinks of every pull waiting on it. */
interface Flight<T> {
  promise: Promise<T>;
  sinks: Set<ProgressSink>;
}

const RETRYABLE_KINDS = new Set(['unavailable', 'internal']);

function retryable(err: unknown): boolean {
  if (err instanceof BerthError) return RETRYABLE_KINDS.has(err.kind) && !isKind(err, 'invalid-argument');
  const code = (err as NodeJS.ErrnoException)?.code;
  return code !== 'ABORT_ERR';
}

export class Puller {
  readonly #deps: PullDeps;
  readonly #flights = new Map<string, Flight<unknown>>();
  /** blob downloads in progress in this process, by digest (settled either way: waiters then look at the store) */
  readonly #downloads = new Map<string, Promise<void>>();

  constructor(deps: PullDeps) {
    this.#deps = deps;
  }

  /** Runs `work` once per key among concurrent callers; each caller's sink gets the events. */
  #share<T>(key: string, sink: ProgressSink, work: (emit: ProgressSink) => Promise<T>): Promise<T> {
    let flight = this.#flights.get(key) as Flight<T> | undefined;
    if (!flight) {
      const sinks = new Set<ProgressSink>();
      const emit: ProgressSink = (e) => {
        for (const s of sinks) s(e);
      };
      const f: Flight<T> = { promise: Promise.resolve().then(() => work(emit)), sinks };
      f.promise.then(
        () => this.#flights.delete(key),
        () => this.#flights.delete(key),
      );
      this.#flights.set(key, f as Flight<unknown>);
      flight = f;
    }
    flight.sinks.add(sink);
    return flight.promise.finally(() => flight.sinks.delete(sink));
  }

  async pull(text: string, options: PullOptions = {}): Promise<PullResult> {
    const ref = parseName(text);
    const name = formatReference(ref);
    const progress: ProgressSink = options.onProgress ?? (() => {});
    try {
      return await withLease(this.#deps.leases, `pull ${name}`, (lease) => this.#pull(ref, name, lease, options, progress));
    } catch (err) {
      throw wrap(`pull '${name}'`, err);
    }
  }

  async #pull(ref: Reference, name: string, lease: ActiveLease, options: PullOptions, progress: ProgressSink): Promise<PullResult> {
    const { images } = this.#deps;
    const resolver = options.resolver ?? this.#deps.resolver;
    progress({ id: ref.tag ?? ref.digest ?? 'latest', status: `Pulling from ${ref.path}` });
    const target = await resolver.resolve(ref);
    if (ref.digest !== undefined && target.digest !== ref.digest) {
      throw new BerthError('invalid-argument', `resolved digest ${target.digest} is not the requested ${ref.digest}`, { object: name });
    }
    const fetcher = resolver.fetcher(ref);
    const source = { key: sourceLabelKey(ref.domain), repo: ref.path };
    let downloaded = false;

    // The manifest (or index) and the config, fetched by digest and verified on the exact bytes.
    // Their storing (an ingest, two fsyncs) runs beside the layers' downloads rather than before
    // them: every one is awaited before the labels that name them and before the commit point.
    const stores: Promise<void>[] = [];
    const fetchJson = async (desc: Descriptor, labels: Record<string, string>): Promise<Buffer> => {
      await lease.add(contentResource(desc.digest));
      const { bytes, stored } = await this.#share(`json:${desc.digest}`, progress, async () => {
        const have = await this.#storedBlob(desc, source, labels);
        if (have) return { bytes: have, stored: Promise.resolve() };
        if (desc.size > MAX_JSON_BLOB) throw new BerthError('invalid-argument', `manifest '${desc.digest}' is ${desc.size} bytes, too big`);
        const stream = await fetcher.fetch(desc, options.signal ? { signal: options.signal } : undefined);
        const chunks: Buffer[] = [];
        let n = 0;
        for await (const c of stream as AsyncIterable<Buffer>) {
          n += c.length;
          if (n > desc.size) {
            stream.destroy();
            throw new BerthError('invalid-argument', `blob '${desc.digest}': more than the ${desc.size} bytes its descriptor declares`);
          }
          chunks.push(c);
        }
        const bytes = Buffer.concat(chunks);
        const got = sha256Digest(bytes);
        if (got !== desc.digest) throw new BerthError('invalid-argument', `blob '${desc.digest}': content digest ${got} does not match`);
        downloaded = true;
        // (every pull sharing this fetch awaits the same storing)
        const stored = this.#storeBytes(desc, bytes, { ...labels, [source.key]: source.repo });
        stored.catch(() => {});
        return { bytes, stored };
      });
      stores.push(stored);
      return bytes;
    };

    let manifestDesc = target;
    let targetBytes = await fetchJson(target, {});
    let indexInfo: { desc: Descriptor; bytes: Buffer; at: number } | undefined;
    if (manifestKind(targetBytes, target.mediaType, `manifest '${target.digest}'`) === 'index') {
      const index = parseIndex(targetBytes, `index '${target.digest}'`);
      manifestDesc = selectManifest(index, options.platform ?? hostPlatform(), `index '${target.digest}'`);
      indexInfo = { desc: target, bytes: targetBytes, at: index.manifests.indexOf(manifestDesc) };
      targetBytes = await fetchJson(manifestDesc, {});
    }
    const mwhat = `manifest '${manifestDesc.digest}'`;
    const manifest = parseManifest(targetBytes, mwhat);
    const configBytes = await fetchJson(manifest.config, configRefLabels(this.#deps.snapshotter.name, undefined));
    const config = parseConfig(configBytes, `config '${manifest.config.digest}'`);
    const layers = layersOf(manifest, config, mwhat);
    const top = layers.at(-1)?.chainId;

    // GC references, set once the blobs are stored, while the layers download: the lease covers
    // the gap until the commit point
    const labelled = (async () => {
      await Promise.all(stores);
      await this.#label(manifestDesc.digest, manifestRefLabels(manifest));
      await this.#label(manifest.config.digest, configRefLabels(this.#deps.snapshotter.name, top));
      // the entry's own position, so that pulling another platform later adds a label rather than replacing this one
      if (indexInfo) await this.#label(indexInfo.desc.digest, { [`${Labels.gcContent}.m.${indexInfo.at}`]: manifestDesc.digest });
    })();
    // a failure is reported below, once no layer is still being written
    labelled.catch(() => {});

    for (const l of layers) progress({ id: shortId(l.desc.digest), status: 'Pulling fs layer' });
    const unpack = options.unpack ?? true;
    let results: ('exists' | 'downloaded' | 'applied')[];
    try {
      results = await this.#layers(layers, fetcher, lease, source, unpack, options, progress);
    } finally {
      // nothing of this pull may still be writing when the lease goes
      await labelled.catch(() => {});
    }
    await labelled;
    if (results.some((r) => r === 'downloaded')) downloaded = true;

    // the commit point
    const existing = images.find(name);
    const upToDate = !downloaded && existing?.target.digest === target.digest;
    const labels = existing?.labels ?? {};
    const image = images.put({ name, target, labels });
    progress({ status: `Digest: ${target.digest}` });
    progress({ status: upToDate ? `Status: Image is up to date for ${name}` : `Status: Downloaded newer image for ${name}` });
    return { image, id: manifest.config.digest, digest: target.digest, upToDate };
  }

  async #label(digest: string, labels: Record<string, string>): Promise<void> {
    const keys = Object.keys(labels);
    if (keys.length === 0) return;
    await this.#deps.content.update(
      { digest, labels },
      keys.map((k) => `labels.${k}`),
    );
  }

  /** The blob's bytes when already stored (recording the source repository), else undefined. */
  async #storedBlob(desc: Descriptor, source: { key: string; repo: string }, labels: Record<string, string>): Promise<Buffer | undefined> {
    const { content } = this.#deps;
    let info: Awaited<ReturnType<ContentStore['info']>>;
    try {
      info = await content.info(desc.digest);
    } catch (err) {
      if (isKind(err, 'not-found')) return undefined;
      throw err;
    }
    const bytes = await content.readAll(desc.digest);
    if (sha256Digest(bytes) !== desc.digest) {
      throw new BerthError('internal', `blob '${desc.digest}': the stored copy does not hash to its name`, { object: desc.digest });
    }
    await this.#label(desc.digest, { ...labels, [source.key]: addSource(info.labels[source.key], source.repo) });
    return bytes;
  }

  async #storeBytes(desc: Descriptor, bytes: Buffer, labels: Record<string, string>): Promise<void> {
    const ref = `manifest-${desc.digest}`;
    const w = await this.#openWriter(ref, desc);
    if (!w) return;
    try {
      if (w.status().offset > 0) await w.truncate(0);
      await w.write(bytes);
      await w.commit(desc.size, desc.digest, { labels });
    } catch (err) {
      if (!isKind(err, 'already-exists')) throw err;
    } finally {
      await w.close().catch(() => {});
    }
  }

  /** Downloads (3 at a time) and applies (in order) every layer; returns what each needed. */
  async #layers(
    layers: LayerInfo[],
    fetcher: ReturnType<Resolver['fetcher']>,
    lease: ActiveLease,
    source: { key: string; repo: string },
    unpack: boolean,
    options: PullOptions,
    progress: ProgressSink,
  ): Promise<('exists' | 'downloaded' | 'applied')[]> {
    const limit = Math.max(1, options.concurrency ?? 3);
    // Two gates. `limit` layers download at a time (Docker's max-concurrent-downloads); up to
    // `limit` more are set up meanwhile (ingest opened, snapshot prepared, apply started), so
    // that a freed download slot is taken at once: a layer's set-up takes 100–200 ms here, most
    // of it a directory fsync that waits for the journal other layers' writes fill.
    const active = new Gate(2 * limit);
    const downloads = new Gate(limit);
    // The order in which layers take slots of either gate: the manifest's, or smallest first when
    // layers can be applied ahead of their parents (see the file comment). Layer `order[k]`
    // asks for a slot only after layer `order[k - 1]` got or queued for one (or needed none).
    const order = layers.map((_, i) => i);
    if (unpack && options.speculate !== false && canSpeculate(this.#deps.snapshotter)) {
      order.sort((a, b) => layers[a]!.desc.size - layers[b]!.desc.size || a - b);
    }
    const relay = () =>
      layers.map(() => {
        let pass!: () => void;
        const passed = new Promise<void>((r) => {
          pass = r;
        });
        return { passed, pass };
      });
    const turns = relay();
    const downloadTurns = relay();
    const turnIn = (of: ReturnType<typeof relay>, i: number): Promise<void> => {
      const k = order.indexOf(i);
      return k === 0 ? Promise.resolve() : of[order[k - 1]!]!.passed;
    };
    const passAll = (i: number) => {
      turns[i]!.pass();
      downloadTurns[i]!.pass();
    };
    // committed[i] settles when layer i's chain ID is committed; `ready[i]` says so synchronously
    const ready: boolean[] = layers.map(() => false);
    const committed: Promise<void>[] = [];
    const jobs = layers.map((layer, i) => {
      const parent = i === 0 ? Promise.resolve() : committed[i - 1]!;
      const key = `layer:${layer.chainId}:${layer.desc.digest}:${unpack}`;
      // a ticket holds a slot or has its place in the queue when it is taken: the next layer in
      // the order may then take one, behind this one
      const take = async (gate: Gate, of: ReturnType<typeof relay>, onWait?: () => void): Promise<Ticket> => {
        await turnIn(of, i);
        const ticket = gate.enter(onWait);
        of[i]!.pass();
        return ticket;
      };
      const slots: LayerSlots = {
        active: (onWait) => take(active, turns, onWait),
        download: (onWait) => take(downloads, downloadTurns, onWait),
        none: () => passAll(i),
      };
      const job = (async () => {
        try {
          await lease.add(contentResource(layer.desc.digest));
          await lease.add(snapshotResource(this.#deps.snapshotter, layer.chainId));
          // another pull's work on this layer takes no slot of ours
          if (this.#flights.has(key)) passAll(i);
          const outcome = await this.#share(key, progress, (emit) =>
            this.#layer(layer, fetcher, lease, source, unpack, options, emit, parent, () => i === 0 || ready[i - 1] === true, slots),
          );
          ready[i] = true;
          return outcome;
        } finally {
          passAll(i);
        }
      })();
      const done = job.then(() => undefined);
      done.catch(() => {}); // awaited by the next layer, if any; the failure itself is reported below
      committed.push(done);
      return job;
    });
    // every job settles before we return (no apply may still be writing when the lease goes)
    const settled = await Promise.allSettled(jobs);
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw failed.reason;
    return settled.map((s) => (s as PromiseFulfilledResult<'exists' | 'downloaded' | 'applied'>).value);
  }

  async #layer(
    layer: LayerInfo,
    fetcher: ReturnType<Resolver['fetcher']>,
    lease: ActiveLease,
    source: { key: string; repo: string },
    unpack: boolean,
    options: PullOptions,
    emit: ProgressSink,
    parentCommitted: Promise<void>,
    parentReady: () => boolean,
    slots: LayerSlots,
  ): Promise<'exists' | 'downloaded' | 'applied'> {
    const { snapshotter, content } = this.#deps;
    const id = shortId(layer.desc.digest);
    const layerName = `layer '${layer.desc.digest}'`;
    const haveSnapshot = unpack ? await snapshotExists(snapshotter, layer.chainId) : true;
    const haveBlob = (await this.#storedInfo(layer.desc.digest, source)) !== undefined;
    if (haveBlob) slots.none();
    if (haveSnapshot && haveBlob) {
      emit({ id, status: 'Already exists' });
      return 'exists';
    }
    const applyArgs = { snapshotter, apply: this.#deps.apply, lease, layer, signal: options.signal };
    let applied = haveSnapshot;
    let outcome: 'downloaded' | 'applied' = 'applied';
    let stored = haveBlob;
    let speculative: Speculative | undefined;
    let triedAhead = false;
    const speculating = options.speculate !== false && canSpeculate(snapshotter);
    const inflight = this.#downloads.get(layer.desc.digest);
    if (!stored && inflight) {
      // the same blob twice in one image (or in two images pulled at once): one download
      slots.none();
      emit({ id, status: 'Waiting' });
      await inflight;
      stored = (await this.#storedInfo(layer.desc.digest, source)) !== undefined;
      if (stored) outcome = 'downloaded';
    }
    if (!stored) {
      let done!: () => void;
      const downloaded = new Promise<void>((r) => {
        done = r;
      });
      this.#downloads.set(layer.desc.digest, downloaded);
      // Docker says "Waiting" when a layer queues for a slot, once, not before every download
      let waited = false;
      const onWait = () => {
        if (!waited) emit({ id, status: 'Waiting' });
        waited = true;
      };
      const activeTicket = await slots.active(onWait);
      let downloadTicket: Ticket | undefined;
      // both slots are free once the bytes are in, while apply finishes (Docker's limit counts downloads)
      const releaseOnce = () => {
        downloadTicket?.leave();
        activeTicket.leave();
      };
      try {
        await activeTicket.ready;
        // the bytes go into apply as they arrive: on the parent when it is committed, else
        // speculatively where the snapshotter can adopt, else nowhere (see the file comment)
        const onParent = !applied && parentReady();
        const ahead = !applied && !onParent && speculating;
        const tee = onParent || ahead ? new ApplyTee(onParent) : undefined;
        const applying = onParent ? applyLayerSnapshot(applyArgs, tee!) : undefined;
        const aheadApply = ahead ? applySpeculative(applyArgs, tee!) : undefined;
        tee?.watch((applying ?? aheadApply)!);
        // a failed download must not leave apply waiting, nor an unhandled rejection behind
        applying?.catch(() => {});
        aheadApply?.catch(() => {});
        try {
          const teed = await this.#download(
            layer.desc,
            fetcher,
            lease,
            source,
            options,
            emit,
            tee,
            async () => {
              downloadTicket = await slots.download(onWait);
              return downloadTicket;
            },
            releaseOnce,
          );
          releaseOnce();
          if (tee) {
            if (teed) {
              tee.end();
              emit({ id, status: 'Extracting', current: layer.desc.size, total: layer.desc.size });
              if (applying) {
                await applying;
                applied = true;
              }
              // a speculative apply that failed decides nothing: the apply on the parent below does
              if (aheadApply) {
                speculative = await aheadApply.catch(() => undefined);
                triedAhead = true;
              }
            } else {
              // the ingest resumed from an earlier process: apply reads the whole blob below
              tee.abort(new Error('resumed download: applying from the content store'));
              await applying?.catch(() => {});
              await aheadApply?.catch(() => {});
            }
          }
        } catch (err) {
          tee?.abort(err as Error);
          await applying?.catch(() => {});
          const s = await aheadApply?.catch(() => undefined);
          if (s) await snapshotter.remove(s.key).catch(() => {});
          throw wrap(layerName, err);
        }
      } finally {
        releaseOnce();
        this.#downloads.delete(layer.desc.digest);
        done();
      }
      outcome = 'downloaded';
    }
    if (!applied && !speculative && !parentReady() && speculating && !triedAhead) {
      // a speculative apply that fails decides nothing: the apply on the parent below does
      emit({ id, status: 'Extracting', current: 0, total: layer.desc.size });
      speculative = await applySpeculative(applyArgs, storedLayer(content, layer.desc.digest)).catch(() => undefined);
    }
    if (!applied) {
      try {
        await parentCommitted;
      } catch (err) {
        if (speculative) await snapshotter.remove(speculative.key).catch(() => {});
        throw err;
      }
      if (speculative) {
        await finishSpeculative(applyArgs, speculative, () => storedLayer(content, layer.desc.digest));
      } else {
        emit({ id, status: 'Extracting', current: 0, total: layer.desc.size });
        await applyLayerSnapshot(applyArgs, storedLayer(content, layer.desc.digest));
      }
    }
    emit({ id, status: 'Pull complete' });
    return outcome;
  }

  async #storedInfo(digest: string, source: { key: string; repo: string }) {
    try {
      const info = await this.#deps.content.info(digest);
      const v = addSource(info.labels[source.key], source.repo);
      if (v !== info.labels[source.key]) await this.#label(digest, { [source.key]: v });
      return info;
    } catch (err) {
      if (isKind(err, 'not-found')) return undefined;
      throw err;
    }
  }

  /**
   * Fetches `desc` into the content store, resuming a partial ingest with Range and retrying
   * (with Range from the bytes received) on transient failures. Every byte also goes to `tee`
   * when given (through berth-ingest where it can: see blob-sink.ts); returns false when it
   * could not (the ingest already held a prefix from an earlier process, which `tee` never saw).
   */
  async #download(
    desc: Descriptor,
    fetcher: ReturnType<Resolver['fetcher']>,
    lease: ActiveLease,
    source: { key: string; repo: string },
    options: PullOptions,
    emit: ProgressSink,
    tee: ApplyTee | undefined,
    /** a download slot's ticket, taken before the first request (it may still have to wait) */
    takeSlot: () => Promise<Ticket>,
    /** called once every byte is in, before the digest check and the ingest's fsync */
    onFetched: () => void,
  ): Promise<boolean> {
    const { content } = this.#deps;
    const id = shortId(desc.digest);
    const ref = `layer-${desc.digest}`;
    await lease.add(ingestResource(ref));
    // A download slot first, in the pull's order. With one free now, the request for the whole
    // blob goes out at once, while the ingest opens and apply's processes start (tens of
    // milliseconds each here, more while other layers' writes make their fsyncs wait): its
    // answer waits in the socket, offered as a connection (berth-ingest reads it, a NodeSink
    // through `resume`). An ingest that turns out to hold a prefix drops it and asks for the
    // rest. Without a free slot the set-up finishes first, and the request goes out when one frees.
    const slot = await takeSlot();
    let early: Promise<Readable | SocketBody> | undefined;
    const dropEarly = () => {
      if (early)
        void early.then(
          (got) => (isSocketBody(got) ? got.release() : got.destroy()),
          () => {},
        );
      early = undefined;
    };
    if (slot.held) {
      early = fetcher.fetch(desc, { offset: 0, socketBody: true, ...(options.signal ? { signal: options.signal } : {}) });
      // a failure is the first attempt's, handled there; one never awaited (apply failed first) is released
      early.catch(() => {});
    }
    let w: Writer | undefined;
    try {
      w = await this.#openWriter(ref, desc);
    } finally {
      if (!w) dropEarly();
    }
    if (w === undefined) {
      // committed meanwhile by another process: feed the tee from the stored blob
      if (tee) {
        tee.follow(undefined);
        await feedFromStore(content.reader(desc.digest), tee);
      }
      return true;
    }
    let sink: BlobSink | undefined;
    let fetched = false;
    try {
      if (w.status().offset > desc.size) await w.truncate(0);
      const teed = tee !== undefined && w.status().offset === 0;
      const first = w.status().offset;
      if (first !== 0) dropEarly();
      if (IngestHelper.fits(w)) {
        // berth-ingest writes the ingest file and apply follows it: the download waits for nothing
        const helper = new IngestHelper(w, desc.digest);
        sink = helper;
        if (teed) tee.follow(helper.followed(desc.size));
      } else {
        // the bytes through Node, into apply's stdin once it runs (undefined when it failed first)
        tee?.follow(undefined);
        const port = teed ? await tee.attached : undefined;
        sink = new NodeSink(w, teed ? tee : undefined, port);
      }
      await slot.ready;
      const attempts = Math.max(1, options.attempts ?? 5);
      let delay = options.retryDelayMs ?? 1000;
      let lastEmit = 0;
      for (let attempt = 1; ; attempt++) {
        try {
          if (sink.received < desc.size) {
            const fetchOpts: { offset?: number; signal?: AbortSignal } = { offset: sink.received };
            if (options.signal) fetchOpts.signal = options.signal;
            const progress = (received: number) => {
              const now = Date.now();
              if (now - lastEmit > 100 || received === desc.size) {
                lastEmit = now;
                emit({ id, status: 'Downloading', current: received, total: desc.size });
              }
            };
            const pending = early;
            early = undefined;
            const got =
              pending && sink.received === first
                ? await pending
                : sink.takesSockets
                  ? await fetcher.fetch(desc, { ...fetchOpts, socketBody: true })
                  : await fetcher.fetch(desc, fetchOpts);
            let stream: Readable | undefined;
            try {
              if (isSocketBody(got)) {
                // a plain-HTTP body: berth-ingest reads it from the connection (blob-sink.ts)
                if (teed) for (const chunk of got.head) tee.sniff(chunk);
                const took = await sink.take(got, progress, options.signal);
                progress(sink.received);
                if (teed && tee.mustStop()) throw tee.failed;
                // a take the pull's abort stopped ends short: the abort is the reason
                if (options.signal?.aborted) throw options.signal.reason;
                if (took === 'short')
                  throw new BerthError(
                    'unavailable',
                    `fetch '${got.object}': connection ended after ${sink.received - (fetchOpts.offset ?? 0)} of ${desc.size - (fetchOpts.offset ?? 0)} bytes`,
                    { object: got.object },
                  );
                if (took === 'refused') stream = got.resume();
              } else stream = got;
              for await (const chunk of (stream ?? []) as AsyncIterable<Buffer>) {
                if (sink.received + chunk.length > desc.size) {
                  stream?.destroy();
                  throw new BerthError(
                    'invalid-argument',
                    `blob '${desc.digest}': more than the ${desc.size} bytes its descriptor declares`,
                  );
                }
                if (teed) tee.sniff(chunk);
                await sink.write(chunk);
                if (teed && tee.mustStop()) throw tee.failed;
                progress(sink.received);
              }
            } finally {
              if (isSocketBody(got)) got.release();
              // bytes received before a cut connection are a good prefix: keep them, so the retry's Range starts after them
              await sink.flush();
            }
          }
          if (sink.received !== desc.size) {
            throw new BerthError('unavailable', `blob '${desc.digest}': short read: ${sink.received} of ${desc.size} bytes`);
          }
          break;
        } catch (err) {
          // once apply has stopped, the bytes it saw cannot be replayed into it
          if (attempt >= attempts || !retryable(err) || options.signal?.aborted || sink.failed || (teed && tee.mustStop())) throw err;
          emit({ id, status: `Retrying in ${Math.round(delay / 1000)} second${delay === 1000 ? '' : 's'}` });
          await new Promise((r) => setTimeout(r, delay));
          delay *= 2;
        }
      }
      onFetched();
      emit({ id, status: 'Verifying Checksum' });
      await sink.finish();
      fetched = true;
      // The bytes are what the descriptor says: apply may see its end now and make its files
      // durable while the commit below makes the blob durable. Both wait for the same journal,
      // once instead of one after the other (~0.1–0.2 s per layer here). A mismatch is the
      // commit's to report; apply then never sees an end (the caller aborts it).
      if (teed && w.status().offset === desc.size && w.digest() === desc.digest) tee.end();
      try {
        await w.commit(desc.size, desc.digest, { labels: { [source.key]: source.repo } });
      } catch (err) {
        if (!isKind(err, 'already-exists')) {
          // a corrupt download is not resumable: start over next time
          await w.truncate(0).catch(() => {});
          throw err;
        }
      }
      emit({ id, status: 'Download complete' });
      return teed || tee === undefined;
    } catch (err) {
      if (!fetched) {
        // apply first: it must fail, not see a clean end of a truncated layer
        tee?.abort(err as Error);
        await sink?.stop();
      }
      throw err;
    } finally {
      // an apply still waiting to hear where its bytes come from (a path that did not say): stdin
      tee?.follow(undefined);
      // an early request that was never used: its connection goes
      dropEarly();
      await w.close().catch(() => {});
    }
  }

  /** The ingest writer for `ref`; undefined when the blob got committed; waits while another process holds the ref. */
  async #openWriter(ref: string, desc: Descriptor): Promise<Writer | undefined> {
    for (let wait = 50; ; wait = Math.min(wait * 2, 1000)) {
      try {
        return await this.#deps.content.writer({ ref, expected: desc.digest, total: desc.size });
      } catch (err) {
        if (isKind(err, 'already-exists')) return undefined;
        if (!isKind(err, 'unavailable')) throw err;
      }
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}

/** The events a Docker client expects, as JSON-stream objects (for the engine's /images/create). */
export function toJsonMessage(e: ProgressEvent): Record<string, unknown> {
  const m: Record<string, unknown> = { status: e.status };
  if (e.id !== undefined) {
    m.id = e.id;
    m.progressDetail = e.current !== undefined ? { current: e.current, total: e.total } : {};
  }
  return m;
}

/** A layer's way to its slots (see Puller's #layers): each taken in the pull's layer order. */
interface LayerSlots {
  /** a slot among the layers being set up or downloaded */
  active(onWait?: () => void): Promise<Ticket>;
  /** a download slot */
  download(onWait?: () => void): Promise<Ticket>;
  /** this layer takes no slot: the next in the order need not wait for it */
  none(): void;
}
