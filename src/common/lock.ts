/**
 * A named lock that holds between the tasks of one process and between processes, and that a
 * holder's death (SIGKILL included) releases. Used for a container's read-modify-write verbs
 * (runtime/container/lock.ts) and for the content store's ingest refs and blob commits.
 *
 * Within a process: a queue per namespace+root+name (a promise chain), dropped when its last
 * holder leaves, so no entry outlives its use.
 *
 * Across processes: Node has no flock(2). A lock file (O_EXCL, holding pid and start time) can
 * be found stale, but taking a stale file over is not atomic: two processes that both find it
 * stale can each remove what the other has just created. So the lock is a kernel object that
 * the kernel itself releases when its holder dies: a unix socket bound to a name in the abstract
 * namespace. bind(2) of a name already bound fails with EADDRINUSE, and the name is free again
 * as soon as the socket is closed, which process exit does. A waiter connects to the holder's
 * socket and retries when the connection closes (the holder released, or died): no polling.
 *
 * The name is a hash of the root, the lock's name and a random salt kept in the root (mode 0600):
 * abstract names have no permissions, and an unguessable name keeps another local user from
 * squatting on it to block us. Abstract names belong to the network namespace: every user of one
 * root must share it (the engine and the runtime's callers run in the host's).
 */
import { linkSync, readFileSync, realpathSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { errnoCode, fromErrno } from './errors.js';
import { secureRandomHex, uniqueName } from './fs.js';

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

/** A file of the root that is never anything else (container ids and our own names cannot contain '~'). */
const SALT_FILE = '~lock-salt';

const queues = new Map<string, Promise<void>>();

export interface NamedLock extends AsyncDisposable {
  release(): Promise<void>;
}

/** The root's salt, made on first use; undefined when the root does not exist (nothing to protect). */
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

/** What names a root's locks: its salt and its real path (two spellings of one root, a symlink, must name one lock). */
interface RootKey {
  salt: string;
  real: string;
  /** The salt file's identity when it was read. */
  dev: number;
  ino: number;
  ctimeNs: bigint;
}

const rootKeys = new Map<string, RootKey>();

/**
 * The root's salt and real path; undefined when the root does not exist. Kept per root and
 * checked with one stat of the salt file instead of reading it and resolving the path again at
 * every lock (a container start takes several): the salt file is never rewritten, so the same
 * file means the same salt, and a root removed and made again has a new file.
 */
function rootKey(root: string): RootKey | undefined {
  const resolved = path.resolve(root);
  const file = path.join(resolved, SALT_FILE);
  const cached = rootKeys.get(resolved);
  if (cached) {
    const st = statSync(file, { bigint: true, throwIfNoEntry: false });
    if (st && Number(st.dev) === cached.dev && Number(st.ino) === cached.ino && st.ctimeNs === cached.ctimeNs) return cached;
    rootKeys.delete(resolved);
  }
  const s = salt(root);
  if (s === undefined) return undefined;
  let real = resolved;
  try {
    real = realpathSync.native(real);
  } catch {
    // gone meanwhile: the resolved path will do
  }
  const st = statSync(file, { bigint: true, throwIfNoEntry: false });
  const key = { salt: s, real, dev: Number(st?.dev ?? -1), ino: Number(st?.ino ?? -1), ctimeNs: st?.ctimeNs ?? -1n };
  if (st) {
    if (rootKeys.size >= 64) rootKeys.clear(); // roots come and go in tests; a daemon has a few
    rootKeys.set(resolved, key);
  }
  return key;
}

function socketName(namespace: string, key: RootKey, id: string): string {
  const h = hash128(`${key.salt}\0${key.real}\0${id}`);
  return `\0${namespace}-${h}`;
}

/** A bound name: releasing it (or dying) lets the next one in. */
export interface LockHold {
  release(): Promise<void>;
}

/**
 * How the abstract names are bound and waited on. node:net by default; the runtime passes one
 * without node:net (native/lock-transport.ts: ~3 ms of loading saved in each short-lived
 * berth-runtime call). Both speak the same kernel names, so their holders and waiters mix.
 */
export interface LockTransport {
  /** Binds `name` (it starts with a NUL: an abstract name), or resolves undefined if it is taken. */
  tryBind(name: string): Promise<LockHold | undefined>;
  /** Resolves once the holder of `name` releases it or dies (or is already gone). */
  holderGone(name: string): Promise<void>;
}

export const netLockTransport: LockTransport = {
  tryBind: async (name) => {
    const held = await tryBind(name);
    return held ? { release: () => unbind(held) } : undefined;
  },
  holderGone: (name) => holderGone(name),
};

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
      else reject(fromErrno('bind', 'lock', err));
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

async function acquireAcrossProcesses(
  namespace: string,
  root: string,
  id: string,
  wait: boolean,
  transport: LockTransport,
): Promise<LockHold | undefined | false> {
  const key = rootKey(root);
  if (key === undefined) return undefined; // no root: nothing to protect
  const name = socketName(namespace, key, id);
  for (;;) {
    const held = await transport.tryBind(name);
    if (held) return held;
    if (!wait) return false;
    await transport.holderGone(name);
  }
}

export interface LockOptions {
  /** Prefix of the abstract socket name: one per kind of lock (e.g. 'berth-runtime-lock'). */
  namespace: string;
  /** false: resolve undefined at once when the lock is taken, instead of waiting. */
  wait?: boolean;
  /** How names are bound and waited on across processes (default: node:net). */
  transport?: LockTransport;
}

/**
 * Takes lock `id` of `namespace` under `root`, waiting for its holder; with `wait: false`,
 * resolves undefined instead of waiting when it is taken.
 */
export async function lockNamed(root: string, id: string, opts: LockOptions & { wait?: true }): Promise<NamedLock>;
export async function lockNamed(root: string, id: string, opts: LockOptions): Promise<NamedLock | undefined>;
export async function lockNamed(root: string, id: string, opts: LockOptions): Promise<NamedLock | undefined> {
  const wait = opts.wait ?? true;
  const key = `${opts.namespace}\0${path.resolve(root)}\0${id}`;
  const before = queues.get(key);
  if (before && !wait) return undefined;
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
  let server: LockHold | undefined | false;
  try {
    server = await acquireAcrossProcesses(opts.namespace, root, id, wait, opts.transport ?? netLockTransport);
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
    if (server) await server.release();
    leaveQueue();
  };
  return { release, [Symbol.asyncDispose]: release };
}
