/**
 * The per-container lock of the read-modify-write verbs (update, pause/resume, kill --all,
 * delete, and create's short record updates). It must hold between the verbs of one process (a
 * daemon runs many at once) and between processes (each `berth-runtime` call is one), and a
 * holder that dies — SIGKILL included — must not leave it taken.
 *
 * Within a process: a queue per root+id (a promise chain), dropped when its last holder leaves,
 * so no entry outlives its use.
 *
 * Across processes: Node has no flock(2). A lock file (O_EXCL, holding pid and start time) can
 * be found stale, but taking a stale file over is not atomic: two processes that both find it
 * stale can each remove what the other has just created. So the lock is a kernel object that
 * the kernel itself releases when its holder dies: a unix socket bound to a name in the abstract
 * namespace. bind(2) of a name already bound fails with EADDRINUSE, and the name is free again
 * as soon as the socket is closed, which process exit does. A waiter connects to the holder's
 * socket and retries when the connection closes (the holder released, or died): no polling.
 *
 * The name is a hash of the state root, the id and a random salt kept in the root (mode 0600
 * under a 0700 root): abstract names have no permissions, and an unguessable name keeps another
 * local user from squatting on it to block our verbs. Abstract names belong to the network
 * namespace: every caller of one state root must share it (runc's callers — containerd, dockerd,
 * the engine — run in the host's).
 */
import { linkSync, readFileSync, realpathSync, unlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { errnoCode, fromErrno } from '../../common/errors.js';
import { secureRandomHex, uniqueName } from '../../common/fs.js';

/**
 * 128 bits of four FNV-1a lanes with different offsets. Not a cryptographic hash, and it need
 * not be one: the input starts with the root's secret salt, so without the salt the name cannot
 * be computed; it only has to spread distinct ids apart. (node:crypto would cost each command
 * its loading time.)
 */
export function hash128(text: string): string {
  const lanes = [0x811c9dc5, 0x050c5d1f, 0x1b873593, 0x6b43a9b5];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    for (let l = 0; l < 4; l++) lanes[l] = Math.imul((lanes[l]! ^ c) + l, 0x01000193) >>> 0;
  }
  // a final avalanche per lane, mixing in the others
  return lanes
    .map((h, l) => {
      let x = (h ^ lanes[(l + 1) % 4]! ^ (lanes[(l + 2) % 4]! >>> 7)) >>> 0;
      x = Math.imul(x ^ (x >>> 16), 0x85ebca6b) >>> 0;
      x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35) >>> 0;
      return ((x ^ (x >>> 16)) >>> 0).toString(16).padStart(8, '0');
    })
    .join('');
}

/** A file of the state root that is never a container (ids cannot contain '~'). */
const SALT_FILE = '~lock-salt';

const queues = new Map<string, Promise<void>>();

export interface ContainerLock extends AsyncDisposable {
  release(): Promise<void>;
}

/** The root's salt, made on first use; undefined when the root does not exist (no container can). */
function salt(root: string): string | undefined {
  const file = path.join(root, SALT_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      return readFileSync(file, 'utf8');
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT') throw fromErrno('read', file, err);
    }
    // Written whole under a private name, then linked into place: readers never see it half
    // written, and of two racing writers one wins (link fails with EEXIST for the other).
    const tmp = path.join(root, `~tmp-${uniqueName()}`);
    try {
      writeFileSync(tmp, secureRandomHex(16), { mode: 0o600, flag: 'wx' });
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return undefined;
      throw fromErrno('write', tmp, err);
    }
    try {
      linkSync(tmp, file);
    } catch (err) {
      if (errnoCode(err) !== 'EEXIST') throw fromErrno('link', file, err);
    } finally {
      unlinkSync(tmp);
    }
  }
  return readFileSync(file, 'utf8');
}

function socketName(root: string, id: string, s: string): string {
  // the real path: two spellings of one root (a symlink) must name one lock
  let real = path.resolve(root);
  try {
    real = realpathSync(real);
  } catch {
    // gone meanwhile: the resolved path will do
  }
  const h = hash128(`${s}\0${real}\0${id}`);
  return `\0berth-runtime-lock-${h}`;
}

interface Held {
  server: net.Server;
  /** Waiters connected to us: dropping them on release wakes them. */
  peers: Set<net.Socket>;
}

/** Binds the name, or resolves undefined if it is taken. */
function tryBind(name: string): Promise<Held | undefined> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    const peers = new Set<net.Socket>();
    server.on('connection', (s) => {
      peers.add(s);
      s.on('error', () => {});
      s.on('close', () => peers.delete(s));
    });
    server.once('error', (err) => {
      server.close();
      if (errnoCode(err) === 'EADDRINUSE') resolve(undefined);
      else reject(fromErrno('bind', 'container lock', err));
    });
    server.listen({ path: name, exclusive: true }, () => resolve({ server, peers }));
  });
}

/** Resolves once the holder of `name` releases it or dies (or is already gone). */
function holderGone(name: string): Promise<void> {
  return new Promise((resolve) => {
    const s = net.connect({ path: name });
    s.on('error', () => {});
    s.on('close', () => resolve());
    s.resume();
  });
}

function unbind(held: Held): Promise<void> {
  return new Promise((resolve) => {
    for (const p of held.peers) p.destroy();
    held.server.close(() => resolve());
  });
}

async function acquireAcrossProcesses(root: string, id: string, wait: boolean): Promise<Held | undefined | false> {
  const s = salt(root);
  if (s === undefined) return undefined; // no state root: nothing to protect
  const name = socketName(root, id, s);
  for (;;) {
    const server = await tryBind(name);
    if (server) return server;
    if (!wait) return false;
    await holderGone(name);
  }
}

/**
 * Takes the lock of container `id` under `root`, waiting for its holder; with `wait: false`,
 * resolves undefined instead of waiting when it is taken.
 */
export async function lockContainer(root: string, id: string): Promise<ContainerLock>;
export async function lockContainer(root: string, id: string, opts: { wait: false }): Promise<ContainerLock | undefined>;
export async function lockContainer(
  root: string,
  id: string,
  opts: { wait: boolean } = { wait: true },
): Promise<ContainerLock | undefined> {
  const key = `${path.resolve(root)}\0${id}`;
  const before = queues.get(key);
  if (before && !opts.wait) return undefined;
  let leave!: () => void;
  const mine = new Promise<void>((r) => {
    leave = r;
  });
  const tail = (before ?? Promise.resolve()).then(() => mine);
  queues.set(key, tail);
  const leaveQueue = () => {
    leave();
    if (queues.get(key) === tail) queues.delete(key);
  };
  await before;
  let server: Held | undefined | false;
  try {
    server = await acquireAcrossProcesses(root, id, opts.wait);
  } catch (err) {
    leaveQueue();
    throw err;
  }
  if (server === false) {
    leaveQueue();
    return undefined;
  }
  let released = false;
  const release = async () => {
    if (released) return;
    released = true;
    if (server) await unbind(server);
    leaveQueue();
  };
  return { release, [Symbol.asyncDispose]: release };
}
