/**
 * The image commands of `berth` (dist/berth.cjs) against a private berthd and real registries
 * (docker-registry: anonymous, htpasswd, token), compared with the v28 docker CLI against the
 * same berthd where that is cheap: outputs, exit codes, errors, and logins shared both ways
 * through the same config.json.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Berthd, berthdUnavailable, DOCKER_V28 } from './helpers/berthd.js';
import { busyboxTar, imageOf, putImage } from './helpers/images.js';
import { registryMissing, startRegistry, type TestRegistry } from './helpers/registry.js';
import { REPO_ROOT, type RunResult, runCommand } from './helpers/runtime.js';
import { packTar } from './helpers/tar.js';

const BIN = join(REPO_ROOT, 'dist', 'berth.cjs');
const skip = berthdUnavailable() ?? registryMissing() ?? (existsSync(BIN) ? false : `${BIN} not built (node scripts/bundle.mjs)`);

describe('berth image commands', { skip, concurrency: false }, () => {
  let d: Berthd;
  let anon: TestRegistry;
  let basic: TestRegistry;
  let token: TestRegistry;
  let dir: string;
  /** berth's and docker's config dirs (the same one when logins are shared). */
  let berthConfig: string;
  let dockerConfig: string;
  let rootTar: string;

  const env = (config: string) => ({
    DOCKER_HOST: d.host,
    DOCKER_CONFIG: config,
    HOME: dir,
    BERTH_NO_AUTOSTART: '1',
    NODE_EXTRA_CA_CERTS: undefined,
    DOCKER_BUILDKIT: '0',
  });
  const berth = (args: string[], o: { input?: string; config?: string } = {}): Promise<RunResult> =>
    runCommand([process.execPath, BIN, ...args], {
      env: env(o.config ?? berthConfig),
      guardMs: 60_000,
      ...(o.input !== undefined ? { input: o.input } : {}),
    });
  const docker = (args: string[], o: { input?: string; config?: string } = {}): Promise<RunResult> =>
    runCommand([DOCKER_V28, ...args], {
      env: env(o.config ?? dockerConfig),
      guardMs: 60_000,
      ...(o.input !== undefined ? { input: o.input } : {}),
    });
  /** Both CLIs: the same exit code and output, `docker` read as `berth`. */
  const same = async (args: string[], o: { input?: string; readOnly?: boolean } = {}) => {
    // read-only commands run side by side (the suite's time), others one after the other
    const [b, k] = o.readOnly ? await Promise.all([berth(args, o), docker(args, o)]) : [await berth(args, o), await docker(args, o)];
    const norm = (s: string) =>
      s
        .replaceAll(dockerConfig, '<config>')
        .replaceAll(berthConfig, '<config>')
        .replace(/\bdocker(?=[ :'])/g, 'berth')
        // the two calls are a moment apart: "41 seconds ago" may be "42 seconds ago" (and a
        // table one column wider); the alignment itself is checked on berth's own tables
        .replace(/\b(\d+ seconds|About a minute|\d+ minutes) ago\b/g, 'a while ago')
        .replace(/(?<=\S) {2,}(?=\S)/g, '  ');
    assert.equal(b.code, k.code, `${b.command}: exit ${b.code} vs docker's ${k.code}\n${b.stderr}\n${k.stderr}`);
    assert.equal(norm(b.stderr), norm(k.stderr), b.command);
    assert.equal(norm(b.stdout), norm(k.stdout), b.command);
    return b;
  };
  const hasRoute = async (method: string, path: string) => {
    const r = await d.api(method, path);
    return !(r.status === 404 && /page not found/.test(r.text));
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'berth-cli-images-'));
    berthConfig = join(dir, 'berth-config');
    dockerConfig = join(dir, 'docker-config');
    mkdirSync(berthConfig);
    mkdirSync(dockerConfig);
    const users = { alice: 'pw' };
    [d, anon, basic, token] = await Promise.all([
      Berthd.start(),
      startRegistry({ mode: 'anonymous' }),
      startRegistry({ mode: 'basic', users }),
      startRegistry({ mode: 'token', users }),
    ]);
    const tar = busyboxTar(dir);
    rootTar = join(dir, 'root.tar');
    writeFileSync(rootTar, tar);
    const img = imageOf([tar], { docker: true });
    await Promise.all([anon, basic, token].map((r) => putImage(r, 'bb', 'v1', [img])));
  });

  after(async () => {
    await Promise.all([d?.stop(), anon?.stop(), basic?.stop(), token?.stop()]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("pull: Docker's lines off a terminal, then the reference; up to date the second time; -q", async () => {
    const ref = `${anon.host}/bb:v1`;
    const first = await berth(['pull', ref]);
    assert.equal(first.code, 0, first.stderr);
    const lines = first.stdout.split('\n');
    assert.equal(lines[0], 'v1: Pulling from bb');
    assert.match(first.stdout, /^[0-9a-f]{12}: Pull complete$/m);
    assert.match(first.stdout, /^Digest: sha256:[0-9a-f]{64}$/m);
    assert.match(first.stdout, new RegExp(`Status: Downloaded newer image for ${ref}\n${ref}\n$`));
    assert.ok(!first.stdout.includes('\x1b['), 'no cursor moves off a terminal');
    // the same pull again, and docker's, against the same berthd: the same text
    const again = await same(['pull', ref]);
    assert.match(again.stdout, /Status: Image is up to date for/);
    const q = await same(['pull', '-q', ref]);
    assert.equal(q.stdout, `${ref}\n`);
  });

  it('pull: default tag, unknown tags, bad names, -a, a private registry without login', async () => {
    const missing = await same(['pull', `${anon.host}/bb`]);
    assert.equal(missing.code, 1);
    assert.equal(missing.stdout, 'Using default tag: latest\n');
    assert.match(missing.stderr, /^Error response from daemon: manifest for .*\/bb:latest not found/);
    const bad = await same(['pull', 'BAD']);
    assert.equal(bad.stderr, 'invalid reference format: repository name (library/BAD) must be lowercase\n');
    await same(['pull', 'a:b:c']);
    await same(['pull', '-a', `${anon.host}/bb:v1`]);
    // every tag of the repository, as docker's -a on dockerd (berthd lists them from the registry)
    const all = await same(['pull', '-a', `${anon.host}/bb`]);
    assert.equal(all.code, 0, all.stderr);
    assert.match(all.stdout, /^v1: Pulling from bb$/m);
    assert.match(all.stdout, /^Status: (Downloaded newer image|Image is up to date) for .*\/bb$/m);
    const denied = await same(['pull', `${basic.host}/bb:v1`]);
    assert.equal(denied.code, 1);
    assert.match(denied.stderr, /pull access denied .* may require 'docker login'/);
  });

  it('pull on a terminal: one line per layer redrawn in place', async () => {
    // a layer this berthd never had: it is downloaded, whatever the GC kept of earlier pulls
    // (a layer still here, even of a removed image, is rightly "Already exists", as dockerd says)
    const fresh = await packTar([{ name: 'tty-pull', data: randomBytes(16).toString('hex') }]);
    await putImage(anon, 'bb', 'tty', [imageOf([fresh], { docker: true })]);
    const ref = `${anon.host}/bb:tty`;
    // script(1) gives berth a pty; the output is the terminal's bytes
    const r = await runCommand(['script', '-qec', `${process.execPath} ${BIN} pull ${ref}`, '/dev/null'], {
      env: { ...env(berthConfig), COLUMNS: '150' },
      guardMs: 60_000,
    });
    assert.equal(r.code, 0, r.stdout);
    const E = '\x1b[';
    assert.ok(new RegExp(`${E.replace('[', '\\[')}1A${E.replace('[', '\\[')}2K\r[0-9a-f]{12}: Pulling fs layer`).test(r.stdout), r.stdout);
    assert.ok(r.stdout.includes(`${E}1B`));
    assert.match(r.stdout, /Pull complete/);
  });

  it("login/logout: the same config.json as docker, shared both ways, docker's texts", async () => {
    const shared = join(dir, 'shared');
    mkdirSync(shared);
    // berth logs in; the file is exactly what docker writes for the same login
    const b = await berth(['login', '-u', 'alice', '-p', 'pw', basic.host], { config: shared });
    assert.equal(b.code, 0, b.stderr);
    assert.equal(b.stdout, 'Login Succeeded\n');
    const k = await docker(['login', '-u', 'alice', '-p', 'pw', basic.host]);
    assert.equal(b.stderr.replace(shared, '<c>'), k.stderr.replace(dockerConfig, '<c>'));
    assert.equal(readFileSync(join(shared, 'config.json'), 'utf8'), readFileSync(join(dockerConfig, 'config.json'), 'utf8'));
    // docker pulls the private image with berth's login
    const dk = await docker(['pull', `${basic.host}/bb:v1`], { config: shared });
    assert.equal(dk.code, 0, dk.stderr);
    // logout: gone for both
    const out = await same(['logout', basic.host]);
    assert.equal(out.stdout, `Removing login credentials for ${basic.host}\n`);
    const lo = await berth(['logout', basic.host], { config: shared });
    assert.equal(lo.code, 0);
    assert.equal(JSON.parse(readFileSync(join(shared, 'config.json'), 'utf8')).auths[basic.host], undefined);
    await berth(['rmi', `${basic.host}/bb:v1`]);
    const denied = await berth(['pull', `${basic.host}/bb:v1`], { config: shared });
    assert.equal(denied.code, 1);

    // docker logs in to the token registry (an identity token); berth pulls with it
    const t = await docker(['login', '-u', 'alice', '--password-stdin', token.host], { config: shared, input: 'pw\n' });
    assert.equal(t.code, 0, t.stderr);
    assert.ok(JSON.parse(readFileSync(join(shared, 'config.json'), 'utf8')).auths[token.host].identitytoken);
    const p = await berth(['pull', `${token.host}/bb:v1`], { config: shared });
    assert.equal(p.code, 0, p.stderr);
    assert.match(p.stdout, /Status: Downloaded newer image/);
    // and berth's own login there stores the identity token the same way (no "unencrypted" warning: no password kept)
    const bt = await berth(['login', '-u', 'alice', '--password-stdin', token.host], { input: 'pw\n' });
    assert.equal(bt.code, 0, bt.stderr);
    assert.equal(bt.stderr, '');
    const entry = JSON.parse(readFileSync(join(berthConfig, 'config.json'), 'utf8')).auths[token.host];
    assert.equal(entry.auth, Buffer.from('alice:').toString('base64'));
    assert.match(entry.identitytoken, /^[0-9a-f-]{36}$/);
  });

  it('login through a credential helper (credsStore) and on a terminal, shared with docker', async () => {
    const cfg = join(dir, 'helper-config');
    const bin = join(dir, 'bin');
    mkdirSync(cfg);
    mkdirSync(bin, { recursive: true });
    // a docker-credential-* helper keeping one secret per server in files
    const store = join(dir, 'helper-store');
    mkdirSync(store);
    writeFileSync(
      join(bin, 'docker-credential-filestore'),
      `#!/bin/sh\nset -e\nin=$(cat)\ncase "$1" in\n` +
        `store) url=$(printf '%s' "$in" | sed 's/.*"ServerURL":"\\([^"]*\\)".*/\\1/'); printf '%s' "$in" > "${store}/$url" ;;\n` +
        `get) if [ -f "${store}/$in" ]; then cat "${store}/$in"; else echo "credentials not found in native keychain"; exit 1; fi ;;\n` +
        `erase) rm -f "${store}/$in" ;;\nesac\n`,
      { mode: 0o755 },
    );
    writeFileSync(join(cfg, 'config.json'), JSON.stringify({ credsStore: 'filestore' }));
    const path = `${bin}:${process.env.PATH}`;
    const withPath = (args: string[], cli: 'berth' | 'docker', input?: string) =>
      runCommand(cli === 'berth' ? [process.execPath, BIN, ...args] : [DOCKER_V28, ...args], {
        env: { ...env(cfg), PATH: path },
        guardMs: 60_000,
        ...(input !== undefined ? { input } : {}),
      });
    const b = await withPath(['login', '-u', 'alice', '--password-stdin', basic.host], 'berth', 'pw\n');
    assert.equal(b.code, 0, b.stderr);
    assert.equal(b.stderr, '', 'no "unencrypted" warning with a helper');
    assert.deepEqual(JSON.parse(readFileSync(join(cfg, 'config.json'), 'utf8')), { credsStore: 'filestore', auths: { [basic.host]: {} } });
    assert.deepEqual(JSON.parse(readFileSync(join(store, basic.host), 'utf8')), { ServerURL: basic.host, Username: 'alice', Secret: 'pw' });
    await berth(['rmi', `${basic.host}/bb:v1`]);
    const dk = await withPath(['pull', `${basic.host}/bb:v1`], 'docker');
    assert.equal(dk.code, 0, dk.stderr);
    const lo = await withPath(['logout', basic.host], 'berth');
    assert.equal(lo.code, 0, lo.stderr);
    assert.ok(!existsSync(join(store, basic.host)), 'erased from the helper');

    // on a terminal: Username and Password asked, the password not echoed
    const pty = await runCommand(
      [
        'sh',
        '-c',
        `(sleep 1; printf 'alice\\r'; sleep 0.5; printf 'pw\\r'; sleep 1) | script -qec "${process.execPath} ${BIN} login ${basic.host}" /dev/null`,
      ],
      { env: env(join(dir, 'pty-config')), guardMs: 60_000 },
    );
    assert.equal(pty.code, 0, pty.stdout);
    assert.match(pty.stdout, /^Username: alice\r\nPassword: \r\n/);
    assert.match(pty.stdout, /Login Succeeded\r\n$/);
    assert.equal(
      JSON.parse(readFileSync(join(dir, 'pty-config', 'config.json'), 'utf8')).auths[basic.host].auth,
      Buffer.from('alice:pw').toString('base64'),
    );
  });

  it('login: bad input and refusals, as docker says them', async () => {
    const wrong = await same(['login', '-u', 'alice', '-p', 'nope', basic.host]);
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /Error response from daemon: login attempt to http:\/\/.* failed with status: 401 Unauthorized/);
    await same(['login', '-u', 'a', '-p', 'x', '--password-stdin', basic.host], { input: 'x' });
    await same(['login', '--password-stdin', basic.host], { input: 'x' });
    const tty = await same(['login', '-p', 'x', basic.host]);
    assert.match(tty.stderr, /Cannot perform an interactive login from a non TTY device/);
    // stored credentials are tried first
    await same(['login', '-u', 'alice', '-p', 'pw', basic.host]);
    const stored = await same(['login', basic.host]);
    assert.equal(stored.code, 0);
    assert.match(stored.stderr, /^Authenticating with existing credentials\.\.\. \[Username: alice\]/);
    await same(['logout', basic.host]);
    await same(['logout']);
  });

  it('tag and rmi: Untagged/Deleted lines, errors gathered, -f', async () => {
    const ref = `${anon.host}/bb:v1`;
    await berth(['pull', '-q', ref]);
    assert.equal((await berth(['tag', ref, 'mine:1'])).code, 0);
    assert.equal((await berth(['tag', ref, 'mine:2'])).code, 0);
    await same(['tag', 'nope', 'x']);
    await same(['tag', ref, 'BAD']);
    await same(['tag', ref, 'x@sha256:0000000000000000000000000000000000000000000000000000000000000000']);
    const one = await berth(['rmi', 'mine:1']);
    assert.equal(one.stdout, 'Untagged: mine:1\n');
    const both = await berth(['rmi', 'mine:2', 'nope', ref]);
    assert.equal(both.code, 1);
    assert.equal(both.stderr, 'Error response from daemon: No such image: nope:latest\n');
    assert.match(
      both.stdout,
      /^Untagged: mine:2\nUntagged: .*\/bb:v1\nUntagged: .*\/bb@sha256:[0-9a-f]{64}\n(Deleted: sha256:[0-9a-f]{64}\n)*$/,
    );
    await same(['rmi', '-f', 'nope']);
    await same(['rmi', 'nope', 'nope2']);
  });

  it('import: a file, stdin, -c and -m; URLs, missing files and bad names refused', async () => {
    const r = await berth(['import', '-c', 'CMD ["sh"]', '-c', 'ENV A=1', '-m', 'hello', rootTar, 'imp:1']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^sha256:[0-9a-f]{64}\n$/);
    const inspect = await d.api('GET', '/images/imp:1/json');
    const body = inspect.body as { Id: string; Comment: string; Config: { Cmd: string[]; Env: string[] } };
    assert.equal(body.Id, r.stdout.trim());
    assert.equal(body.Comment, 'hello');
    assert.deepEqual(body.Config.Cmd, ['sh']);
    assert.ok(body.Config.Env.includes('A=1'));
    const piped = await runCommand(['sh', '-c', `${process.execPath} ${BIN} import - imp:2 < ${rootTar}`], { env: env(berthConfig) });
    assert.equal(piped.code, 0, piped.stderr);
    assert.equal((await d.api('GET', '/images/imp:2/json')).status, 200);
    const url = await same(['import', 'http://127.0.0.1:1/x.tar']);
    assert.equal(url.code, 1);
    assert.match(url.stderr, /fetches no URLs/);
    await same(['import', join(dir, 'nonexistent.tar')]);
    await same(['import', rootTar, 'BAD']);
    await berth(['rmi', 'imp:1', 'imp:2']);
  });

  it('save and load: refusals as docker; an archive round trip when berthd serves /images/get and /images/load', async (t) => {
    const pty = await runCommand(['script', '-qec', `${process.execPath} ${BIN} save busybox`, '/dev/null'], { env: env(berthConfig) });
    assert.match(pty.stdout, /cowardly refusing to save to a terminal\. Use the -o flag or redirect/);
    await same(['save', '-o', join(dir, 'no', 'such', 'dir.tar'), 'busybox']);
    await same(['save', '-o', dir, 'busybox']);
    await same(['load', '-i', join(dir, 'nonexistent.tar')]);
    const ttyLoad = await runCommand(['script', '-qec', `${process.execPath} ${BIN} load`, '/dev/null'], { env: env(berthConfig) });
    assert.match(ttyLoad.stdout, /requested load from stdin, but stdin is empty/);
    if (!(await hasRoute('GET', '/images/get?names=busybox')) || !(await hasRoute('POST', '/images/load'))) {
      t.skip('berthd does not serve /images/get and /images/load yet');
      return;
    }
    const archive = join(dir, 'bb.tar');
    const s = await berth(['save', '-o', archive, 'busybox']);
    assert.equal(s.code, 0, s.stderr);
    assert.ok(readFileSync(archive).length > 1024);
    await berth(['rmi', 'busybox']);
    const l = await same(['load', '-i', archive]);
    assert.equal(l.stdout, 'Loaded image: busybox:latest\n');
    const q = await berth(['load', '-q', '-i', archive]);
    assert.equal(q.code, 0);
  });

  it('push: to the anonymous registry, and to the htpasswd one with a login, when berthd serves push', async (t) => {
    if (!(await hasRoute('POST', '/images/nope/push'))) {
      t.skip('berthd does not serve /images/{name}/push yet');
      return;
    }
    const ref = `${anon.host}/pushed:v1`;
    await berth(['tag', 'busybox', ref]);
    const p = await berth(['push', ref]);
    assert.equal(p.code, 0, p.stderr);
    assert.match(p.stdout, new RegExp(`^The push refers to repository \\[${anon.host}/pushed\\]\n`));
    assert.match(p.stdout, /^[0-9a-f]{12}: Pushed$/m);
    assert.match(p.stdout, /^v1: digest: sha256:[0-9a-f]{64} size: \d+\n$/m);
    const again = await same(['push', ref]);
    assert.match(again.stdout, /Layer already exists/);
    const q = await same(['push', '-q', ref]);
    assert.equal(q.stdout, `${ref}\n`);
    const priv = `${basic.host}/pushed:v1`;
    await berth(['tag', 'busybox', priv]);
    const denied = await berth(['push', priv]);
    assert.equal(denied.code, 1);
    await berth(['login', '-u', 'alice', '-p', 'pw', basic.host]);
    const ok = await berth(['push', priv]);
    assert.equal(ok.code, 0, ok.stderr);
    await same(['push', '-a', `${anon.host}/pushed:v1`]);
    await same(['push', 'nope:1']);
  });

  it('images, history, image inspect: the same text as docker, formats and errors', async () => {
    const ref = `${anon.host}/bb:v1`;
    await berth(['pull', '-q', ref]);
    // rows of one image under several names come in Go's random map order in docker: only
    // images with one name each are compared whole (the others' extra names are removed)
    const list = (await d.api('GET', '/images/json')).body as { RepoTags: string[] | null }[];
    for (const img of list) {
      const tags = img.RepoTags ?? [];
      const keep = tags.includes('busybox:latest') ? 'busybox:latest' : tags[0];
      for (const extra of tags.filter((t) => t !== keep)) await d.api('DELETE', `/images/${extra}`);
    }
    const cases: string[][] = [
      ['images'],
      ['images', '-a'],
      ['images', '-q'],
      ['images', '--digests'],
      ['images', '--no-trunc'],
      ['images', '--format', 'json'],
      ['images', '--format', '{{json .}}'],
      ['images', '--format', 'table {{.Repository}}\t{{.Size}}', '--digests'],
      ['images', '--format', '{{.CreatedAt}}|{{.Containers}}|{{.VirtualSize}}|{{.SharedSize}}|{{.UniqueSize}}'],
      ['images', 'busybox'],
      ['images', '-f', 'dangling=true'],
      ['images', '--format', '{{.Foo}}'],
      ['images', '--format', '{{.ID'],
      ['images', '-f', 'bad'],
      ['images', '--tree'],
      ['history', 'busybox'],
      ['history', '-H=false', 'busybox'],
      ['history', '--no-trunc', '-q', 'busybox'],
      ['history', '--format', 'json', 'busybox'],
      ['history', '--format', '{{.Foo}}', 'busybox'],
      ['history', 'nope'],
      ['image', 'inspect', 'busybox', ref],
      ['image', 'inspect', '-f', 'json', 'busybox'],
      ['image', 'inspect', '-f', '{{.Size}} {{json .RootFS}}', 'busybox'],
      ['image', 'inspect', '-f', '{{.Size}} {{.Foo}}', 'busybox'],
      ['image', 'inspect', 'nope', 'busybox'],
    ];
    // three comparisons at a time: all of them only read
    for (let i = 0; i < cases.length; i += 3) await Promise.all(cases.slice(i, i + 3).map((args) => same(args, { readOnly: true })));
    const table = await berth(['images']);
    assert.match(table.stdout, /^REPOSITORY +TAG +IMAGE ID +CREATED +SIZE\n/);
    assert.match(table.stdout, /\n127\.0\.0\.1:\d+\/bb +v1 +[0-9a-f]{12} +N\/A +2\.\d+MB\n/);
    assert.match(table.stdout, /\nbusybox +latest +[0-9a-f]{12} +\d+ \w+ ago +\d/);
  });

  it('image prune: the prompt, a refusal, filters, the report', async () => {
    const no = await same(['image', 'prune'], { input: 'n\n' });
    assert.equal(no.code, 0);
    assert.equal(no.stdout, 'WARNING! This will remove all dangling images.\nAre you sure you want to continue? [y/N] ');
    const bad = await same(['image', 'prune', '-f', '--filter', 'bad']);
    assert.equal(bad.code, 125);
    // a dangling image: an untagged import
    const imp = await berth(['import', rootTar]);
    const id = imp.stdout.trim();
    const yes = await berth(['image', 'prune'], { input: 'y\n' });
    assert.equal(yes.code, 0, yes.stderr);
    assert.match(yes.stdout, new RegExp(`Deleted Images:\ndeleted: ${id}\n(deleted: sha256:[0-9a-f]{64}\n)*\nTotal reclaimed space: `));
    await same(['image', 'prune', '-f']);
  });
});

