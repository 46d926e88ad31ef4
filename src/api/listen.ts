/**
 * Where berthd listens, with Docker's access rules: the unix socket is root-owned, mode 0660,
 * group `docker` (else `berth`) when such a group exists; a TCP listener needs TLS with client
 * certificate verification (`--tlsverify`), and plain TCP is allowed only on loopback, with a
 * warning. `fd://` (systemd socket activation) is refused: there is no systemd to hand one over.
 */
import { readFileSync } from 'node:fs';
import { chmod, chown, lstat, mkdir, unlink } from 'node:fs/promises';
import type http from 'node:http';
import type https from 'node:https';
import net from 'node:net';
import { dirname } from 'node:path';
import { BerthError, errnoCode, fromErrno } from '../common/errors.js';

export interface TlsSettings {
  cert: string | Buffer;
  key: string | Buffer;
  /** The CA client certificates must chain to; required with `verify`. */
  ca?: string | Buffer;
  /** `--tlsverify`: request a client certificate and refuse connections without a valid one. */
  verify: boolean;
}

export type ListenerSpec =
  | { kind: 'unix'; path: string /** dockerd's `--group`; default `docker`, else `berth`. */; group?: string }
  | { kind: 'tcp'; host: string; port: number; tls?: TlsSettings }
  | { kind: 'fd'; name: string };

/** dockerd's `-H` forms: `unix:///p`, `tcp://host:port`, `tcp://:2376`, `host:port`, `fd://`. */
export function parseListenAddress(address: string, tls?: TlsSettings): ListenerSpec {
  if (address.startsWith('unix://')) {
    const path = address.slice('unix://'.length);
    if (!path.startsWith('/')) throw new BerthError('invalid-argument', `invalid unix address ${address}: the path must be absolute`);
    return { kind: 'unix', path };
  }
  if (address.startsWith('/')) return { kind: 'unix', path: address };
  if (address.startsWith('fd://')) return { kind: 'fd', name: address.slice('fd://'.length) };
  const hostPort = address.startsWith('tcp://') ? address.slice('tcp://'.length) : address;
  if (hostPort.includes('://')) throw new BerthError('invalid-argument', `invalid listen address ${address}: unknown scheme`);
  const m = /^(?:\[([^\]]*)\]|([^:/]*))(?::([0-9]*))?\/?$/.exec(hostPort);
  if (!m) throw new BerthError('invalid-argument', `invalid listen address ${address}`);
  const host = m[1] ?? m[2] ?? '';
  const port = m[3] ? Number(m[3]) : tls ? 2376 : 2375;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new BerthError('invalid-argument', `invalid port in ${address}`);
  return { kind: 'tcp', host: host === '' ? '0.0.0.0' : host, port, ...(tls ? { tls } : {}) };
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** The gid of the first of `names` in /etc/group (looked up by hand: no dependency, no NSS). */
export function groupId(names: string[], groupFile = '/etc/group'): { name: string; gid: number } | undefined {
  let text: string;
  try {
    text = readFileSync(groupFile, 'utf8');
  } catch {
    return undefined;
  }
  const gids = new Map<string, number>();
  for (const line of text.split('\n')) {
    const [name, , gid] = line.split(':');
    if (name && gid !== undefined && /^[0-9]+$/.test(gid)) gids.set(name, Number(gid));
  }
  for (const name of names) {
    const gid = gids.get(name);
    if (gid !== undefined) return { name, gid };
  }
  return undefined;
}

/** Does a live server answer on this socket path? */
function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const c = net.connect({ path });
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
}

/**
 * Makes `path` free for a new socket: a stale socket (nothing answers) is removed, a live one
 * (another daemon) or anything that is not a socket is refused and left alone.
 */
export async function clearStaleSocket(path: string): Promise<void> {
  let st: Awaited<ReturnType<typeof lstat>>;
  try {
    st = await lstat(path);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return;
    throw fromErrno('stat', path, err);
  }
  if (!st.isSocket()) {
    throw new BerthError('already-exists', `listen on '${path}': the path exists and is not a socket`, { object: path });
  }
  if (await answers(path)) {
    throw new BerthError('already-exists', `listen on '${path}': another daemon is listening there`, { object: path });
  }
  await unlink(path).catch((err) => {
    if (errnoCode(err) !== 'ENOENT') throw fromErrno('remove stale socket', path, err);
  });
}

