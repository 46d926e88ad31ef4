/**
 * push, save, load and diff with the v28 docker CLI against a real berthd and a real
 * docker-registry, and where cheap against Debian's dockerd: archives cross between the two
 * daemons both ways, and `docker diff` lists the same changes. Also the Engine API client's
 * view of the same endpoints (progress messages, the load stream) and the events dockerd emits.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { connect } from '../src/client/client.js';
import { eventsStream, type JSONMessage, jsonMessages } from '../src/client/streams.js';
import { ApiError, type EngineClient } from '../src/client/types.js';
import { Berthd, berthdUnavailable } from './helpers/berthd.js';
import { Dockerd, dockerdUnavailable } from './helpers/dockerd.js';
import { registryMissing, skopeoInspect, startRegistry, type TestRegistry } from './helpers/registry.js';
import { firstReason } from './helpers/requires.js';

const skip = firstReason(berthdUnavailable(), registryMissing());

const lines = (s: string) => s.split('\n').filter(Boolean);
/** `docker diff` lines without the directories listed only as parents of another line (vfs lists them all). */
const leaves = (out: string) => {
  const ls = lines(out);
  const paths = ls.map((l) => l.slice(2));
  return ls.filter((l) => !(l.startsWith('C ') && paths.some((p) => p.startsWith(`${l.slice(2)}/`)))).sort();
};

