/**
 * A busybox image made on this machine, for the quickstart and the tests: no registry, no
 * network. Debian's busybox-static is copied to /bin/busybox, every applet `busybox --list-full`
 * names becomes a symlink to it (at its own path, and in /bin as Docker Hub's busybox has them
 * all there), with Docker Hub busybox's /etc/passwd and /etc/group, /tmp (1777), /root, /home.
 *
 * The layer is a tar written here, not by the host's tar: entries sorted, owned by root, all
 * with one mtime (the busybox binary's, so a new busybox makes a new image, the same one the
 * same image), and the image config's `created` is that time too. So the image ID is the same
 * on every run, and importing twice is a no-op.
 *
 *   const { id } = await importBusybox(svc);       // busybox:latest
 *   await writeRootfs(busyboxRootfs(), dir);        // the same tree as a directory (tests)
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, lutimesSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pack } from 'tar-stream';
import { BerthError, fromErrno, invalid, isKind } from '../common/errors.js';
import { normalizeName } from './names.js';
import { resolveImage } from './resolve.js';
import type { ImageService } from './service.js';

/** One node of a root filesystem to build. `source` is a host file whose bytes are copied. */
export type RootfsEntry =
  | { readonly type: 'directory'; readonly path: string; readonly mode: number }
  | { readonly type: 'file'; readonly path: string; readonly mode: number; readonly data: Buffer }
  | { readonly type: 'symlink'; readonly path: string; readonly target: string };

export const BUSYBOX_REFERENCE = 'busybox:latest';
export const BUSYBOX_PATH_ENV = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

// Docker Hub's busybox (the glibc/musl variants carry the same accounts)
const PASSWD = `root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
bin:x:2:2:bin:/bin:/bin/false
sys:x:3:3:sys:/dev:/bin/false
sync:x:4:100:sync:/bin:/bin/sync
mail:x:8:8:mail:/var/spool/mail:/bin/false
www-data:x:33:33:www-data:/var/www:/bin/false
operator:x:37:37:Operator:/var:/bin/false
nobody:x:65534:65534:nobody:/home:/bin/false
`;
const GROUP = `root:x:0:
daemon:x:1:
bin:x:2:
sys:x:3:
adm:x:4:
tty:x:5:
disk:x:6:
lp:x:7:
mail:x:8:
kmem:x:9:
wheel:x:10:root
cdrom:x:11:
dialout:x:18:
floppy:x:19:
video:x:28:
audio:x:29:
tape:x:32:
www-data:x:33:
operator:x:37:
utmp:x:43:
plugdev:x:46:
staff:x:50:
lock:x:54:
netdev:x:82:
users:x:100:
nogroup:x:65534:
`;

const DIRS: [string, number][] = [
  ['bin', 0o755],
  ['dev', 0o755],
  ['etc', 0o755],
  ['home', 0o755],
  ['proc', 0o755],
  ['root', 0o700],
  ['sbin', 0o755],
  ['sys', 0o755],
  ['tmp', 0o1777],
  ['usr', 0o755],
  ['usr/bin', 0o755],
  ['usr/sbin', 0o755],
  ['var', 0o755],
  ['var/spool', 0o755],
  ['var/spool/mail', 0o755],
  ['var/www', 0o755],
];

export function busyboxBinary(): string {
  return process.env.BERTH_BUSYBOX ?? '/bin/busybox';
}

/** `busybox --list-full`: applet paths relative to the root (`bin/sh`, `usr/bin/awk`, …). */
export function listApplets(busybox: string): string[] {
  const r = spawnSync(busybox, ['--list-full'], { encoding: 'utf8' });
  if (r.error) throw fromErrno('run busybox', busybox, r.error);
  if (r.status !== 0) throw new BerthError('unavailable', `run busybox '${busybox}': --list-full exited ${r.status}: ${r.stderr.trim()}`);
  return r.stdout.split('\n').filter((l) => l !== '');
}

/**
 * The tree, sorted by path (parents first). Pure: the binary's bytes and its applet list come in.
 * Applets outside bin/sbin/usr (busybox's `linuxrc`) and names that would escape or clash are
 * left out.
 */
export function busyboxEntries(binary: Buffer, applets: readonly string[]): RootfsEntry[] {
  const out = new Map<string, RootfsEntry>();
  for (const [p, mode] of DIRS) out.set(p, { type: 'directory', path: p, mode });
  out.set('bin/busybox', { type: 'file', path: 'bin/busybox', mode: 0o755, data: binary });
  out.set('etc/passwd', { type: 'file', path: 'etc/passwd', mode: 0o644, data: Buffer.from(PASSWD) });
  out.set('etc/group', { type: 'file', path: 'etc/group', mode: 0o644, data: Buffer.from(GROUP) });
  const link = (p: string) => {
    if (!out.has(p)) out.set(p, { type: 'symlink', path: p, target: '/bin/busybox' });
  };
  for (const a of applets) {
    const m = /^(bin|sbin|usr\/bin|usr\/sbin)\/([^/\0]+)$/.exec(a);
    if (!m || m[2] === '.' || m[2] === '..' || m[2] === 'busybox') continue;
    link(a);
    link(`bin/${m[2]}`);
  }
  // byte order of the path: the layer is the same whatever the locale
  return [...out.values()].sort((x, y) => Buffer.compare(Buffer.from(x.path), Buffer.from(y.path)));
}