export type Warn = (message: string) => void;

function listenOn(server: net.Server, arg: { path: string } | { host: string; port: number }): Promise<void> {
  const where = 'path' in arg ? `unix://${arg.path}` : `tcp://${arg.host}:${arg.port}`;
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(fromErrno('listen on', where, err));
    server.once('error', onError);
    server.listen(arg, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

export interface OpenedListener {
  server: http.Server;
  /** `unix:///run/berth/berth.sock`, `tcp://127.0.0.1:2376` (the bound port). */
  address: string;
  close(): Promise<void>;
}

/**
 * Opens one listener; `makeServer` gets the http or https server options and returns the
 * configured server (the same request and upgrade handlers for every listener).
 */
export async function openListener(
  spec: ListenerSpec,
  makeServer: (tls: https.ServerOptions | undefined) => http.Server,
  warn: Warn,
): Promise<OpenedListener> {
  if (spec.kind === 'fd') {
    throw new BerthError(
      'not-implemented',
      `listen on fd://${spec.name}: socket activation (fd://) is not supported; use unix:// or tcp://`,
    );
  }
  if (spec.kind === 'tcp') {
    if (spec.tls) {
      if (spec.tls.verify && !spec.tls.ca) {
        throw new BerthError('invalid-argument', `listen on tcp://${spec.host}:${spec.port}: --tlsverify needs --tlscacert`);
      }
    }
    if (!spec.tls?.verify && !isLoopback(spec.host)) {
      throw new BerthError(
        'failed-precondition',
        `listen on tcp://${spec.host}:${spec.port}: refusing a TCP listener without TLS client verification on a non-loopback address; use --tlsverify with --tlscacert, --tlscert and --tlskey`,
      );
    }
    if (!spec.tls) {
      warn(`listening on tcp://${spec.host}:${spec.port} without TLS: anyone who can connect to it is root on this host`);
    }
    const tls = spec.tls
      ? {
          cert: spec.tls.cert,
          key: spec.tls.key,
          ca: spec.tls.ca,
          requestCert: spec.tls.verify,
          rejectUnauthorized: spec.tls.verify,
          minVersion: 'TLSv1.2' as const,
        }
      : undefined;
    const server = makeServer(tls);
    await listenOn(server, { host: spec.host, port: spec.port });
    const a = server.address() as net.AddressInfo;
    const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
    return { server, address: `tcp://${host}:${a.port}`, close: () => closeServer(server) };
  }

  const { path } = spec;
  await mkdir(dirname(path), { recursive: true, mode: 0o755 });
  await clearStaleSocket(path);
  const server = makeServer(undefined);
  // bind() creates the socket with the umask's mode: keep it private until the chmod below.
  const old = process.umask(0o177);
  let bound: Promise<void>;
  try {
    bound = listenOn(server, { path });
  } finally {
    process.umask(old);
  }
  await bound;
  const ino = (await lstat(path)).ino;
  try {
    await chmod(path, 0o660);
    const group = groupId(spec.group ? [spec.group] : ['docker', 'berth']);
    if (spec.group && !group) warn(`group ${spec.group} not found: ${path} stays root-only`);
    if (group) await chown(path, 0, group.gid);
  } catch (err) {
    await closeServer(server);
    throw fromErrno('set the owner and mode of', path, err);
  }
  return {
    server,
    address: `unix://${path}`,
    close: async () => {
      await closeServer(server);
      // Remove the socket only if it is still ours (a new daemon may have replaced it).
      const st = await lstat(path).catch(() => undefined);
      if (st?.ino === ino) await unlink(path).catch(() => {});
    },
  };
}

function closeServer(server: net.Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) {
      resolve();
      return;
    }
    server.close(() => resolve());
  });
}
