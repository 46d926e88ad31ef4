/**
 * The real docker CLIs (v28 at /usr/local/bin/docker, 20.10 at /usr/bin/docker) against the API
 * server with the archive routes, whose `withRootfs` lends a temp directory as container `c1`:
 * `docker cp` both ways (files, directories, `/.`, onto an existing file, `-a`), the `-` tar
 * stdin/stdout forms, `docker export`, and what the CLI prints for a missing path.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import {
  chownSync,
  existsSync,
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
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { archiveRoutes } from '../src/api/routes/archive.js';
import { systemRoutes } from '../src/api/routes/system.js';
import { type ApiServer, createApiServer } from '../src/api/server.js';
import { BerthError } from '../src/common/errors.js';
import { EventBus } from '../src/engine/events.js';
import { listTar, packTar } from './helpers/tar.js';

const CLIS = ['/usr/local/bin/docker', '/usr/bin/docker'].filter((c) => existsSync(c));
const skip = process.getuid?.() !== 0 ? 'needs root (ownership)' : CLIS.length === 0 ? 'no docker CLI installed' : undefined;

let base: string;
let root: string;
let work: string;
let server: ApiServer;
let env: NodeJS.ProcessEnv;

before(async () => {
  if (skip) return;
  base = mkdtempSync(join(tmpdir(), 'berth-cp-cli-'));
  root = join(base, 'root');
  work = join(base, 'work');
  mkdirSync(work);
  mkdirSync(join(root, 'etc'), { recursive: true });
  writeFileSync(join(root, 'etc/passwd'), 'root:x:0:0:container:/root:/bin/sh\n');
  mkdirSync(join(root, 'data/sub'), { recursive: true });
  writeFileSync(join(root, 'data/f'), 'file f');
  writeFileSync(join(root, 'data/sub/g'), 'file g');
  mkdirSync(join(root, 'dst'));
  mkdirSync(join(base, 'sentinel'));
  writeFileSync(join(base, 'sentinel/secret'), 'secret');
  symlinkSync(join(base, 'sentinel'), join(root, 'tohost'));
  symlinkSync('/data', join(root, 'datalink'));
  server = createApiServer([
    ...systemRoutes({ events: new EventBus() }),
    ...archiveRoutes({
      withRootfs: async (idOrName, fn) => {
        if (idOrName !== 'c1') throw new BerthError('not-found', `No such container: ${idOrName}`);
        return fn(root, 'c1');
      },
    }),
  ]);
  const [addr] = await server.listen([`unix://${join(base, 'api.sock')}`]);
  mkdirSync(join(base, 'config'));
  env = { PATH: process.env.PATH, HOME: base, DOCKER_HOST: addr, DOCKER_CONFIG: join(base, 'config') };
});

after(async () => {
  await server?.close();
  if (base) rmSync(base, { recursive: true, force: true });
});

/** The CLI, asynchronously (the server answering it runs in this process). */
function docker(cli: string, args: string[], input?: Buffer): Promise<{ code: number | null; stdout: Buffer; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cli, args, { env, cwd: work, timeout: 20_000 });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString() }));
    child.stdin.end(input);
  });
}
async function ok(cli: string, args: string[], input?: Buffer): Promise<Buffer> {
  const r = await docker(cli, args, input);
  assert.equal(r.code, 0, `${cli} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

for (const cli of CLIS) {
  describe(`docker cp with ${cli}`, { skip }, () => {
    const out = () => join(work, cli.replace(/\W/g, '_'));
    before(() => {
      if (!skip) mkdirSync(out(), { recursive: true });
    });

    test('from the container: a file, a directory, its contents (/.)', async () => {
      await ok(cli, ['cp', 'c1:/etc/passwd', join(out(), 'passwd')]);
      assert.equal(readFileSync(join(out(), 'passwd'), 'utf8'), readFileSync(join(root, 'etc/passwd'), 'utf8'));
      await ok(cli, ['cp', 'c1:/data', join(out(), 'copy')]);
      assert.equal(readFileSync(join(out(), 'copy/sub/g'), 'utf8'), 'file g');
      mkdirSync(join(out(), 'into'));
      await ok(cli, ['cp', 'c1:/data/.', join(out(), 'into')]);
      assert.equal(readFileSync(join(out(), 'into/f'), 'utf8'), 'file f');
    });

    test('into the container: a file into a dir, a dir, onto an existing file, -a', async () => {
      writeFileSync(join(out(), 'local'), 'from the host');
      await ok(cli, ['cp', join(out(), 'local'), 'c1:/dst/']);
      assert.equal(readFileSync(join(root, 'dst/local'), 'utf8'), 'from the host');
      assert.equal(statSync(join(root, 'dst/local')).uid, 0);
      mkdirSync(join(out(), 'ldir/inner'), { recursive: true });
      writeFileSync(join(out(), 'ldir/inner/x'), 'x');
      chownSync(join(out(), 'ldir/inner/x'), 4321, 4321);
      await ok(cli, ['cp', join(out(), 'ldir'), 'c1:/dst/ldir']);
      assert.equal(readFileSync(join(root, 'dst/ldir/inner/x'), 'utf8'), 'x');
      assert.equal(statSync(join(root, 'dst/ldir/inner/x')).uid, 0, 'owned by root without -a');
      await ok(cli, ['cp', '-a', join(out(), 'ldir'), 'c1:/dst/ldir-a']);
      assert.equal(statSync(join(root, 'dst/ldir-a/inner/x')).uid, 4321, '-a keeps the owner');
      writeFileSync(join(out(), 'newpasswd'), 'replaced\n');
      await ok(cli, ['cp', join(out(), 'newpasswd'), 'c1:/dst/local']);
      assert.equal(readFileSync(join(root, 'dst/local'), 'utf8'), 'replaced\n', 'an existing file is replaced');
    });

    test('-L follows a link (through the stat linkTarget); without it the link is copied', async () => {
      await ok(cli, ['cp', '-L', 'c1:/datalink', join(out(), 'followed')]);
      assert.equal(readFileSync(join(out(), 'followed/f'), 'utf8'), 'file f');
      await ok(cli, ['cp', 'c1:/datalink', join(out(), 'asis')]);
      assert.equal(readlinkSync(join(out(), 'asis')), '/data');
    });

    test('the - forms: a tar on stdout, a tar from stdin', async () => {
      const tar = await ok(cli, ['cp', 'c1:/data', '-']);
      const names = (await listTar(tar)).map((e) => e.name);
      assert.deepEqual(names, ['data/', 'data/f', 'data/sub/', 'data/sub/g']);
      await ok(cli, ['cp', '-', 'c1:/dst'], await packTar([{ name: `stdin-${cli.length}`, data: 'via stdin' }]));
      assert.equal(readFileSync(join(root, `dst/stdin-${cli.length}`), 'utf8'), 'via stdin');
    });

    test('errors as the CLI shows them; nothing read through a link out of the root', async () => {
      const missing = await docker(cli, ['cp', 'c1:/nonexist', join(out(), 'n')]);
      assert.notEqual(missing.code, 0);
      // the 20.10 CLI rewrites any 404 as "No such container:path"; v28 shows the daemon's text
      assert.match(missing.stderr, /Could not find the file \/nonexist in container c1|No such container:path: c1:\/nonexist/);
      const outside = await docker(cli, ['cp', 'c1:/tohost/secret', join(out(), 's')]);
      assert.notEqual(outside.code, 0);
      assert.match(outside.stderr, /Could not find the file \/tohost\/secret in container c1|No such container:path: c1:\/tohost\/secret/);
      assert.equal(existsSync(join(out(), 's')), false);
      const noCtr = await docker(cli, ['cp', 'nope:/etc/passwd', join(out(), 'n')]);
      assert.match(noCtr.stderr, /No such container(:path)?: nope/);
    });

    test('docker export, to a file and to stdout', async () => {
      await ok(cli, ['export', '-o', join(out(), 'export.tar'), 'c1']);
      const names = (await listTar(readFileSync(join(out(), 'export.tar')))).map((e) => e.name);
      const viaStdout = (await listTar(await ok(cli, ['export', 'c1']))).map((e) => e.name);
      assert.deepEqual(viaStdout, names);
      assert.ok(names.includes('etc/passwd') && names.includes('data/sub/g') && names.includes('tohost'), names.join(','));
      assert.ok(!names.some((n) => n.includes('secret')));
    });
  });
}

/** One raw request on the socket: status, headers, body (or the first bytes, then a hang-up). */
function http(
  method: string,
  path: string,
  hangUpAfter?: number,
): Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: join(base, 'api.sock'), method, path }, (res) => {
      const chunks: Buffer[] = [];
      let got = 0;
      res.on('data', (c: Buffer) => {
        chunks.push(c);
        got += c.length;
        if (hangUpAfter !== undefined && got >= hangUpAfter) {
          req.destroy();
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) });
        }
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', () => {});
    });
    req.on('error', (e) => (hangUpAfter === undefined ? reject(e) : undefined));
    req.end();
  });
}

describe('the archive routes on the wire', { skip }, () => {
  test('HEAD: the stat header, base64 JSON; a missing path parameter is a 400', async () => {
    const r = await http('HEAD', '/v1.41/containers/c1/archive?path=%2Fetc%2Fpasswd');
    assert.equal(r.status, 200);
    const stat = JSON.parse(Buffer.from(String(r.headers['x-docker-container-path-stat']), 'base64').toString());
    assert.deepEqual(Object.keys(stat), ['name', 'size', 'mode', 'mtime', 'linkTarget']);
    assert.equal(stat.name, 'passwd');
    const bad = await http('GET', '/containers/c1/archive');
    assert.equal(bad.status, 400);
    assert.deepEqual(JSON.parse(bad.body.toString()), { message: 'bad parameter: path cannot be empty' });
    const missing = await http('GET', '/containers/c1/archive?path=/nope');
    assert.equal(missing.status, 404);
    assert.equal(missing.headers['content-type'], 'application/json');
  });

  test('PUT: a client hanging up mid-upload leaves no berth-unpack behind and writes no half file', async () => {
    const { packTar } = await import('./helpers/tar.js');
    const tar = await packTar([{ name: 'half', data: Buffer.alloc(1 << 20, 7) }]);
    await new Promise<void>((resolve) => {
      const req = request({ socketPath: join(base, 'api.sock'), method: 'PUT', path: '/containers/c1/archive?path=/dst' });
      req.on('error', () => resolve());
      req.write(tar.subarray(0, 200_000));
      setTimeout(() => {
        req.destroy();
        resolve();
      }, 300);
    });
    const helpers = () =>
      readdirSync('/proc')
        .filter((p) => /^\d+$/.test(p))
        .filter((p) => {
          try {
            const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
            return stat.includes('(berth-unpack)') && stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1] === String(process.pid);
          } catch {
            return false;
          }
        });
    for (let i = 0; i < 100 && helpers().length > 0; i++) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(helpers(), [], 'the helper was killed');
    // a partly written file may remain (as with Docker); it is never more than what was sent
    if (existsSync(join(root, 'dst/half'))) assert.ok(statSync(join(root, 'dst/half')).size <= 200_000);
  });

  test('GET: application/x-tar; a client hanging up mid-tar leaves no fd open', async () => {
    mkdirSync(join(root, 'big'), { recursive: true });
    for (let i = 0; i < 50; i++) writeFileSync(join(root, 'big', `f${i}`), Buffer.alloc(256 * 1024, i));
    const fds = readdirSync('/proc/self/fd').length;
    const r = await http('GET', '/containers/c1/archive?path=/big', 64 * 1024);
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'application/x-tar');
    for (let i = 0; i < 100 && readdirSync('/proc/self/fd').length > fds; i++) await new Promise((res) => setTimeout(res, 20));
    assert.ok(readdirSync('/proc/self/fd').length <= fds, 'the walk stopped and closed its fds');
    rmSync(join(root, 'big'), { recursive: true });
  });
});
