/**
 * A real registry for tests: Debian's `docker-registry` (distribution 2.8) on a free loopback
 * port with a temporary storage root, in one of three modes:
 *
 *   - `anonymous`: no auth;
 *   - `basic`: htpasswd (bcrypt, written by `htpasswd -Bbn`);
 *   - `token`: the registry's `auth.token` with a token server run here, in Node: an RSA key and
 *     a self-signed certificate from `openssl` (the certificate is the registry's
 *     `rootcertbundle`), and RS256 JWTs whose header carries the certificate in `x5c`, which
 *     distribution 2.8 verifies against that bundle.
 *
 *   const reg = await startRegistry({ mode: 'token', users: { alice: 'pw' } });
 *   t.after(() => reg.stop());
 *
 * Test images are built in memory (`makeImage`) and put into the registry either by the caller's
 * own pusher or by `skopeo copy` from an OCI layout (`skopeoCopyIn`).
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createHash, createSign, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, request, type Server } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { findBinary } from './runtime.js';

const run = promisify(execFile);

export const REGISTRY_BIN = '/usr/bin/docker-registry';

export type RegistryMode = 'anonymous' | 'basic' | 'token';

export interface TokenRequest {
  method: string;
  account?: string;
  /** the user whose Basic credentials (or refresh token) were accepted */
  user?: string;
  service?: string;
  scopes: string[];
  grantType?: string;
}

export interface TestRegistry {
  mode: RegistryMode;
  /** `127.0.0.1:<port>`: the registry's host for references */
  host: string;
  port: number;
  /** the temporary directory holding config, storage, keys and logs */
  dir: string;
  storage: string;
  users: Record<string, string>;
  /** token mode: every request the token server answered (or refused) */
  tokenRequests: TokenRequest[];
  /** token mode: the token server's realm URL */
  realm?: string;
  /** token mode: refresh tokens handed out (`offline_token=true`), usable as identity tokens */
  issueRefreshToken?(user: string): string;
  /** the path of a blob's data file in the storage root (to tamper with it) */
  blobPath(digest: string): string;
  stop(): Promise<void>;
}

export interface RegistryStartOptions {
  mode: RegistryMode;
  /** user → password (basic and token modes) */
  users?: Record<string, string>;
  /** token mode: which actions a user (or anonymous, '') gets on a repository; default: all asked for by a known user, pull for anonymous */
  grant?: (user: string, repository: string, actions: string[]) => string[];
  /** serve https with a self-signed certificate for 127.0.0.1 */
  tls?: boolean;
}

export function registryMissing(): string | undefined {
  if (!findBinary('docker-registry')) return `needs ${REGISTRY_BIN} (Debian's docker-registry package)`;
  return undefined;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createNetServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

/** An RS256 JWT as distribution's token auth expects it (header x5c = the signing certificate). */
function signJwt(keyPem: string, certDerB64: string, claims: object): string {
  const header = { typ: 'JWT', alg: 'RS256', x5c: [certDerB64] };
  const signingInput = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  const sig = createSign('RSA-SHA256').update(signingInput).sign(keyPem);
  return `${signingInput}.${b64url(sig)}`;
}

function parseBasic(header: string | undefined): { user: string; pass: string } | undefined {
  const m = /^Basic\s+(\S+)$/i.exec(header ?? '');
  if (!m) return undefined;
  const text = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = text.indexOf(':');
  if (colon < 0) return undefined;
  return { user: text.slice(0, colon), pass: text.slice(colon + 1) };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

interface TokenServer {
  server: Server;
  realm: string;
  issueRefreshToken(user: string): string;
}

/** An RSA key and a self-signed certificate valid for two days (the token signer's, or a TLS registry's). */
async function selfSignedCert(keyPath: string, certPath: string, subject: string, extra: string[] = []): Promise<void> {
  await run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    keyPath,
    '-out',
    certPath,
    '-days',
    '2',
    '-subj',
    subject,
    ...extra,
  ]);
}