describe('berth image commands: help, and a daemon that dies mid-stream', { skip: existsSync(BIN) ? false : `${BIN} not built` }, () => {
  it('--help word for word as the v28 docker CLI', { skip: existsSync(DOCKER_V28) ? false : 'no docker CLI' }, async () => {
    const env = { BERTH_NO_AUTOSTART: '1', NODE_EXTRA_CA_CERTS: undefined, DOCKER_HOST: 'unix:///nonexistent.sock' };
    await Promise.all(
      [
        ['pull'],
        ['push'],
        ['images'],
        ['rmi'],
        ['history'],
        ['save'],
        ['load'],
        ['import'],
        ['image', 'inspect'],
        ['image', 'prune'],
        ['login'],
        ['logout'],
        ['tag'],
      ].map(async (cmd) => {
        const [b, k] = await Promise.all([
          runCommand([process.execPath, BIN, ...cmd, '--help'], { env }),
          runCommand([DOCKER_V28, ...cmd, '--help'], { env }),
        ]);
        // docker's name becomes berth's, except in URLs
        assert.equal(b.stdout, k.stdout.replace(/\bdocker\b(?!\.com)/g, 'berth'), cmd.join(' '));
      }),
    );
  });

  it('pull and save: "unexpected EOF", exit 1, no partial archive left', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-cli-images-cut-'));
    const sock = join(dir, 'fake.sock');
    const server = createServer((req, res) => {
      if (req.url?.endsWith('/_ping')) {
        res.writeHead(200, { 'Api-Version': '1.41', 'Content-Type': 'text/plain' });
        res.end('OK');
        return;
      }
      res.writeHead(200, { 'Content-Type': req.url?.includes('/images/get') ? 'application/x-tar' : 'application/json' });
      res.write(
        req.url?.includes('/images/get')
          ? Buffer.alloc(4096)
          : '{"status":"Pulling from x","id":"latest"}\r\n{"status":"Downloading","progressDetail":{"current":1,"total":10},"id":"abc"}\r\n',
      );
      setTimeout(() => res.socket?.destroy(), 50);
    });
    await new Promise<void>((r) => server.listen(sock, r));
    t.after(() => {
      server.close();
      rmSync(dir, { recursive: true, force: true });
    });
    const env = { DOCKER_HOST: `unix://${sock}`, DOCKER_CONFIG: dir, BERTH_NO_AUTOSTART: '1', NODE_EXTRA_CA_CERTS: undefined };
    const pull = await runCommand([process.execPath, BIN, 'pull', 'x:latest'], { env, guardMs: 30_000 });
    assert.equal(pull.code, 1);
    assert.equal(pull.stdout, 'latest: Pulling from x\n');
    assert.equal(pull.stderr, 'unexpected EOF\n');
    const save = await runCommand([process.execPath, BIN, 'save', '-o', join(dir, 'x.tar'), 'x'], { env, guardMs: 30_000 });
    assert.equal(save.code, 1);
    assert.equal(save.stderr, 'failed to save image: unexpected EOF\n');
    assert.deepEqual(readdirSync(dir).sort(), ['fake.sock'], 'neither the archive nor its temp file is left');
  });
});
