/**
 * The image endpoints driven by the real clients: the v28 docker CLI, Debian's 20.10 CLI and
 * docker-py, against the API server with the image routes over a temporary image root, pulling
 * from a real docker-registry. docker.io names reach the same registry as a mirror (no internet).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { imageRoutes } from '../src/api/routes/images.js';
import { systemRoutes } from '../src/api/routes/system.js';
import { type ApiServer, createApiServer } from '../src/api/server.js';
import { EventBus } from '../src/engine/events.js';
import { type ImageService, openImageService } from '../src/images/service.js';
import { busyboxTar, imageOf, putImage } from './helpers/images.js';
import { registryMissing, startRegistry, type TestImage, type TestRegistry } from './helpers/registry.js';
import { firstReason, needsBinary, needsFile, needsRoot } from './helpers/requires.js';
import { rootfsUnavailable } from './helpers/rootfs.js';

const run = promisify(execFile);
const V28 = '/usr/local/bin/docker';
const V20 = '/usr/bin/docker';

const skip = firstReason(
  needsRoot(),
  registryMissing(),
  rootfsUnavailable(),
  needsFile(V28, 'the v28 docker CLI'),
  needsFile(V20, "Debian's 20.10 docker CLI"),
  needsBinary('python3'),
);

interface Out {
  code: number;
  stdout: string;
  stderr: string;
}

describe('image API with the real clients', { skip }, () => {
  let dir: string;
  let reg: TestRegistry;
  let svc: ImageService;
  let server: ApiServer;
  let sock: string;
  let img: TestImage;
  let host: string;
  const events = new EventBus();
  let users: string[] = [];
  let running = false;

  const cli = async (bin: string, args: string[], input?: Buffer): Promise<Out> => {
    const env = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: dir,
      DOCKER_HOST: `unix://${sock}`,
      DOCKER_CONFIG: join(dir, 'docker-config'),
    };
    const p = run(bin, args, { env, timeout: 30_000 });
    if (input !== undefined) p.child.stdin?.end(input);
    try {
      const r = await p;
      return { code: 0, stdout: r.stdout, stderr: r.stderr };
    } catch (err) {
      const e = err as { code?: number; stdout?: string; stderr?: string };
      return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
    }
  };
  const docker = (...args: string[]) => cli(V28, args);
  /** One raw API call over the socket: status and body text. */
  const api = (method: string, path: string, headers: Record<string, string> = {}, body?: Buffer | string) =>
    new Promise<{ status: number; body: string; type: string }>((resolve, reject) => {
      const req = request({ socketPath: sock, method, path, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString(), type: String(res.headers['content-type']) }),
        );
      });
      req.on('error', reject);
      req.end(body);
    });
  const ok = (r: Out, what: string) => assert.equal(r.code, 0, `${what}: exit ${r.code}\n${r.stdout}\n${r.stderr}`);

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'berth-api-images-'));
    reg = await startRegistry({ mode: 'anonymous' });
    host = `localhost:${reg.port}`;
    img = imageOf([busyboxTar(dir)], { docker: true, config: { config: { Cmd: ['sh'], Labels: { 'org.test': 'yes' } } } });
    await putImage(reg, 'busybox', '1', [img]);
    await putImage(reg, 'library/busybox', '1', [img]);
    svc = await openImageService({ root: join(dir, 'root'), registry: { mirrors: [`http://${host}`] } });
    server = createApiServer(
      [...systemRoutes({ events }), ...imageRoutes({ images: svc, events, imageUsers: () => users, isRunning: () => running })],
      { logger: { debug() {}, info() {}, warn() {}, error: (m) => console.error(m) } },
    );
    sock = join(dir, 'api.sock');
    await server.listen([`unix://${sock}`]);
  });

  after(async () => {
    await server?.close();
    await svc?.[Symbol.asyncDispose]();
    await reg?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('docker pull (v28): Docker progress lines, then "Image is up to date"', async () => {
    const r = await docker('pull', `${host}/busybox:1`);
    ok(r, 'pull');
    const id = img.layers[0]!.digest.slice(7, 19);
    assert.match(r.stdout, /^1: Pulling from busybox$/m);
    assert.match(r.stdout, new RegExp(`^${id}: Pull complete$`, 'm'));
    assert.match(r.stdout, new RegExp(`^Digest: ${img.manifest.digest}$`, 'm'));
    assert.match(r.stdout, new RegExp(`^Status: Downloaded newer image for ${host}/busybox:1$`, 'm'));
    assert.match(r.stdout, new RegExp(`^${host}/busybox:1$`, 'm'));
    const again = await docker('pull', `${host}/busybox:1`);
    ok(again, 'second pull');
    assert.match(again.stdout, new RegExp(`^Status: Image is up to date for ${host}/busybox:1$`, 'm'));
    assert.doesNotMatch(again.stdout, /Pull complete|Already exists|Pulling fs layer/, 'no layer lines, as dockerd');
    const pulls = events.history(0).filter((e) => e.Type === 'image' && e.Action === 'pull');
    assert.deepEqual(pulls.at(-1)?.Actor, { ID: `${host}/busybox:1`, Attributes: { 'org.test': 'yes', name: `${host}/busybox` } });
  });

  test('docker images, image inspect, tag, history', async () => {
    const short = img.config.digest.slice(7, 19);
    const ls = await docker('images');
    ok(ls, 'images');
    assert.match(ls.stdout, new RegExp(`^${host}/busybox\\s+1\\s+${short}\\s+`, 'm'), ls.stdout);
    const digests = await docker('images', '--digests', '--format', '{{.Repository}} {{.Tag}} {{.Digest}} {{.ID}}');
    assert.match(digests.stdout, new RegExp(`^${host}/busybox 1 ${img.manifest.digest} ${short}$`, 'm'), digests.stdout);

    const ins = await docker('image', 'inspect', `${host}/busybox:1`);
    ok(ins, 'inspect');
    const [j] = JSON.parse(ins.stdout) as Record<string, any>[];
    assert.equal(j!.Id, img.config.digest);
    assert.deepEqual(j!.RepoTags, [`${host}/busybox:1`]);
    assert.deepEqual(j!.RepoDigests, [`${host}/busybox@${img.manifest.digest}`]);
    assert.deepEqual(j!.Config.Cmd, ['sh']);
    assert.equal(j!.RootFS.Type, 'layers');
    assert.equal(j!.RootFS.Layers.length, 1);
    assert.ok(j!.Size > img.layers[0]!.size, 'Size is the unpacked size');
    assert.equal(j!.Metadata.LastTagTime, '0001-01-01T00:00:00Z');

    ok(await docker('tag', short, 'mine:v2'), 'tag by short id');
    const tagged = await docker('image', 'inspect', '--format', '{{json .RepoTags}} {{.Metadata.LastTagTime}}', 'mine:v2');
    ok(tagged, 'inspect tagged');
    // dockerd lists references in lexical order of their full names (docker.io/library/mine < localhost…)
    assert.match(tagged.stdout, new RegExp(`^\\["mine:v2","${host}/busybox:1"\\] 20\\d\\d-`));
    const byFormat = await docker('images', '--format', '{{.Repository}}:{{.Tag}}', '--filter', 'reference=mine');
    assert.equal(byFormat.stdout.trim(), 'mine:v2');

    const hist = await docker('history', '--no-trunc', '--format', '{{.ID}} {{.CreatedBy}}', 'mine:v2');
    ok(hist, 'history');
    assert.equal(hist.stdout.trim().split('\n')[0], `${img.config.digest} berth test`);

    const missing = await docker('image', 'inspect', 'nosuchimg');
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /No such image: nosuchimg/);
  });

  test('docker rmi: Untagged/Deleted lines; 409 texts while a container uses the image', async () => {
    const short = img.config.digest.slice(7, 19);
    const rmTag = await docker('rmi', 'mine:v2');
    ok(rmTag, 'rmi tag');
    assert.equal(rmTag.stdout.trim(), 'Untagged: mine:v2');

    ok(await docker('tag', `${host}/busybox:1`, 'other:x'), 'tag');
    const multi = await docker('rmi', short);
    assert.equal(multi.code, 1);
    assert.match(
      multi.stderr,
      new RegExp(`conflict: unable to delete ${short} \\(must be forced\\) - image is referenced in multiple repositories`),
    );
    ok(await docker('rmi', 'other:x'), 'rmi other');

    users = [`e886e36426fa${'0'.repeat(52)}`];
    const used = await docker('rmi', `${host}/busybox:1`);
    assert.equal(used.code, 1);
    assert.match(
      used.stderr,
      new RegExp(
        `conflict: unable to remove repository reference "${host}/busybox:1" \\(must force\\) - container e886e36426fa is using its referenced image ${short}`,
      ),
    );
    running = true;
    const byId = await docker('rmi', '-f', short);
    assert.equal(byId.code, 1);
    assert.match(
      byId.stderr,
      new RegExp(`unable to delete ${short} \\(cannot be forced\\) - image is being used by running container e886e36426fa`),
    );
    users = [];
    running = false;

    const rm = await docker('rmi', `${host}/busybox:1`);
    ok(rm, 'rmi');
    const chain = (JSON.parse(img.config.bytes.toString()) as { rootfs: { diff_ids: string[] } }).rootfs.diff_ids[0];
    assert.deepEqual(rm.stdout.trim().split('\n'), [
      `Untagged: ${host}/busybox:1`,
      `Untagged: ${host}/busybox@${img.manifest.digest}`,
      `Deleted: ${img.config.digest}`,
      `Deleted: ${chain}`,
    ]);
    const ls = await docker('images', '-q');
    assert.equal(ls.stdout.trim(), '');
  });

  test('docker pull -a, and an API pull without a tag: every tag, as dockerd (one Status line at the end)', async () => {
    const other = imageOf([busyboxTar(dir)], { docker: true, config: { config: { Cmd: ['sh'], Labels: { 'org.test': 'other' } } } });
    await putImage(reg, 'alltags', 'a', [img]);
    await putImage(reg, 'alltags', 'b', [other]);
    const r = await docker('pull', '-a', `${host}/alltags`);
    ok(r, 'pull -a');
    assert.match(r.stdout, /^a: Pulling from alltags$/m);
    assert.match(r.stdout, /^b: Pulling from alltags$/m);
    // in the order the registry lists them
    const listed = ((await (await fetch(`http://${host}/v2/alltags/tags/list`)).json()) as { tags: string[] }).tags;
    assert.deepEqual(r.stdout.match(/^\w+(?=: Pulling from)/gm), listed, r.stdout);
    assert.equal(r.stdout.match(/^Digest: /gm)?.length, 2, r.stdout);
    assert.deepEqual(r.stdout.match(/^Status: .*$/gm), [`Status: Downloaded newer image for ${host}/alltags`]);
    const tags = await docker('images', '--format', '{{.Tag}}', `${host}/alltags`);
    assert.deepEqual(tags.stdout.split('\n').filter(Boolean).sort(), ['a', 'b']);
    const again = await docker('pull', '--all-tags', `${host}/alltags`);
    ok(again, 'pull -a again');
    assert.deepEqual(again.stdout.match(/^Status: .*$/gm), [`Status: Image is up to date for ${host}/alltags`]);
    // the raw API with no tag at all: the same (dockerode's pull('name') gets every tag from dockerd too)
    const raw = await api('POST', `/v1.41/images/create?fromImage=${encodeURIComponent(`${host}/alltags`)}`);
    assert.equal(raw.status, 200);
    assert.match(raw.body, /"status":"Pulling from alltags","id":"a"/);
    assert.match(raw.body, /"status":"Pulling from alltags","id":"b"/);
    // a repository with no such name: the registry's 404, before any stream
    const none = await docker('pull', '-a', `${host}/nosuchrepo`);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /^Error response from daemon: /);
    ok(await docker('rmi', `${host}/alltags:a`, `${host}/alltags:b`), 'rmi');
  });

  test('a missing tag: a plain 404 with "manifest unknown", exit 1', async () => {
    const r = await docker('pull', `${host}/busybox:nope`);
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`manifest for ${host}/busybox:nope not found: manifest unknown: manifest unknown`));
    const refused = await docker('pull', 'localhost:1/busybox:1');
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /Get "http:\/\/localhost:1\/v2\/": dial tcp .*:1: connect: connection refused/);
  });

  test('the 20.10 CLI pulls a familiar name (docker.io through the mirror); v28 sends the full one', async () => {
    const r = await cli(V20, ['pull', 'busybox:1']);
    ok(r, '20.10 pull');
    assert.match(r.stdout, /^1: Pulling from library\/busybox$/m);
    assert.match(r.stdout, /^Status: Downloaded newer image for busybox:1$/m);
    assert.doesNotMatch(r.stdout, /Waiting/, 'one layer never waits for a download slot');
    const again = await docker('pull', 'busybox:1');
    ok(again, 'v28 pull');
    assert.match(again.stdout, /^Status: Image is up to date for busybox:1$/m);
    assert.match(again.stdout, /^docker\.io\/library\/busybox:1$/m);
    const ls = await cli(V20, ['images', '--format', '{{.Repository}}:{{.Tag}}']);
    assert.equal(ls.stdout.trim(), 'busybox:1');
  });

  test('docker-py: images.pull and images.list', async () => {
    const script = [
      'import docker, json, sys',
      `c = docker.DockerClient(base_url="unix://${sock}")`,
      `img = c.images.pull("${host}/busybox", tag="1")`,
      'print(json.dumps({"id": img.id, "tags": img.tags, "all": sorted(t for i in c.images.list() for t in i.tags)}))',
    ].join('\n');
    const r = await cli('python3', ['-c', script]);
    ok(r, 'docker-py');
    const j = JSON.parse(r.stdout) as { id: string; tags: string[]; all: string[] };
    assert.equal(j.id, img.config.digest);
    assert.deepEqual(j.tags, ['busybox:1', `${host}/busybox:1`], 'the same image under both names');
    assert.deepEqual(j.all, ['busybox:1', `${host}/busybox:1`]);
  });

  test('hostile and odd requests: clear 400s, a broken X-Registry-Auth is anonymous, a client gone mid-pull', async () => {
    const bad = await api('POST', '/v1.41/images/create?fromImage=bad%20name&tag=1');
    assert.equal(bad.status, 400);
    assert.equal(bad.type, 'application/json');
    assert.match(JSON.parse(bad.body).message, /invalid reference format/);
    assert.equal((await api('POST', '/v1.41/images/create')).status, 400);
    assert.equal((await api('POST', `/v1.41/images/create?fromImage=${host}/busybox&tag=${'x'.repeat(200)}`)).status, 400);
    const search = await api('GET', '/v1.41/images/search?term=busybox');
    assert.equal(search.status, 501);
    assert.match(JSON.parse(search.body).message, /search is not supported/);
    const filt = await api('GET', `/v1.41/images/json?filters=${encodeURIComponent('{"nosuch":{"x":true}}')}`);
    assert.equal(filt.status, 400);
    const tagDigest = await api('POST', `/v1.41/images/busybox:1/tag?repo=x@sha256:${'a'.repeat(64)}`);
    assert.ok(tagDigest.status === 400 || tagDigest.status === 404, tagDigest.body);

    // a broken header: anonymous, and the pull works
    const garbage = await api('POST', `/v1.41/images/create?fromImage=${host}/busybox&tag=1`, { 'X-Registry-Auth': '%%%not base64{' });
    assert.equal(garbage.status, 200, garbage.body);
    const lines = garbage.body
      .trim()
      .split('\r\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(lines[0], { status: 'Pulling from busybox', id: '1' });
    assert.match(String(lines.at(-1)!.status), /^Status: (Image is up to date|Downloaded newer image) for /);

    // a client that goes away after the first bytes: the server carries on serving
    await docker('rmi', `${host}/busybox:1`);
    await new Promise<void>((resolve) => {
      const req = request({ socketPath: sock, method: 'POST', path: `/v1.41/images/create?fromImage=${host}/busybox&tag=1` }, (res) => {
        res.once('data', () => {
          req.destroy();
          resolve();
        });
      });
      req.on('error', () => resolve());
      req.end();
    });
    const after = await docker('pull', `${host}/busybox:1`);
    ok(after, 'pull after a client went away');
    assert.match(after.stdout, /^Status: (Image is up to date|Downloaded newer image) for /m);

    // the wire form of a fresh pull, message by message (§A4)
    await docker('rmi', `${host}/busybox:1`);
    await docker('rmi', 'busybox:1');
    await svc.gc({ ingestGrace: 0 });
    const fresh = await api('POST', `/v1.41/images/create?fromImage=${encodeURIComponent(`${host}/busybox`)}&tag=1`, {
      'X-Registry-Auth': 'e30=',
    });
    assert.equal(fresh.status, 200);
    assert.equal(fresh.type, 'application/json');
    assert.ok(fresh.body.endsWith('}\r\n'), 'messages end with CRLF');
    const msgs = fresh.body
      .trim()
      .split('\r\n')
      .map((l) => JSON.parse(l) as Record<string, any>);
    const lid = img.layers[0]!.digest.slice(7, 19);
    const seq = msgs.map((m) => m.status as string).filter((st, i, a) => a[i - 1] !== st);
    assert.deepEqual(seq, [
      'Pulling from busybox',
      'Pulling fs layer',
      'Downloading',
      'Verifying Checksum',
      'Download complete',
      'Extracting',
      'Pull complete',
      `Digest: ${img.manifest.digest}`,
      `Status: Downloaded newer image for ${host}/busybox:1`,
    ]);
    assert.equal(JSON.stringify(msgs[1]), `{"status":"Pulling fs layer","progressDetail":{},"id":"${lid}"}`);
    const dl = msgs.find((m) => m.status === 'Downloading')!;
    assert.equal(dl.id, lid);
    assert.equal(dl.progressDetail.total, img.layers[0]!.size);
    assert.match(dl.progress, /^\[=*>\s*\] +\d+(\.\d+)?[kM]?B\/\d+(\.\d+)?MB$/);
    assert.equal(dl.progress.indexOf(']'), 52, 'a 50-column bar');
  });

  test('docker import (fromSrc=-) with --change and a message', async () => {
    const tar = busyboxTar(dir);
    const r = await cli(V28, ['import', '-c', 'CMD ["sh"]', '-m', 'hello', '-', 'imported:v1'], tar);
    ok(r, 'import');
    assert.match(r.stdout.trim(), /^sha256:[a-f0-9]{64}$/);
    const ins = await docker('image', 'inspect', '--format', '{{.Id}} {{.Comment}} {{json .Config.Cmd}}', 'imported:v1');
    assert.equal(ins.stdout.trim(), `${r.stdout.trim()} hello ["sh"]`);
    assert.ok(events.history(0).some((e) => e.Type === 'image' && e.Action === 'import' && e.Actor.ID === r.stdout.trim()));
    ok(await docker('rmi', 'imported:v1'), 'rmi imported');

    // unnamed: <none> in the list, deleted by ID
    const anon = await cli(V28, ['import', '-'], tar);
    ok(anon, 'import unnamed');
    const id = anon.stdout.trim();
    const row = await docker('images', '--format', '{{.Repository}} {{.Tag}} {{.ID}}', '--filter', 'dangling=true');
    assert.equal(row.stdout.trim(), `<none> <none> ${id.slice(7, 19)}`);
    const rm = await docker('rmi', id.slice(7, 19));
    ok(rm, 'rmi unnamed');
    assert.equal(rm.stdout.split('\n')[0], `Deleted: ${id}`);
    assert.equal((await docker('image', 'inspect', id)).code, 1, 'gone');

    // a name moving away from an image a container uses leaves it as <none>; prune (dangling) takes it once unused
    const first = (await cli(V28, ['import', '-m', 'one', '-', 'keep:1'], tar)).stdout.trim();
    users = [`c0ffee${'0'.repeat(58)}`];
    const second = (await cli(V28, ['import', '-m', 'two', '-', 'keep:1'], tar)).stdout.trim();
    assert.notEqual(first, second);
    const kept = await docker('image', 'inspect', '--format', '{{json .RepoTags}}', first);
    ok(kept, 'the old image is still there');
    assert.equal(kept.stdout.trim(), '[]');
    users = [];
    const pruned = await docker('image', 'prune', '-f');
    ok(pruned, 'prune');
    assert.match(pruned.stdout, new RegExp(`^deleted: ${first}$`, 'm'));
    assert.doesNotMatch(pruned.stdout, new RegExp(second), 'a tagged image is not dangling');
    ok(await docker('rmi', 'keep:1'), 'rmi keep');
  });

  test('docker login (/auth) against a token registry, then a pull with X-Registry-Auth', async () => {
    const priv = await startRegistry({ mode: 'token', users: { alice: 's3cret' }, grant: (user, _repo, actions) => (user ? actions : []) });
    try {
      await putImage(priv, 'private/bb', '1', [img]);
      const where = `localhost:${priv.port}`;
      const anon = await docker('pull', `${where}/private/bb:1`);
      assert.equal(anon.code, 1);
      assert.match(
        anon.stderr,
        new RegExp(`pull access denied for ${where}/private/bb, repository does not exist or may require 'docker login'`),
      );

      const wrong = await cli(V28, ['login', '-u', 'alice', '--password-stdin', where], Buffer.from('nope\n'));
      assert.equal(wrong.code, 1, wrong.stdout);
      assert.match(
        wrong.stderr,
        /Error response from daemon: Get "http:\/\/localhost:\d+\/v2\/": unauthorized: invalid username or password/,
      );

      const raw = await api(
        'POST',
        '/v1.41/auth',
        { 'Content-Type': 'application/json' },
        JSON.stringify({ username: 'alice', password: 'nope', serveraddress: where }),
      );
      assert.equal(raw.status, 401, raw.body);
      assert.equal(JSON.parse(raw.body).message, `Get "http://${where}/v2/": unauthorized: invalid username or password`);
      const good = await api(
        'POST',
        '/v1.41/auth',
        { 'Content-Type': 'application/json' },
        JSON.stringify({ username: 'alice', password: 's3cret', serveraddress: `http://${where}` }),
      );
      assert.equal(good.status, 200, good.body);
      const answer = JSON.parse(good.body) as { IdentityToken: string; Status: string };
      assert.deepEqual(Object.keys(answer), ['IdentityToken', 'Status']);
      assert.equal(answer.Status, 'Login Succeeded');
      assert.ok(answer.IdentityToken.length > 0, 'a refresh token as the identity token');

      const login = await cli(V28, ['login', '-u', 'alice', '--password-stdin', where], Buffer.from('s3cret\n'));
      ok(login, 'login');
      assert.match(login.stdout, /Login Succeeded/);
      const pulled = await docker('pull', `${where}/private/bb:1`);
      ok(pulled, 'pull after login');
      assert.match(pulled.stdout, new RegExp(`^Status: (Downloaded newer image|Image is up to date) for ${where}/private/bb:1$`, 'm'));
      assert.ok(
        priv.tokenRequests.some((r) => r.user === 'alice' && r.scopes.includes('repository:private/bb:pull')),
        JSON.stringify(priv.tokenRequests),
      );
      await docker('rmi', `${where}/private/bb:1`);
    } finally {
      await priv.stop();
    }
  });

  test('docker image prune -a removes what no container uses', async () => {
    users = [];
    const r = await docker('image', 'prune', '-a', '-f');
    ok(r, 'prune');
    assert.match(r.stdout, new RegExp(`^deleted: ${img.config.digest}$`, 'm'));
    assert.match(r.stdout, /^Total reclaimed space: [1-9]/m);
    assert.equal((await docker('images', '-q')).stdout.trim(), '');
  });

  test('two clients pulling the same image at once: both finish, one image', async () => {
    await svc.gc({ ingestGrace: 0 });
    const [a, b] = await Promise.all([docker('pull', `${host}/busybox:1`), cli(V20, ['pull', `${host}/busybox:1`])]);
    ok(a!, 'first');
    ok(b!, 'second');
    for (const r of [a!, b!])
      assert.match(r.stdout, new RegExp(`^Status: (Downloaded newer image|Image is up to date) for ${host}/busybox:1$`, 'm'));
    assert.equal((await docker('images', '-q')).stdout.trim(), img.config.digest.slice(7, 19));
  });
});