/** The busybox tree of this machine's busybox-static (`BERTH_BUSYBOX` overrides the binary). */
export function busyboxRootfs(busybox = busyboxBinary()): { entries: RootfsEntry[]; mtime: Date } {
  let binary: Buffer;
  let mtime: Date;
  try {
    binary = readFileSync(busybox);
    mtime = new Date(Math.floor(statSync(busybox).mtimeMs / 1000) * 1000);
  } catch (err) {
    throw fromErrno('read busybox', busybox, err);
  }
  if (binary.subarray(0, 4).toString('latin1') !== '\x7fELF') throw invalid(`read busybox '${busybox}': not an ELF executable`, busybox);
  return { entries: busyboxEntries(binary, listApplets(busybox)), mtime };
}

/** Writes the tree under `dir` (which may exist), every node with mtime `mtime`. */
export function writeRootfs(entries: readonly RootfsEntry[], dir: string, mtime = new Date(0)): void {
  mkdirSync(dir, { recursive: true });
  for (const e of entries) {
    const p = path.join(dir, e.path);
    try {
      if (e.type === 'directory') {
        mkdirSync(p, { recursive: true });
        chmodSync(p, e.mode); // mkdir's mode goes through the umask, and drops the sticky bit
      } else if (e.type === 'file') {
        writeFileSync(p, e.data, { mode: e.mode });
        chmodSync(p, e.mode);
      } else {
        symlinkSync(e.target, p);
      }
    } catch (err) {
      throw fromErrno(`create ${e.type}`, p, err);
    }
  }
  // children before parents: setting a child's time touches nothing, creating it touched the parent
  for (const e of [...entries].reverse()) lutimesSync(path.join(dir, e.path), mtime, mtime);
  lutimesSync(dir, mtime, mtime);
}

/** The tree as an uncompressed tar, byte-for-byte the same for the same entries and mtime. */
export async function rootfsTar(entries: readonly RootfsEntry[], mtime: Date): Promise<Buffer> {
  const p = pack();
  const chunks: Buffer[] = [];
  p.on('data', (c: unknown) => {
    chunks.push(c as Buffer);
  });
  const done = new Promise<void>((resolve, reject) => {
    p.on('end', resolve);
    p.on('error', reject);
  });
  const base = { uid: 0, gid: 0, uname: 'root', gname: 'root', mtime };
  for (const e of entries) {
    await new Promise<void>((resolve, reject) => {
      const cb = (err?: Error | null) => (err ? reject(err) : resolve());
      if (e.type === 'directory') p.entry({ ...base, name: `${e.path}/`, type: 'directory', mode: e.mode }, cb);
      else if (e.type === 'file') p.entry({ ...base, name: e.path, type: 'file', mode: e.mode, size: e.data.length }, e.data, cb);
      else p.entry({ ...base, name: e.path, type: 'symlink', linkname: e.target, mode: 0o777 }, cb);
    });
  }
  p.finalize();
  await done;
  return Buffer.concat(chunks);
}

export interface BusyboxImportOptions {
  /** default busybox:latest */
  reference?: string;
  /** the busybox binary (default $BERTH_BUSYBOX or /bin/busybox) */
  busybox?: string;
}

export interface BusyboxImportResult {
  /** the image ID */
  id: string;
  /** the normalized name (docker.io/library/busybox:latest) */
  name: string;
  /** false when the name already held this very image */
  imported: boolean;
}

const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** The config the import gives the image (Docker Hub busybox's: `sh`, the usual PATH). */
const CHANGES = [`ENV ${BUSYBOX_PATH_ENV}`, 'CMD ["sh"]'];

/**
 * Imports the busybox tree as `reference` (default busybox:latest), unless that name already
 * holds an image of the same layer, config and creation time.
 */
export async function importBusybox(svc: ImageService, options: BusyboxImportOptions = {}): Promise<BusyboxImportResult> {
  const name = normalizeName(options.reference ?? BUSYBOX_REFERENCE);
  const { entries, mtime } = busyboxRootfs(options.busybox);
  const tar = await rootfsTar(entries, mtime);
  const diffId = sha256(tar);
  const created = mtime.toISOString();
  const held = svc.images.find(name);
  if (held !== undefined) {
    try {
      const r = await resolveImage(svc.content, held.target, name);
      const c = r.config as { created?: string; rootfs?: { diff_ids?: string[] }; config?: { Cmd?: string[]; Env?: string[] } };
      const same =
        c.created === created &&
        JSON.stringify(c.rootfs?.diff_ids) === JSON.stringify([diffId]) &&
        JSON.stringify(c.config?.Cmd) === JSON.stringify(['sh']) &&
        JSON.stringify(c.config?.Env) === JSON.stringify([BUSYBOX_PATH_ENV]);
      if (same) return { id: r.id, name, imported: false };
    } catch (err) {
      // a damaged record (a blob gone): import again, which repairs it
      if (!isKind(err, 'not-found') && !isKind(err, 'invalid-argument')) throw err;
    }
  }
  const { id } = await svc.importRootfs(Readable.from([tar]), {
    reference: name,
    changes: CHANGES,
    created: mtime,
    message: 'busybox-static of this machine, imported by berth',
  });
  return { id, name, imported: true };
}
