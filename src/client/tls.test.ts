/**
 * The client over tcp+TLS against a Node https server with certificates made by openssl for the
 * test: verified with the CA and a client certificate (DOCKER_TLS_VERIFY), and `--tls` alone
 * (encrypted, the server's certificate not checked).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { TLSSocket } from 'node:tls';
import { connect } from './client.js';
import { resolveTls } from './host.js';
import { ConnectError } from './types.js';

const openssl = ['/usr/bin/openssl', '/bin/openssl'].find((p) => existsSync(p));

describe('client over TLS', { skip: openssl ? undefined : 'openssl missing' }, () => {
  let dir: string;
  let server: https.Server;
  let port = 0;
  let peerCN: string[] = [];

  const ssl = (...args: string[]) => execFileSync(openssl as string, args, { cwd: dir, stdio: 'pipe' });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'berth-tls-'));
    ssl(
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=test-ca',
      '-keyout',
      'ca-key.pem',
      '-out',
      'ca.pem',
    );
    writeFileSync(join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
    writeFileSync(join(dir, 'client.ext'), 'extendedKeyUsage=clientAuth\n');
    for (const [name, cn, ext] of [
      ['server', 'localhost', 'server.ext'],
      ['', 'client', 'client.ext'],
    ] as const) {
      const base = name || 'x';
      const key = name ? `${name}-key.pem` : 'key.pem';
      const cert = name ? `${name}-cert.pem` : 'cert.pem';
      ssl(
        'req',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-subj',
        `/CN=${cn}`,
        '-keyout',
        key,
        '-out',
        `${base}.csr`,
      );
      ssl(
        'x509',
        '-req',
        '-in',
        `${base}.csr`,
        '-CA',
        'ca.pem',
        '-CAkey',
        'ca-key.pem',
        '-CAcreateserial',
        '-days',
        '1',
        '-extfile',
        ext,
        '-out',
        cert,
      );
    }
    server = https.createServer(
      {
        key: readFileSync(join(dir, 'server-key.pem')),
        cert: readFileSync(join(dir, 'server-cert.pem')),
        ca: readFileSync(join(dir, 'ca.pem')),
        requestCert: true,
        rejectUnauthorized: false,
      },
      (req, res) => {
        const peer = (req.socket as TLSSocket).getPeerCertificate();
        peerCN.push(String(peer?.subject?.CN ?? ''));
        res.setHeader('Api-Version', '1.41');
        res.setHeader('Content-Type', 'application/json');
        if (req.method === 'HEAD') res.setHeader('Content-Length', 0);
        res.end(req.method === 'HEAD' ? undefined : '{"ok":true}');
      },
    );
    server.on('upgrade', (_req, socket) => {
      socket.write('HTTP/1.1 101 UPGRADED\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n');
      const got: Buffer[] = [];
      socket.on('data', (c: Buffer) => got.push(c));
      socket.on('end', () => socket.end(`echo ${Buffer.concat(got).toString()}`));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  it('DOCKER_TLS_VERIFY: verifies the daemon with ca.pem and presents cert.pem/key.pem', async () => {
    peerCN = [];
    const tls = resolveTls({}, { DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: dir });
    assert.equal(tls?.verify, true);
    const c = connect({ host: `tcp://127.0.0.1:${port}`, tls });
    const r = await c.json('GET', '/x');
    assert.deepEqual(r.body, { ok: true });
    assert.deepEqual(peerCN, ['client', 'client']);
    c.close();
  });
  it('verification fails against a daemon the CA did not sign', async () => {
    writeFileSync(join(dir, 'other-ca.pem'), readFileSync(join(dir, 'server-cert.pem')));
    ssl(
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=other',
      '-keyout',
      'other-key.pem',
      '-out',
      'other-ca.pem',
    );
    const c = connect({ host: `tcp://127.0.0.1:${port}`, tls: { verify: true, ca: join(dir, 'other-ca.pem') } });
    await assert.rejects(c.json('GET', '/x'), (e: unknown) => e instanceof ConnectError && /certificate/.test(e.message));
    c.close();
  });
  it('hijacks over TLS, reading after its own half-close', async () => {
    const c = connect({ host: `tcp://127.0.0.1:${port}`, tls: resolveTls({}, { DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: dir }) });
    const { socket, head } = await c.hijack('POST', '/containers/x/attach');
    const parts: Buffer[] = [head];
    socket.on('data', (d: Buffer) => parts.push(d));
    socket.end('in');
    await new Promise((r) => socket.once('close', r));
    assert.equal(Buffer.concat(parts).toString(), 'echo in');
    c.close();
  });
  it('--tls alone: encrypted without checking the daemon', async () => {
    peerCN = [];
    const c = connect({ host: `tcp://127.0.0.1:${port}`, tls: resolveTls({ tls: true }, { HOME: '/nonexistent' }) });
    assert.deepEqual((await c.json('GET', '/x')).body, { ok: true });
    assert.deepEqual(peerCN, ['', '']);
    c.close();
  });
});