describe('image transfer with the v28 CLI against berthd', { skip }, () => {
  let b: Berthd;
  let reg: TestRegistry;
  let R: string;
  let dir: string;
  let api: EngineClient;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'berth-xfer-'));
    [b, reg] = await Promise.all([Berthd.start(), startRegistry({ mode: 'anonymous' })]);
    R = reg.host;
    api = connect({ host: b.host });
  });
  after(async () => {
    api?.close();
    await b?.stop();
    await reg?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('push: Preparing, Pushed, digest; then Layer already exists and Mounted from', async () => {
    assert.equal((await b.docker(['tag', 'busybox', `${R}/bb:v1`])).code, 0);
    const r = await b.docker(['push', `${R}/bb:v1`]);
    assert.equal(r.code, 0, r.stderr);
    const out = lines(r.stdout);
    assert.equal(out[0], `The push refers to repository [${R}/bb]`);
    const id = /^([0-9a-f]{12}): Preparing$/.exec(out[1] ?? '')?.[1];
    assert.ok(id, r.stdout);
    assert.ok(out.includes(`${id}: Pushed`), r.stdout);
    const digest = /^v1: digest: (sha256:[0-9a-f]{64}) size: \d+$/.exec(out.at(-1) ?? '')?.[1];
    assert.ok(digest, r.stdout);
    assert.equal((await skopeoInspect(reg, 'bb:v1')).Digest, digest, 'the registry holds what was pushed');

    const again = await b.docker(['push', `${R}/bb:v1`]);
    assert.deepEqual(lines(again.stdout).slice(1), [`${id}: Preparing`, `${id}: Layer already exists`, out.at(-1)]);

    await b.docker(['tag', 'busybox', `${R}/other:x`]);
    const mounted = await b.docker(['push', `${R}/other:x`]);
    assert.ok(lines(mounted.stdout).includes(`${id}: Mounted from bb`), mounted.stdout);
  });

  it('push -a pushes every tag; a missing image or tag fails in the stream as dockerd words it', async () => {
    await b.docker(['tag', 'busybox', `${R}/bb:v2`]);
    const all = await b.docker(['push', '-a', `${R}/bb`]);
    assert.equal(all.code, 0, all.stderr);
    assert.deepEqual(
      lines(all.stdout)
        .filter((l) => l.includes('digest:'))
        .map((l) => l.split(':')[0]),
      ['v1', 'v2'],
    );
    const none = await b.docker(['push', `${R}/nosuch`]);
    assert.equal(none.code, 1);
    assert.match(none.stderr, new RegExp(`An image does not exist locally with the tag: ${R}/nosuch`));
    const noTag = await b.docker(['push', `${R}/bb:nosuch`]);
    assert.equal(noTag.code, 1);
    assert.match(noTag.stderr, new RegExp(`tag does not exist: ${R}/bb:nosuch`));
    await b.docker(['tag', 'busybox', '127.0.0.1:1/bb:v1']);
    const refused = await b.docker(['push', '127.0.0.1:1/bb:v1']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /dial tcp 127\.0\.0\.1:1: connect: connection refused/);
    await b.docker(['rmi', '127.0.0.1:1/bb:v1']);
  });

  it('push to a registry with basic auth: refused anonymous, then with docker login', async () => {
    const priv = await startRegistry({ mode: 'basic', users: { alice: 'pw' } });
    try {
      await b.docker(['tag', 'busybox', `${priv.host}/p:1`]);
      const anon = await b.docker(['push', `${priv.host}/p:1`]);
      assert.equal(anon.code, 1, anon.stdout);
      assert.equal(anon.stderr, 'no basic auth credentials\n'); // dockerd's words, seen
      const tok = await startRegistry({ mode: 'token', users: { alice: 'pw' } });
      try {
        await b.docker(['tag', 'busybox', `${tok.host}/p:1`]);
        const denied = await b.docker(['push', `${tok.host}/p:1`]);
        assert.equal(denied.code, 1);
        assert.equal(denied.stderr, 'denied: requested access to the resource is denied\n');
        await b.docker(['rmi', `${tok.host}/p:1`]);
      } finally {
        await tok.stop();
      }
      const login = await b.docker(['login', '-u', 'alice', '--password-stdin', priv.host], { input: 'pw\n' });
      assert.equal(login.code, 0, login.stderr);
      const pushed = await b.docker(['push', `${priv.host}/p:1`]);
      assert.equal(pushed.code, 0, pushed.stderr);
      assert.match(pushed.stdout, /^1: digest: sha256:[0-9a-f]{64} size: \d+$/m);
      await b.docker(['rmi', `${priv.host}/p:1`]);
    } finally {
      await priv.stop();
    }
  });

  it('push through the client: the JSON messages, aux last; no X-Registry-Auth is a 400', async () => {
    const res = await api.stream('POST', `/images/${R}/bb/push`, { query: { tag: 'v1' }, headers: { 'X-Registry-Auth': 'e30=' } });
    const msgs: JSONMessage[] = [];
    for await (const m of jsonMessages(res)) msgs.push(m);
    assert.equal(msgs[0]?.status, `The push refers to repository [${R}/bb]`);
    assert.deepEqual(msgs[1]?.progressDetail, {});
    const aux = msgs.at(-1)?.aux as { Tag: string; Digest: string; Size: number };
    assert.equal(aux.Tag, 'v1');
    assert.match(aux.Digest, /^sha256:[0-9a-f]{64}$/);
    assert.ok(aux.Size > 0);
    await assert.rejects(
      api.json('POST', `/images/${R}/bb/push`, { query: { tag: 'v1' } }),
      (e: unknown) => e instanceof ApiError && e.status === 400 && e.message === 'Bad parameters and missing X-Registry-Auth: EOF',
    );
  });

  it('save | rmi | load round trip, -q, and a pull back from the registry', async () => {
    const tar = join(dir, 'two.tar');
    const s = await b.docker(['save', '-o', tar, 'busybox', `${R}/bb:v1`]);
    assert.equal(s.code, 0, s.stderr);
    assert.ok(statSync(tar).size > 1_000_000);
    assert.equal((await b.docker(['rmi', `${R}/bb:v1`, `${R}/bb:v2`, `${R}/other:x`])).code, 0);
    const l = await b.docker(['load', '-i', tar]);
    assert.equal(l.code, 0, l.stderr);
    assert.deepEqual(lines(l.stdout), ['Loaded image: busybox:latest', `Loaded image: ${R}/bb:v1`]);
    const q = await b.docker(['load', '-q', '-i', tar]);
    assert.deepEqual(lines(q.stdout), ['Loaded image: busybox:latest', `Loaded image: ${R}/bb:v1`]);
    const imgs = await b.docker(['images', '--format', '{{.Repository}}:{{.Tag}}']);
    assert.ok(lines(imgs.stdout).includes(`${R}/bb:v1`), imgs.stdout);
    assert.equal((await b.docker(['rmi', `${R}/bb:v1`])).code, 0);
    const p = await b.docker(['pull', `${R}/bb:v1`]);
    assert.equal(p.code, 0, p.stderr);
  });

  it('bad archives and unknown names fail with a message', async () => {
    const junk = join(dir, 'junk.tar');
    writeFileSync(junk, 'garbage\n');
    const l = await b.docker(['load', '-i', junk]);
    assert.equal(l.code, 1);
    assert.ok(l.stderr.trim().length > 0);
    const s = await b.docker(['save', '-o', join(dir, 'x.tar'), 'nosuch']);
    assert.equal(s.code, 1);
    assert.match(s.stderr, /No such image: nosuch/);
  });

  it('load through the client streams Loaded image lines; save by names= is one archive', async () => {
    const res = await api.stream('GET', '/images/get', { query: { names: ['busybox'] } });
    assert.equal(res.headers['content-type'], 'application/x-tar');
    const loaded = await api.stream('POST', '/images/load', { query: { quiet: true }, body: res });
    const msgs: JSONMessage[] = [];
    for await (const m of jsonMessages(loaded)) msgs.push(m);
    assert.deepEqual(msgs, [{ stream: 'Loaded image: busybox:latest\n' }]);
    await assert.rejects(api.stream('GET', '/images/nosuch/get'), (e: unknown) => e instanceof ApiError && e.status === 404);
    const bad = await api.stream('POST', '/images/load', { body: Readable.from([Buffer.alloc(10240)]) });
    await assert.rejects(
      (async () => {
        for await (const _ of jsonMessages(bad));
      })(),
      /manifest\.json|archive/,
    );
  });

  it('a client that goes away mid-save or mid-load leaves berthd serving, with nothing half-loaded', async () => {
    const res = await api.stream('GET', '/images/busybox/get');
    await new Promise((r) => res.once('data', r));
    res.destroy();
    // half an archive, then the connection drops
    const whole = await api.stream('GET', '/images/get', { query: { names: ['busybox'] } });
    const parts: Buffer[] = [];
    for await (const c of whole) parts.push(c as Buffer);
    const archive = Buffer.concat(parts);
    await b.docker(['tag', 'busybox', 'half:1']);
    const before = lines((await b.docker(['images', '-q', '--no-trunc'])).stdout).sort();
    let sent = false;
    const cut = new Readable({
      read() {
        if (sent) return; // read() comes again once drained: the half goes once
        sent = true;
        this.push(archive.subarray(0, archive.length >> 1));
        setTimeout(() => this.destroy(new Error('client gone')), 50);
      },
    });
    await assert.rejects(api.stream('POST', '/images/load', { body: cut }));
    const after = lines((await b.docker(['images', '-q', '--no-trunc'])).stdout).sort();
    assert.deepEqual(after, before);
    const again = await b.docker(['save', 'busybox'], {});
    assert.equal(again.code, 0);
    assert.ok(again.stdout.length > 0);
  });

  it('diff lists added, changed and deleted paths in walk order, without the mount targets', async () => {
    const r = await b.docker([
      'run',
      '--name',
      'd1',
      'busybox',
      'sh',
      '-c',
      'touch /tmp/x; rm /bin/ls; echo hi > /etc/passwd; mkdir -p /a/b; ln -s x /root/l',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const d = await b.docker(['diff', 'd1']);
    assert.equal(d.code, 0, d.stderr);
    assert.deepEqual(lines(d.stdout), [
      'A /a',
      'A /a/b',
      'C /bin',
      'D /bin/ls',
      'C /etc/passwd',
      'C /root',
      'A /root/l',
      'C /tmp',
      'A /tmp/x',
    ]);
    const c = await api.json<unknown>('GET', '/containers/d1/changes');
    assert.deepEqual((c.body as { Path: string; Kind: number }[]).slice(0, 2), [
      { Path: '/a', Kind: 1 },
      { Path: '/a/b', Kind: 1 },
    ]);
    await b.docker(['create', '--name', 'd2', 'busybox', 'true']);
    assert.equal((await api.json('GET', '/containers/d2/changes')).body, null);
    await assert.rejects(api.json('GET', '/containers/nosuch/changes'), { message: 'No such container: nosuch' });
  });

  it('events: push, save and load as dockerd emits them', async () => {
    const since = Math.floor(Date.now() / 1000) - 120;
    const until = Math.floor(Date.now() / 1000) + 1;
    const res = await api.stream('GET', '/events', {
      query: { since: String(since), until: String(until), filters: JSON.stringify({ type: { image: true } }) },
    });
    const seen = new Map<string, { id: string; name: string | undefined }>();
    for await (const e of eventsStream(res)) seen.set(e.Action, { id: e.Actor.ID, name: e.Actor.Attributes.name });
    assert.deepEqual(seen.get('push'), { id: `${R}/bb:v1`, name: `${R}/bb` });
    const save = seen.get('save');
    assert.match(save?.id ?? '', /^sha256:[0-9a-f]{64}$/);
    assert.equal(save?.name, save?.id);
    assert.equal(seen.get('load')?.id, save?.id);
  });

  describe("archives cross with Debian's dockerd", { skip: dockerdUnavailable() }, () => {
    let d: Dockerd;
    before(async () => {
      d = await Dockerd.start();
    });
    after(async () => {
      await d?.stop();
    });

    it("berthd's save loads into dockerd, dockerd's save loads into berthd", async () => {
      const fromB = join(dir, 'from-berthd.tar');
      assert.equal((await b.docker(['tag', 'busybox', 'crossed:b'])).code, 0);
      assert.equal((await b.docker(['save', '-o', fromB, 'crossed:b'])).code, 0);
      const intoD = await d.docker(['load', '-i', fromB]);
      assert.equal(intoD.code, 0, intoD.stderr);
      assert.deepEqual(lines(intoD.stdout), ['Loaded image: crossed:b']);
      const run = await d.docker(['run', '--rm', '--network', 'none', 'crossed:b', 'echo', 'ok']);
      assert.equal(run.stdout, 'ok\n', run.stderr);

      const fromD = join(dir, 'from-dockerd.tar');
      assert.equal((await d.docker(['tag', 'busybox', 'crossed:d'])).code, 0);
      assert.equal((await d.docker(['save', '-o', fromD, 'crossed:d'])).code, 0);
      // the name is taken here by another image: dockerd's load says it moves the name
      assert.equal((await b.docker(['tag', 'busybox', 'crossed:d'])).code, 0);
      const intoB = await b.docker(['load', '-i', fromD]);
      assert.equal(intoB.code, 0, intoB.stderr);
      assert.deepEqual(lines(intoB.stdout), [
        `The image crossed:d already exists, renaming the old one with ID ${b.busyboxId} to empty string`,
        'Loaded image: crossed:d',
      ]);
      const runB = await b.docker(['run', '--rm', 'crossed:d', 'echo', 'ok']);
      assert.equal(runB.stdout, 'ok\n', runB.stderr);
    });

    it('docker diff: the same changes (parents aside: dockerd runs vfs here)', async () => {
      const script = 'touch /tmp/x; rm /bin/ls; echo hi > /etc/passwd; mkdir -p /a/b; ln -s x /root/l';
      await d.docker(['run', '--name', 'dd', '--network', 'none', 'busybox', 'sh', '-c', script]);
      const ref = await d.docker(['diff', 'dd']);
      const ours = await b.docker(['diff', 'd1']);
      assert.deepEqual(leaves(ours.stdout), leaves(ref.stdout));
    });
  });
});
