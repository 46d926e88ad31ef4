/**
 * Volumes for real (root): the store on a temp data root with real tmpfs mounts, copy-up from a
 * hostile rootfs (symlinks that point out of it must not be followed, on either side), a crash
 * left by a store that never released its mounts, in-use refusal and prune. Then the same
 * through the API server with the real docker CLI (v28) and docker-py, when the server exists.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { systemRoutes } from '../src/api/routes/system.js';
import { volumeRoutes } from '../src/api/routes/volumes.js';
import { type ApiServer, createApiServer, type Logger } from '../src/api/server.js';
import { EventBus } from '../src/engine/events.js';
import { kernelMounts } from '../src/engine/volumes/host-mounts.js';
import { attachVolumes, detachVolumes, prepareVolumeMounts, resolveVolumeMounts } from '../src/engine/volumes/mounts.js';
import { VolumeStore } from '../src/engine/volumes/store.js';
import { type Db, openMetadata } from '../src/metadata/db.js';

const isRoot = process.getuid?.() === 0;
const mountsUnder = (dir: string) => kernelMounts.mountsUnder(dir);

describe('volumes: the store on a real data root', { skip: !isRoot && 'needs root (tmpfs mounts, chown)' }, () => {
  let root: string;
  let db: Db;
  let store: VolumeStore;
  const events = new EventBus();
  const seen: string[] = [];
  events.subscribe((e) => seen.push(`${e.Action} ${e.Actor.ID.slice(0, 12)}`));

  before(async () => {
    root = mkdtempSync(path.join(tmpdir(), 'berth-volumes-'));
    db = openMetadata(path.join(root, 'metadata.db'));
    store = await VolumeStore.open({ db, root, events });
  });
  after(() => {
    for (const m of mountsUnder(root)) kernelMounts.unmount(m);
    db?.close();
    rmSync(root, { recursive: true, force: true });
  });

  test('create, idempotent create, inspect data', () => {
    const a = store.create({ name: 'plain', labels: { l: '1' } });
    const b = store.create({ name: 'plain' });
    assert.equal(a.created, true);
    assert.equal(b.created, false);
    assert.deepEqual(b.volume, a.volume);
    assert.ok(statSync(path.join(root, 'volumes/plain/_data')).isDirectory());
    assert.equal(statSync(path.join(root, 'volumes')).mode & 0o777, 0o701, "Docker's mode for the volumes directory");
  });

  test('a tmpfs volume is mounted for its users and unmounted after the last', () => {
    store.create({ name: 'tv', options: { type: 'tmpfs', device: 'tmpfs', o: 'size=4m,uid=1000,mode=0750' } });
    const data = path.join(root, 'volumes/tv/_data');
    assert.deepEqual(mountsUnder(data), []);
    store.acquire('tv', 'c1');
    store.acquire('tv', 'c2');
    assert.deepEqual(mountsUnder(data), [data], 'one mount for two users');
    const info = readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .find((l) => l.split(' ')[4] === data)!;
    assert.match(info, / - tmpfs tmpfs .*size=4096k/);
    assert.match(info, /uid=1000/);
    assert.doesNotMatch(info.split(' - ')[0]!, /shared:/, 'private: no propagation');
    assert.equal(statSync(data).uid, 1000);
    writeFileSync(path.join(data, 'f'), 'in tmpfs');
    store.release('tv', 'c1');
    assert.equal(readFileSync(path.join(data, 'f'), 'utf8'), 'in tmpfs', 'c2 still has it');
    store.release('tv', 'c2');
    assert.deepEqual(mountsUnder(data), []);
    assert.deepEqual(readdirSync(data), [], 'the content went with the tmpfs');
  });

  test('a crash while a tmpfs volume is held: a restart sweeps the mount', async () => {
    store.create({ name: 'crash', options: { type: 'tmpfs', device: 'tmpfs' } });
    const data = path.join(root, 'volumes/crash/_data');
    store.acquire('crash', 'gone');
    // berthd "killed": its in-memory holders are lost; a new store opens the same root
    const restarted = await VolumeStore.open({ db, root });
    assert.deepEqual(mountsUnder(data), [data]);
    assert.deepEqual(
      restarted.sweep(() => []),
      ['crash'],
    );
    assert.deepEqual(mountsUnder(data), []);
    store.release('crash', 'gone'); // (the old store object is "dead": forget its holder)
    // and a removed volume's directory that a crash left mounted goes at the next open
    store.create({ name: 'orphan', options: { type: 'tmpfs', device: 'tmpfs' } });
    store.acquire('orphan', 'x');
    db.prepare('DELETE FROM volumes WHERE name = ?').run('orphan');
    await VolumeStore.open({ db, root });
    assert.deepEqual(mountsUnder(path.join(root, 'volumes/orphan')), []);
    assert.ok(!existsSync(path.join(root, 'volumes/orphan')));
  });

  test('in-use removal refused; prune removes only the unused', async () => {
    store.create({ name: 'used' });
    await assert.rejects(store.remove('used', { users: ['abc'] }), { message: 'remove used: volume is in use - [abc]' });
    writeFileSync(path.join(root, 'volumes/plain/_data/x'), Buffer.alloc(4096));
    const r = await store.prune(
      (v) => v.name !== 'tv',
      (n) => (n === 'used' ? ['abc'] : []),
    );
    assert.deepEqual(r.deleted.sort(), ['crash', 'plain']);
    assert.equal(r.reclaimed, 4096);
    assert.ok(!existsSync(path.join(root, 'volumes/plain')));
    assert.ok(seen.includes('destroy plain'));
  });

  describe('copy-up from a hostile rootfs', () => {
    let rootfs: string;
    let decoy: string;
    before(() => {
      rootfs = path.join(root, 'rootfs');
      decoy = path.join(root, 'host-decoy');
      mkdirSync(decoy);
      writeFileSync(path.join(decoy, 'secret'), 'host secret');
      mkdirSync(path.join(rootfs, 'data/sub'), { recursive: true });
      writeFileSync(path.join(rootfs, 'data/hello'), 'from the image');
      writeFileSync(path.join(rootfs, 'data/sub/deep'), 'deeper');
      symlinkSync('/etc', path.join(rootfs, 'data/etc-link'));
      symlinkSync('../../../../../../..', path.join(rootfs, 'data/up'));
      chownSync(path.join(rootfs, 'data'), 1234, 5678);
      chmodSync(path.join(rootfs, 'data'), 0o750);
      // VOLUME paths that are symlinks out of the rootfs: resolved as in the container
      symlinkSync(decoy, path.join(rootfs, 'abs-escape'));
      symlinkSync(`../../../../../..${decoy}`, path.join(rootfs, 'rel-escape'));
      mkdirSync(path.join(rootfs, 'inside'));
      writeFileSync(path.join(rootfs, 'inside/mine'), 'inside the rootfs');
      symlinkSync('/inside', path.join(rootfs, 'to-inside'));
      writeFileSync(path.join(rootfs, 'afile'), '');
    });

    test('content, symlinks as symlinks, owner and mode; symlinked VOLUME paths resolve in the rootfs', async () => {
      const prepared = await prepareVolumeMounts(store, events, {
        containerId: 'c'.repeat(64),
        points: [],
        volumes: { '/data': {}, '/abs-escape': {}, '/rel-escape': {}, '/to-inside': {} },
        rootfs,
      });
      const byDest = (d: string) => prepared.mounts.find((m) => m.destination === d)!;
      const data = byDest('/data').source;
      assert.equal(readFileSync(path.join(data, 'hello'), 'utf8'), 'from the image');
      assert.equal(readFileSync(path.join(data, 'sub/deep'), 'utf8'), 'deeper');
      assert.equal(readlinkSync(path.join(data, 'etc-link')), '/etc', 'copied as a link, /etc not copied');
      assert.ok(lstatSync(path.join(data, 'etc-link')).isSymbolicLink());
      assert.equal(readlinkSync(path.join(data, 'up')), '../../../../../../..');
      const st = statSync(data);
      assert.deepEqual([st.uid, st.gid, st.mode & 0o7777], [1234, 5678, 0o750]);
      assert.deepEqual(readdirSync(byDest('/abs-escape').source), [], 'the host directory behind an absolute link is not copied');
      assert.deepEqual(readdirSync(byDest('/rel-escape').source), [], '...nor behind a relative one');
      assert.deepEqual(readdirSync(byDest('/to-inside').source), ['mine'], 'a link inside the rootfs is followed, as in the container');
      assert.ok(!existsSync(path.join(root, 'volumes', byDest('/data').name, 'copy-up-incomplete')));
      assert.equal(seen.filter((s) => s === `mount ${byDest('/data').name.slice(0, 12)}`).length, 1);
      assert.equal(prepared.spec.find((m) => m.destination === '/data')!.source, data);
      detachVolumes(store, events, 'c'.repeat(64), prepared.mounts);
      assert.deepEqual(store.holders(byDest('/data').name), []);
    });

    test('a VOLUME over a file is refused; nocopy and a non-empty volume are not copied into', async () => {
      assert.throws(
        () => resolveVolumeMounts(store, { points: [], volumes: { '/afile': {} }, rootfs }),
        /cannot mount volume over existing file/,
      );
      store.create({ name: 'full' });
      writeFileSync(path.join(root, 'volumes/full/_data/own'), 'own');
      const mounts = resolveVolumeMounts(store, {
        points: [
          {
            type: 'volume',
            source: 'full',
            destination: '/data',
            readOnly: false,
            propagation: '',
            nonRecursive: false,
            mode: '',
            noCopy: false,
          },
          {
            type: 'volume',
            source: 'nc',
            destination: '/inside',
            readOnly: false,
            propagation: '',
            nonRecursive: false,
            mode: 'nocopy',
            noCopy: true,
          },
        ],
      });
      let viewed = 0;
      await attachVolumes(store, events, 'd1', mounts, async (use) => {
        viewed++;
        await use(rootfs);
      });
      assert.equal(viewed, 0, 'no copy needed: the rootfs view is not even mounted');
      assert.deepEqual(readdirSync(path.join(root, 'volumes/full/_data')), ['own']);
      assert.deepEqual(readdirSync(path.join(root, 'volumes/nc/_data')), []);
      detachVolumes(store, events, 'd1', mounts);
    });

    test('an interrupted copy is redone, and a link planted in the volume cannot redirect it', async () => {
      store.create({ name: 'cut' });
      const data = path.join(root, 'volumes/cut/_data');
      // what a cut copy plus a hostile container could leave: the marker, and sub -> host dir
      writeFileSync(path.join(root, 'volumes/cut/copy-up-incomplete'), '');
      symlinkSync(decoy, path.join(data, 'sub'));
      const mounts = resolveVolumeMounts(store, {
        points: [
          {
            type: 'volume',
            source: 'cut',
            destination: '/data',
            readOnly: false,
            propagation: '',
            nonRecursive: false,
            mode: '',
            noCopy: false,
          },
        ],
      });
      await attachVolumes(store, events, 'e1', mounts, rootfs);
      assert.deepEqual(readdirSync(decoy), ['secret'], 'nothing written through the link');
      assert.equal(readFileSync(path.join(data, 'sub/deep'), 'utf8'), 'deeper');
      assert.ok(lstatSync(path.join(data, 'sub')).isDirectory());
      assert.ok(!existsSync(path.join(root, 'volumes/cut/copy-up-incomplete')));
      detachVolumes(store, events, 'e1', mounts);
    });

    test('copy-up into a tmpfs volume happens once it is mounted', async () => {
      store.create({ name: 'tcopy', options: { type: 'tmpfs', device: 'tmpfs' } });
      const mounts = resolveVolumeMounts(store, {
        points: [
          {
            type: 'volume',
            source: 'tcopy',
            destination: '/data',
            readOnly: false,
            propagation: '',
            nonRecursive: false,
            mode: '',
            noCopy: false,
          },
        ],
      });
      await attachVolumes(store, events, 'f1', mounts, rootfs);
      const data = path.join(root, 'volumes/tcopy/_data');
      assert.deepEqual(mountsUnder(data), [data]);
      assert.equal(readFileSync(path.join(data, 'hello'), 'utf8'), 'from the image');
      detachVolumes(store, events, 'f1', mounts);
      assert.deepEqual(mountsUnder(data), []);
      assert.deepEqual(readdirSync(data), []);
    });
  });
});

// ---------------------------------------------------------------- SIGKILL at random points

const CHURN = path.join(import.meta.dirname, 'helpers', 'volume-churn.ts');

describe('volumes: berthd killed at any line', { skip: !isRoot && 'needs root (tmpfs mounts)' }, () => {
  test('a SIGKILLed store leaves nothing that open() and sweep() do not clean or finish', async (t) => {
    const root = mkdtempSync(path.join(tmpdir(), 'berth-volcrash-'));
    const rootfs = path.join(root, 'rootfs');
    for (const d of ['data/a/b', 'data2']) mkdirSync(path.join(rootfs, d), { recursive: true });
    for (let i = 0; i < 40; i++) writeFileSync(path.join(rootfs, 'data/a/b', `f${i}`), `file ${i}`.repeat(200));
    writeFileSync(path.join(rootfs, 'data2/x'), 'x');
    try {
      let leftMounts = 0;
      for (let run = 0; run < 5; run++) {
        const child = spawn(process.execPath, ['--import', 'tsx', CHURN, root, rootfs], { stdio: ['ignore', 'pipe', 'inherit'] });
        await new Promise<void>((resolve, reject) => {
          child.stdout!.once('data', () => resolve());
          child.once('exit', (c) => reject(new Error(`churn exited early (${c})`)));
        });
        await sleep(100 + Math.random() * 400);
        child.kill('SIGKILL');
        await new Promise((r) => child.once('exit', r));
        leftMounts += mountsUnder(root).length;
      }
      const entries = readdirSync(path.join(root, 'volumes'));
      t.diagnostic(
        `after the kills: ${leftMounts} mounts seen, ${entries.filter((e) => e.startsWith('.trash-')).length} trash, ` +
          `${entries.filter((e) => existsSync(path.join(root, 'volumes', e, 'copy-up-incomplete'))).length} cut copies`,
      );
      const db = openMetadata(path.join(root, 'metadata.db'));
      try {
        const store = await VolumeStore.open({ db, root });
        store.sweep(() => []);
        assert.deepEqual(mountsUnder(root), [], 'no mount left');
        const rows = store.list().map((v) => v.name);
        assert.ok(rows.length > 0, 'the workers got somewhere');
        assert.deepEqual(readdirSync(path.join(root, 'volumes')).sort(), [...rows].sort(), 'exactly one directory per row, no trash');
        // a cut copy-up is finished by the next use: every kept volume ends with the whole tree
        for (const name of rows) {
          const m = resolveVolumeMounts(store, {
            points: [
              {
                type: 'volume',
                source: name,
                destination: '/data',
                readOnly: false,
                propagation: '',
                nonRecursive: false,
                mode: '',
                noCopy: false,
              },
            ],
          });
          await attachVolumes(store, undefined, 'check', m, rootfs);
          const data = store.source(name).path;
          const files = existsSync(path.join(data, 'a/b')) ? readdirSync(path.join(data, 'a/b')) : [];
          assert.ok(files.length === 40 || readdirSync(data).includes('x'), `${name}: complete (${files.length} of 40)`);
          assert.ok(!existsSync(store.copyMarker(name)));
          detachVolumes(store, undefined, 'check', m);
        }
        assert.deepEqual(mountsUnder(root), []);
      } finally {
        db.close();
      }
    } finally {
      for (const m of mountsUnder(root)) kernelMounts.unmount(m);
      rmSync(root, { recursive: true, force: true });
    }
  });
});

// ---------------------------------------------------------------- through the API server

const DOCKER = '/usr/local/bin/docker';
const DOCKER_2010 = '/usr/bin/docker';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Asynchronous: a synchronous spawn would block the server it calls, which runs in this process. */
function run(cmd: string, args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(cmd, args, { env: { ...process.env, ...env }, timeout: 20_000, encoding: 'utf8' }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

describe('volumes through the API server (docker CLI v28 and 20.10, docker-py)', () => {
  let dir: string;
  let db: Db;
  let server: ApiServer;
  let store: VolumeStore;
  const users = new Map<string, string[]>();
  const bus = new EventBus();
  const events: string[] = [];
  bus.subscribe((e) => events.push(`${e.Type} ${e.Action} ${e.Actor.ID}`));
  let env: Record<string, string>;
  const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'berth-volapi-'));
    db = openMetadata(path.join(dir, 'metadata.db'));
    store = await VolumeStore.open({ db, root: dir, events: bus });
    const sock = path.join(dir, 'berth.sock');
    server = createApiServer(
      [...systemRoutes({ events: bus }), ...volumeRoutes({ volumes: store, events: bus, volumeUsers: (n) => users.get(n) ?? [] })],
      { logger: quiet, closeGraceMs: 200 },
    );
    await server.listen([`unix://${sock}`]);
    env = { DOCKER_HOST: `unix://${sock}`, DOCKER_CONFIG: path.join(dir, 'docker-config') };
  });
  after(async () => {
    await server?.close();
    for (const m of mountsUnder(dir)) kernelMounts.unmount(m);
    db?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('docker volume create | ls | inspect | rm | prune (v28 CLI)', async () => {
    let r = await run(
      DOCKER,
      ['volume', 'create', '--label', 'a=b', '-o', 'type=tmpfs', '-o', 'device=tmpfs', '-o', 'o=size=1m', 'tv'],
      env,
    );
    assert.deepEqual([r.code, r.stdout], [0, 'tv\n'], r.stderr);
    r = await run(DOCKER, ['volume', 'create', 'tv'], env);
    assert.deepEqual([r.code, r.stdout], [0, 'tv\n'], 'idempotent');
    r = await run(DOCKER, ['volume', 'create', 'a'], env);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /create a: volume name is too short, names should be at least two alphanumeric characters/);
    r = await run(DOCKER, ['volume', 'create', '-o', 'type=nfs', '-o', 'device=:/export', '-o', 'o=addr=10.0.0.1', 'nv'], env);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /mount type "nfs" is not supported/);
    r = await run(DOCKER, ['volume', 'inspect', 'tv'], env);
    assert.equal(r.code, 0, r.stderr);
    const [v] = JSON.parse(r.stdout) as Record<string, unknown>[];
    assert.deepEqual(v, {
      CreatedAt: v!.CreatedAt,
      Driver: 'local',
      Labels: { a: 'b' },
      Mountpoint: path.join(dir, 'volumes/tv/_data'),
      Name: 'tv',
      Options: { device: 'tmpfs', o: 'size=1m', type: 'tmpfs' },
      Scope: 'local',
    });
    assert.match(String(v!.CreatedAt), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)$/);
    r = await run(DOCKER, ['volume', 'inspect', 'nope'], env);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /no such volume/i);

    for (const n of ['busy', 'free1']) assert.equal((await run(DOCKER, ['volume', 'create', n], env)).code, 0);
    users.set('busy', ['f'.repeat(64)]);
    r = await run(DOCKER, ['volume', 'ls', '--format', '{{.Driver}} {{.Name}}'], env);
    assert.deepEqual(r.stdout.trim().split('\n').sort(), ['local busy', 'local free1', 'local tv']);
    r = await run(DOCKER, ['volume', 'ls', '-q', '-f', 'dangling=true'], env);
    assert.deepEqual(r.stdout.trim().split('\n').sort(), ['free1', 'tv']);
    r = await run(DOCKER, ['volume', 'ls', '-q', '-f', 'label=a=b'], env);
    assert.equal(r.stdout, 'tv\n');

    r = await run(DOCKER, ['volume', 'rm', 'busy'], env);
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`remove busy: volume is in use - \\[${'f'.repeat(64)}\\]`));
    assert.equal((await run(DOCKER, ['volume', 'rm', '-f', 'busy'], env)).code, 1, 'force does not remove a volume in use');
    r = await run(DOCKER, ['volume', 'rm', 'nope'], env);
    assert.equal(r.code, 1);
    assert.equal((await run(DOCKER, ['volume', 'rm', '-f', 'nope'], env)).code, 0);

    writeFileSync(path.join(dir, 'volumes/free1/_data/blob'), Buffer.alloc(3000));
    // the v28 CLI talks 1.41 to us: every unused local volume without driver options goes
    r = await run(DOCKER, ['volume', 'prune', '-f'], env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Deleted Volumes:\nfree1\n/);
    assert.match(r.stdout, /Total reclaimed space: 3kB/);
    assert.deepEqual(
      store.list().map((x) => x.name),
      ['busy', 'tv'],
    );
    r = await run(DOCKER, ['volume', 'rm', 'tv'], env);
    assert.deepEqual([r.code, r.stdout], [0, 'tv\n']);
    assert.ok(events.includes('volume create tv') && events.includes('volume destroy tv') && events.includes('volume destroy free1'));
    users.delete('busy');
    assert.equal((await run(DOCKER, ['volume', 'rm', 'busy'], env)).code, 0);
  });

  test("Debian's 20.10 client: create, ls, inspect, rm", async (t) => {
    if (!existsSync(DOCKER_2010)) return t.skip(`${DOCKER_2010} is not installed`);
    assert.equal((await run(DOCKER_2010, ['volume', 'create', 'old1'], env)).code, 0);
    const r = await run(DOCKER_2010, ['volume', 'ls', '--format', '{{.Name}} {{.Scope}} {{.Mountpoint}}'], env);
    assert.equal(r.stdout, `old1 local ${path.join(dir, 'volumes/old1/_data')}\n`);
    assert.equal(JSON.parse((await run(DOCKER_2010, ['volume', 'inspect', 'old1'], env)).stdout)[0].Name, 'old1');
    assert.equal((await run(DOCKER_2010, ['volume', 'rm', 'old1'], env)).code, 0);
  });

  test('docker-py client.volumes.*', async (t) => {
    if ((await run('python3', ['-c', 'import docker'])).code !== 0) return t.skip('python3 has no docker module');
    users.set('pybusy', ['e'.repeat(64)]);
    const script = `
import docker, json
c = docker.DockerClient(base_url=${JSON.stringify(env.DOCKER_HOST)}, version='1.41')
out = {}
v = c.volumes.create(name='py1', driver='local', labels={'x': 'y'})
out['created'] = v.attrs
out['again'] = c.volumes.create(name='py1').name
out['get'] = c.volumes.get('py1').attrs['Mountpoint']
c.volumes.create(name='pybusy')
anon = c.volumes.create()
out['anon'] = anon.name
out['list'] = sorted(x.name for x in c.volumes.list())
out['filtered'] = [x.name for x in c.volumes.list(filters={'label': 'x=y'})]
try:
    c.volumes.get('nope')
except docker.errors.NotFound as e:
    out['notfound'] = e.explanation
try:
    c.volumes.get('pybusy').remove()
except docker.errors.APIError as e:
    out['busy'] = [e.status_code, e.explanation]
v.remove()
out['pruned'] = c.volumes.prune()
print(json.dumps(out))
`;
    const r = await run('python3', ['-c', script]);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as Record<string, unknown>;
    const created = out.created as Record<string, unknown>;
    assert.equal(created.Name, 'py1');
    assert.deepEqual(created.Labels, { x: 'y' });
    assert.equal(out.again, 'py1');
    assert.equal(out.get, path.join(dir, 'volumes/py1/_data'));
    assert.match(String(out.anon), /^[0-9a-f]{64}$/);
    assert.deepEqual(out.list, [String(out.anon), 'py1', 'pybusy'].sort());
    assert.deepEqual(out.filtered, ['py1']);
    assert.equal(out.notfound, 'get nope: no such volume');
    assert.deepEqual(out.busy, [409, `remove pybusy: volume is in use - [${'e'.repeat(64)}]`]);
    assert.deepEqual(out.pruned, { VolumesDeleted: [out.anon], SpaceReclaimed: 0 });
  });
});