async function startTokenServer(
  dir: string,
  service: string,
  issuer: string,
  users: Record<string, string>,
  requests: TokenRequest[],
  grant: (user: string, repository: string, actions: string[]) => string[],
): Promise<TokenServer> {
  const keyPath = join(dir, 'token.key');
  const certPath = join(dir, 'token.crt');
  await selfSignedCert(keyPath, certPath, '/CN=berth-test-token');
  const keyPem = readFileSync(keyPath, 'utf8');
  const certPem = readFileSync(certPath, 'utf8');
  const certDer = certPem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
  const refreshTokens = new Map<string, string>();
  const issueRefreshToken = (user: string) => {
    const tok = randomUUID();
    refreshTokens.set(tok, user);
    return tok;
  };

  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const fail = (status: number, code: string, message: string) => {
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ errors: [{ code, message }] }));
    };
    if (url.pathname !== '/token') return fail(404, 'NOT_FOUND', 'not found');
    let params: URLSearchParams;
    const entry: TokenRequest = { method: req.method ?? '', scopes: [] };
    let user = '';
    if (req.method === 'POST') {
      params = new URLSearchParams(await readBody(req));
      entry.grantType = params.get('grant_type') ?? undefined;
      entry.scopes = (params.get('scope') ?? '').split(' ').filter(Boolean);
      if (entry.grantType === 'refresh_token') {
        const u = refreshTokens.get(params.get('refresh_token') ?? '');
        if (u === undefined) {
          requests.push(entry);
          return fail(401, 'UNAUTHORIZED', 'invalid refresh token');
        }
        user = u;
      } else if (entry.grantType === 'password') {
        const u = params.get('username') ?? '';
        if (users[u] === undefined || users[u] !== params.get('password')) {
          requests.push(entry);
          return fail(401, 'UNAUTHORIZED', 'invalid username or password');
        }
        user = u;
      } else {
        requests.push(entry);
        return fail(400, 'UNSUPPORTED', 'unsupported grant type');
      }
    } else {
      params = url.searchParams;
      entry.scopes = params.getAll('scope');
      entry.account = params.get('account') ?? undefined;
      const basic = parseBasic(req.headers.authorization);
      if (basic) {
        if (users[basic.user] === undefined || users[basic.user] !== basic.pass) {
          requests.push(entry);
          return fail(401, 'UNAUTHORIZED', 'invalid username or password');
        }
        user = basic.user;
      }
    }
    entry.service = params.get('service') ?? undefined;
    entry.user = user || undefined;
    requests.push(entry);

    const access: { type: string; name: string; actions: string[] }[] = [];
    for (const s of entry.scopes) {
      // repository:<name>:<actions>; the name may itself contain ':' only before a port, never here
      const m = /^([a-z]+):(.+):([a-z*,]+)$/.exec(s);
      if (!m) continue;
      const actions = grant(user, m[2]!, m[3]!.split(','));
      if (actions.length) access.push({ type: m[1]!, name: m[2]!, actions });
    }
    const now = Math.floor(Date.now() / 1000);
    const token = signJwt(keyPem, certDer, {
      iss: issuer,
      sub: user,
      aud: service,
      exp: now + 300,
      nbf: now - 10,
      iat: now,
      jti: randomUUID(),
      access,
    });
    const body: Record<string, unknown> = { token, access_token: token, expires_in: 300, issued_at: new Date().toISOString() };
    if (user && (params.get('offline_token') === 'true' || req.method === 'POST')) body.refresh_token = issueRefreshToken(user);
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return { server, realm: `http://127.0.0.1:${port}/token`, issueRefreshToken };
}

async function waitReady(port: number, proc: ChildProcess, logPath: string, tls: boolean): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`docker-registry exited (${proc.exitCode}): ${readFileSync(logPath, 'utf8').slice(-2000)}`);
    const ok = await new Promise<boolean>((resolve) => {
      const req = (tls ? httpsRequest : request)(
        { host: '127.0.0.1', port, path: '/v2/', method: 'GET', agent: false, rejectUnauthorized: false },
        (res) => {
          res.resume();
          resolve(res.statusCode === 200 || res.statusCode === 401);
        },
      );
      req.on('error', () => resolve(false));
      req.end();
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`docker-registry on port ${port} not ready after 15 s: ${readFileSync(logPath, 'utf8').slice(-2000)}`);
}

