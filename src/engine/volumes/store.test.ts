/**
 * VolumeStore without root: plain volumes on a temp data root, and the host mounts of tmpfs
 * volumes through a recording fake of the HostMounts role (test/volumes.test.ts mounts for real).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { openMetadata } from '../../metadata/db.js';
import { EventBus } from '../events.js';
import type { HostMounts } from './host-mounts.js';
import { inspectMounts, ociMounts, removeAnonymousVolumes, resolveVolumeMounts } from './mounts.js';
import { ANONYMOUS_LABEL } from './names.js';
import { VolumeStore } from './store.js';

class FakeMounts implements HostMounts {
  readonly mounted = new Set<string>();
  readonly log: string[] = [];
  mountTmpfs(source: string, target: string, flags: number, data: string): void {
    this.log.push(`mount ${source} ${target} ${flags} ${data}`);
    this.mounted.add(target);
  }
  unmount(target: string): void {
    this.log.push(`unmount ${target}`);
    this.mounted.delete(target);
  }
  mountsUnder(dir: string): string[] {
    return [...this.mounted].filter((m) => m === dir || m.startsWith(`${dir}/`));
  }
}

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function fresh(mounts = new FakeMounts()) {
  const root = mkdtempSync(path.join(tmpdir(), 'berth-vol-'));
  dirs.push(root);
  const db = openMetadata(path.join(root, 'metadata.db'));
  const events = new EventBus();
  const seen: string[] = [];
  events.subscribe((e) => seen.push(`${e.Type} ${e.Action} ${e.Actor.ID}`));
  const store = await VolumeStore.open({ db, root, events, mounts });
  return { root, db, store, events, seen, mounts };
}

describe('VolumeStore', () => {
  test('create: Docker layout, a row, an event; idempotent for the same name and driver', async () => {
    const { root, store, seen } = await fresh();
    const { volume, created } = store.create({ name: 'data', labels: { a: 'b' }, options: {} });
    assert.equal(created, true);
    assert.equal(volume.mountpoint, path.join(root, 'volumes/data/_data'));
    assert.ok(existsSync(volume.mountpoint));
    assert.deepEqual(volume.labels, { a: 'b' });
    assert.equal(volume.options, null, 'no options: null, as dockerd');
    const again = store.create({ name: 'data', labels: { other: 'x' } });
    assert.equal(again.created, false);
    assert.deepEqual(again.volume.labels, { a: 'b' }, 'the existing one, unchanged');
    assert.deepEqual(seen, ['volume create data']);
    assert.throws(() => store.create({ name: 'data', driver: 'nfsplugin' }), {
      kind: 'not-found',
      message: 'create data: error looking up volume plugin nfsplugin: plugin "nfsplugin" not found',
    });
    assert.throws(() => store.create({ name: 'v2', driver: 'nfsplugin' }), {
      kind: 'not-found',
      message: 'create v2: error looking up volume plugin nfsplugin: plugin "nfsplugin" not found',
    });
    assert.throws(() => store.create({ name: 'v3', options: { bogus: 'x' } }), { kind: 'invalid-argument' });
    assert.equal(store.tryGet('v3'), undefined, 'a refused create leaves no row');
    assert.ok(!existsSync(path.join(root, 'volumes/v3')), '...and no directory');
  });

  test('anonymous: 64 hex, the anonymous label', async () => {
    const { store } = await fresh();
    const { volume } = store.create({ labels: { x: 'y' } });
    assert.match(volume.name, /^[0-9a-f]{64}$/);
    assert.deepEqual(volume.labels, { x: 'y', [ANONYMOUS_LABEL]: '' });
  });

  test('get / remove: dockerd texts, in-use refusal even with force, force on a missing one', async () => {
    const { root, store, seen } = await fresh();
    assert.throws(() => store.get('nope'), { kind: 'not-found', message: 'get nope: no such volume' });
    await assert.rejects(store.remove('nope'), { kind: 'not-found', message: 'get nope: no such volume' });
    assert.equal(await store.remove('nope', { force: true }), false);
    store.create({ name: 'busy' });
    writeFileSync(path.join(root, 'volumes/busy/_data/f'), 'x');
    await assert.rejects(store.remove('busy', { users: ['c1', 'c2'] }), {
      kind: 'failed-precondition',
      message: 'remove busy: volume is in use - [c1 c2]',
    });
    await assert.rejects(store.remove('busy', { users: ['c1'], force: true }), { kind: 'failed-precondition' });
    store.acquire('busy', 'c3');
    await assert.rejects(store.remove('busy'), { message: 'remove busy: volume is in use - [c3]' }, 'a holder is a user');
    store.release('busy', 'c3');
    assert.equal(await store.remove('busy'), true);
    assert.ok(!existsSync(path.join(root, 'volumes/busy')));
    assert.deepEqual(readdirSync(path.join(root, 'volumes')), [], 'no trash left');
    assert.deepEqual(seen, ['volume create busy', 'volume destroy busy']);
  });

  test('prune: unused only, sizes summed, hard links once', async () => {
    const { root, store } = await fresh();
    store.create({ name: 'used' });
    store.create({ name: 'free' });
    const anon = store.create({}).volume.name;
    const d = path.join(root, 'volumes/free/_data');
    writeFileSync(path.join(d, 'a'), Buffer.alloc(1000));
    mkdirSync(path.join(d, 'sub'));
    writeFileSync(path.join(d, 'sub/b'), Buffer.alloc(24));
    const r = await store.prune(
      () => true,
      (n) => (n === 'used' ? ['c1'] : []),
    );
    assert.deepEqual(r.deleted.sort(), [anon, 'free'].sort());
    assert.equal(r.reclaimed, 1024);
    assert.deepEqual(
      store.list().map((v) => v.name),
      ['used'],
    );
  });

  test('tmpfs volume: mounted by the first holder, unmounted by the last; sweep after a restart', async () => {
    const mounts = new FakeMounts();
    const { root, db, store } = await fresh(mounts);
    store.create({ name: 'tv', options: { type: 'tmpfs', device: 'tmpfs', o: 'size=1m,nosuid' } });
    const data = path.join(root, 'volumes/tv/_data');
    assert.deepEqual(store.acquire('tv', 'c1'), { path: data, readOnly: false, recursive: true });
    store.acquire('tv', 'c2');
    assert.deepEqual(mounts.log, [`mount tmpfs ${data} 2 size=1m`]);
    store.release('tv', 'c1');
    assert.ok(mounts.mounted.has(data), 'c2 still uses it');
    store.release('tv', 'c2');
    assert.ok(!mounts.mounted.has(data));
    store.release('tv', 'c2');
    // a "crash" while c3 and c4 ran, with c4 gone by the restart: a new store over the same root
    store.acquire('tv', 'c3');
    const again = await VolumeStore.open({ db, root, mounts });
    assert.ok(mounts.mounted.has(data), 'open() leaves a volume mount alone: its users are not known yet');
    assert.deepEqual(
      again.sweep((n) => (n === 'tv' ? ['c3'] : [])),
      [],
    );
    assert.deepEqual(again.holders('tv'), ['c3']);
    assert.deepEqual(
      again.sweep(() => []),
      ['tv'],
    );
    assert.ok(!mounts.mounted.has(data), 'no running user: unmounted');
  });

  test('open() sweeps what a crash leaves: a directory without a row, trash', async () => {
    const mounts = new FakeMounts();
    const { root, db, store } = await fresh(mounts);
    store.create({ name: 'kept' });
    mkdirSync(path.join(root, 'volumes/orphan/_data'), { recursive: true });
    writeFileSync(path.join(root, 'volumes/orphan/_data/secret'), 'x');
    mounts.mounted.add(path.join(root, 'volumes/orphan/_data'));
    mkdirSync(path.join(root, 'volumes/.trash-0011/_data'), { recursive: true });
    writeFileSync(path.join(root, 'volumes/metadata.db'), 'not ours: left alone');
    await VolumeStore.open({ db, root, mounts });
    assert.deepEqual(readdirSync(path.join(root, 'volumes')).sort(), ['kept', 'metadata.db']);
    assert.equal(mounts.mounted.size, 0, 'the orphan was unmounted before removal');
    // a create over a leftover directory never adopts its content
    mkdirSync(path.join(root, 'volumes/late/_data'), { recursive: true });
    writeFileSync(path.join(root, 'volumes/late/_data/stale'), 'x');
    store.create({ name: 'late' });
    assert.deepEqual(readdirSync(path.join(root, 'volumes/late/_data')), []);
  });

  test('bind volume: the device is checked at create and bound directly', async () => {
    const { root, store } = await fresh();
    const dev = path.join(root, 'hostdir');
    assert.throws(
      () => store.create({ name: 'bv', options: { type: 'none', o: 'bind', device: dev } }),
      /bind device .*: no such file or directory/,
    );
    mkdirSync(dev);
    store.create({ name: 'bv', options: { type: 'none', o: 'bind,ro', device: dev } });
    assert.deepEqual(store.acquire('bv', 'c1'), { path: dev, readOnly: true, recursive: false });
  });
});

describe('resolveVolumeMounts', () => {
  test('named, anonymous, bind, tmpfs and image VOLUMEs: inspect Mounts and OCI mounts as dockerd', async () => {
    const { root, store } = await fresh();
    store.create({ name: 'bv', options: { type: 'none', o: 'bind', device: root } });
    const mounts = resolveVolumeMounts(store, {
      points: [
        {
          type: 'volume',
          source: 'named',
          destination: '/n',
          readOnly: true,
          propagation: '',
          nonRecursive: false,
          mode: 'ro',
          noCopy: true,
        },
        {
          type: 'volume',
          source: '',
          destination: '/anon',
          readOnly: false,
          propagation: '',
          nonRecursive: false,
          mode: '',
          noCopy: false,
        },
        {
          type: 'volume',
          source: 'bv',
          destination: '/b/v',
          readOnly: false,
          propagation: '',
          nonRecursive: false,
          mode: '',
          noCopy: false,
        },
        {
          type: 'bind',
          source: '/srv',
          destination: '/srv',
          readOnly: false,
          propagation: 'rprivate',
          nonRecursive: false,
          mode: '',
          noCopy: false,
        },
        {
          type: 'tmpfs',
          source: '',
          destination: '/t',
          readOnly: false,
          propagation: '',
          nonRecursive: false,
          mode: '',
          noCopy: false,
          tmpfsData: 'size=1m',
        },
      ],
      volumes: { '/img/data': {}, '/n': {}, '/tmpfs-here/': {} },
      tmpfs: { '/tmpfs-here': '' },
    });
    const names = store.list().map((v) => v.name);
    assert.equal(names.length, 4, 'bv, named, an anonymous for -v /anon and one for the image VOLUME');
    const img = mounts.find((m) => m.destination === '/img/data')!;
    assert.match(img.name, /^[0-9a-f]{64}$/);
    assert.equal(img.anonymous, true);
    assert.deepEqual(
      mounts.map((m) => m.destination),
      ['/anon', '/n', '/srv', '/t', '/b/v', '/img/data'],
      'parents first',
    );
    const insp = inspectMounts(mounts);
    assert.deepEqual(
      insp.find((m) => m.Destination === '/n'),
      {
        Type: 'volume',
        Name: 'named',
        Source: path.join(root, 'volumes/named/_data'),
        Destination: '/n',
        Driver: 'local',
        Mode: 'ro',
        RW: false,
        Propagation: '',
      },
    );
    assert.equal(insp.find((m) => m.Destination === '/anon')!.Mode, 'z', '-v: setBindModeIfNull');
    assert.equal(insp.find((m) => m.Destination === '/img/data')!.Mode, '', 'image VOLUME: no mode');
    assert.deepEqual(Object.keys(insp.find((m) => m.Destination === '/srv')!), [
      'Type',
      'Source',
      'Destination',
      'Mode',
      'RW',
      'Propagation',
    ]);
    const oci = ociMounts(store, mounts);
    assert.deepEqual(
      oci.find((m) => m.destination === '/n'),
      { destination: '/n', type: 'bind', source: path.join(root, 'volumes/named/_data'), options: ['rbind', 'ro'] },
    );
    assert.deepEqual(
      oci.find((m) => m.destination === '/b/v'),
      { destination: '/b/v', type: 'bind', source: root, options: ['bind'] },
      'a bind volume: the device itself, non-recursive for o=bind',
    );
    assert.equal(oci.find((m) => m.destination === '/t')!.type, 'tmpfs');
    assert.deepEqual(oci.find((m) => m.destination === '/srv')!.options, ['rbind', 'rprivate']);
  });

  test('a failed resolve removes the anonymous volumes it made', async () => {
    const { store } = await fresh();
    assert.throws(
      () =>
        resolveVolumeMounts(store, {
          points: [
            {
              type: 'volume',
              source: '',
              destination: '/a',
              readOnly: false,
              propagation: '',
              nonRecursive: false,
              mode: '',
              noCopy: false,
            },
            {
              type: 'volume',
              source: 'x',
              destination: '/x',
              readOnly: false,
              propagation: '',
              nonRecursive: false,
              mode: '',
              noCopy: false,
            },
          ],
        }),
      /volume name is too short/,
    );
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(store.list(), []);
  });
});

describe('removeAnonymousVolumes (docker rm -v)', () => {
  test('anonymous volumes go, named ones stay, one used elsewhere stays silently', async () => {
    const { store } = await fresh();
    const mounts = resolveVolumeMounts(store, {
      points: [
        {
          type: 'volume',
          source: 'named',
          destination: '/n',
          readOnly: false,
          propagation: '',
          nonRecursive: false,
          mode: '',
          noCopy: false,
        },
      ],
      volumes: { '/a': {}, '/b': {} },
    });
    const b = mounts.find((m) => m.destination === '/b')!.name;
    const errors = await removeAnonymousVolumes(store, mounts, (n) => (n === b ? ['other'] : []));
    assert.deepEqual(errors, []);
    assert.deepEqual(
      store
        .list()
        .map((v) => v.name)
        .sort(),
      [b, 'named'].sort(),
    );
  });
});