export async function startRegistry(opts: RegistryStartOptions): Promise<TestRegistry> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-registry-'));
  const users = opts.users ?? {};
  const storage = join(dir, 'storage');
  mkdirSync(storage);
  const tokenRequests: TokenRequest[] = [];
  let token: TokenServer | undefined;
  let proc: ChildProcess | undefined;
  const stop = async () => {
    if (proc && proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise<void>((resolve) => proc!.once('exit', () => resolve()));
      process.kill(proc.pid!, 'SIGTERM');
      const timer = setTimeout(() => {
        if (proc!.exitCode === null && proc!.signalCode === null) process.kill(proc!.pid!, 'SIGKILL');
      }, 3000);
      await exited;
      clearTimeout(timer);
    }
    if (token) {
      token.server.closeAllConnections();
      await new Promise<void>((resolve) => token!.server.close(() => resolve()));
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const port = await freePort();
    let auth = '';
    if (opts.mode === 'basic') {
      const lines: string[] = [];
      for (const [u, p] of Object.entries(users)) lines.push((await run('htpasswd', ['-Bbn', u, p])).stdout.trim());
      writeFileSync(join(dir, 'htpasswd'), `${lines.join('\n')}\n`);
      auth = `auth:\n  htpasswd:\n    realm: berth-test-basic\n    path: ${join(dir, 'htpasswd')}\n`;
    } else if (opts.mode === 'token') {
      const service = 'berth-test-registry';
      const issuer = 'berth-test-issuer';
      const grant =
        opts.grant ?? ((user: string, _repo: string, actions: string[]) => (user ? actions : actions.filter((a) => a === 'pull')));
      token = await startTokenServer(dir, service, issuer, users, tokenRequests, grant);
      auth = `auth:\n  token:\n    realm: ${token.realm}\n    service: ${service}\n    issuer: ${issuer}\n    rootcertbundle: ${join(dir, 'token.crt')}\n`;
    }
    let tls = '';
    if (opts.tls) {
      const key = join(dir, 'tls.key');
      const cert = join(dir, 'tls.crt');
      await selfSignedCert(key, cert, '/CN=127.0.0.1', ['-addext', 'subjectAltName=IP:127.0.0.1']);
      tls = `  tls:\n    certificate: ${cert}\n    key: ${key}\n`;
    }
    const config = `version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: ${storage}
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: 127.0.0.1:${port}
${tls}${auth}`;
    writeFileSync(join(dir, 'config.yml'), config);
    const logPath = join(dir, 'registry.log');
    const { openSync, closeSync } = await import('node:fs');
    const logFd = openSync(logPath, 'a');
    proc = spawn(REGISTRY_BIN, ['serve', join(dir, 'config.yml')], { stdio: ['ignore', logFd, logFd] });
    closeSync(logFd);
    await waitReady(port, proc, logPath, opts.tls === true);
    return {
      mode: opts.mode,
      host: `127.0.0.1:${port}`,
      port,
      dir,
      storage,
      users,
      tokenRequests,
      realm: token?.realm,
      issueRefreshToken: token?.issueRefreshToken,
      blobPath: (digest: string) => {
        const hex = digest.slice('sha256:'.length);
        return join(storage, 'docker/registry/v2/blobs/sha256', hex.slice(0, 2), hex, 'data');
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

// ---------------------------------------------------------------- test images

export interface Blob {
  mediaType: string;
  digest: string;
  size: number;
  bytes: Buffer;
}

export interface TestImage {
  manifest: Blob;
  config: Blob;
  layers: Blob[];
}

export function blobOf(mediaType: string, bytes: Buffer): Blob {
  return { mediaType, bytes, size: bytes.length, digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}` };
}

/** A ustar archive of regular files, built by hand (tiny, deterministic). */
export function tarOf(files: Record<string, Buffer | string>): Buffer {
  const parts: Buffer[] = [];
  for (const [name, content] of Object.entries(files)) {
    const data = Buffer.from(content);
    const h = Buffer.alloc(512);
    h.write(name, 0, 100, 'utf8');
    h.write('0000644\0', 100);
    h.write('0000000\0', 108);
    h.write('0000000\0', 116);
    h.write(`${data.length.toString(8).padStart(11, '0')}\0`, 124);
    h.write('00000000000\0', 136);
    h.write('        ', 148);
    h.write('0', 156);
    h.write('ustar\0', 257);
    h.write('00', 263);
    let sum = 0;
    for (const b of h) sum += b;
    h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
    parts.push(h, data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

/**
 * An image with `layers` gzip layers (one file each; `layerSize` bytes of pseudo-random data so
 * gzip cannot shrink it much), as a Docker schema2 or OCI manifest.
 */
export function makeImage(opts: { format?: 'docker' | 'oci'; layers?: number; layerSize?: number; seed?: string } = {}): TestImage {
  const oci = opts.format === 'oci';
  const seed = opts.seed ?? 'berth';
  const layers: Blob[] = [];
  const diffIds: string[] = [];
  for (let i = 0; i < (opts.layers ?? 1); i++) {
    const size = opts.layerSize ?? 1024;
    const data = Buffer.alloc(size);
    let block = createHash('sha256').update(`${seed}/${i}`).digest();
    for (let off = 0; off < size; off += 32) {
      block.copy(data, off);
      block = createHash('sha256').update(block).digest();
    }
    const tar = tarOf({ [`file${i}`]: data });
    diffIds.push(`sha256:${createHash('sha256').update(tar).digest('hex')}`);
    layers.push(
      blobOf(oci ? 'application/vnd.oci.image.layer.v1.tar+gzip' : 'application/vnd.docker.image.rootfs.diff.tar.gzip', gzipSync(tar)),
    );
  }
  const config = blobOf(
    oci ? 'application/vnd.oci.image.config.v1+json' : 'application/vnd.docker.container.image.v1+json',
    Buffer.from(
      JSON.stringify({
        architecture: 'amd64',
        os: 'linux',
        config: { Cmd: ['/bin/sh'], Labels: { seed } },
        rootfs: { type: 'layers', diff_ids: diffIds },
        history: diffIds.map(() => ({ created_by: 'berth test' })),
      }),
    ),
  );
  const mediaType = oci ? 'application/vnd.oci.image.manifest.v1+json' : 'application/vnd.docker.distribution.manifest.v2+json';
  const desc = (b: Blob) => ({ mediaType: b.mediaType, digest: b.digest, size: b.size });
  const manifest = blobOf(
    mediaType,
    Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType, config: desc(config), layers: layers.map(desc) }, null, 3)),
  );
  return { manifest, config, layers };
}

/** Writes an OCI image layout holding `image` (its manifest tagged `tag` in index.json). */
export function writeOciLayout(dir: string, image: TestImage, tag: string): void {
  mkdirSync(join(dir, 'blobs/sha256'), { recursive: true });
  writeFileSync(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  for (const b of [image.manifest, image.config, ...image.layers]) writeFileSync(join(dir, 'blobs/sha256', b.digest.slice(7)), b.bytes);
  const m = image.manifest;
  writeFileSync(
    join(dir, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [{ mediaType: m.mediaType, digest: m.digest, size: m.size, annotations: { 'org.opencontainers.image.ref.name': tag } }],
    }),
  );
}

function credsArgs(reg: TestRegistry, flag: string): string[] {
  const [user, pass] = Object.entries(reg.users)[0] ?? [];
  return reg.mode === 'anonymous' || user === undefined ? [] : [flag, `${user}:${pass}`];
}

/** skopeo copy of an OCI layout into `reg` as `repo:tag`; `--preserve-digests` keeps the manifest bytes. */
export async function skopeoCopyIn(reg: TestRegistry, layoutDir: string, tag: string, repo: string): Promise<void> {
  await run('skopeo', [
    '--insecure-policy',
    'copy',
    '--quiet',
    '--preserve-digests',
    '--dest-tls-verify=false',
    ...credsArgs(reg, '--dest-creds'),
    `oci:${layoutDir}:${tag}`,
    `docker://${reg.host}/${repo}:${tag}`,
  ]);
}

/** `skopeo inspect --raw` of a reference in `reg`: the exact manifest bytes skopeo reads. */
export async function skopeoRaw(reg: TestRegistry, refPath: string): Promise<string> {
  const { stdout } = await run('skopeo', [
    '--insecure-policy',
    'inspect',
    '--raw',
    '--tls-verify=false',
    ...credsArgs(reg, '--creds'),
    `docker://${reg.host}/${refPath}`,
  ]);
  return stdout;
}

/** `skopeo inspect` (parsed): Digest, Layers, … */
export async function skopeoInspect(reg: TestRegistry, refPath: string): Promise<{ Digest: string; Layers: string[] }> {
  const { stdout } = await run('skopeo', [
    '--insecure-policy',
    'inspect',
    '--tls-verify=false',
    ...credsArgs(reg, '--creds'),
    `docker://${reg.host}/${refPath}`,
  ]);
  return JSON.parse(stdout);
}

/**
 * An OCI layout built by umoci: `rootfs` (a directory) inserted as one layer into an empty image
 * tagged `tag`, with `cmd` as its command. Returns the manifest digest from index.json.
 */
export async function umociLayout(dir: string, tag: string, rootfs: string, cmd = 'sh'): Promise<string> {
  await run('umoci', ['init', '--layout', dir]);
  await run('umoci', ['new', '--image', `${dir}:${tag}`]);
  await run('umoci', ['insert', '--image', `${dir}:${tag}`, rootfs, '/']);
  await run('umoci', ['config', '--image', `${dir}:${tag}`, '--config.cmd', cmd, '--os', 'linux', '--architecture', 'amd64']);
  const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as {
    manifests: { digest: string; annotations?: Record<string, string> }[];
  };
  const m = index.manifests.find((d) => d.annotations?.['org.opencontainers.image.ref.name'] === tag);
  if (!m) throw new Error(`umoci layout ${dir}: no manifest tagged ${tag}`);
  return m.digest;
}
