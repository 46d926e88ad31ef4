/**
 * The `local` driver's options (`docker volume create -o type=… -o device=… -o o=…`): checked at
 * create with dockerd's rules and texts (volume/local/local_unix.go validateOpts), then narrowed
 * to what Berth carries out, so that a volume that cannot be mounted is refused when it is
 * created, not when a container first uses it. Pure.
 *
 * Supported:
 * - no options: a plain directory, `<data-root>/volumes/<name>/_data`;
 * - `type=tmpfs,device=tmpfs[,o=size=100m,uid=1000,…]`: a tmpfs mounted on `_data` on the host
 *   while at least one container uses the volume (so that every container shares one tmpfs);
 * - `type=none,o=bind,device=/host/path`: the host directory, bound into each container directly
 *   (nothing is mounted on the host for it).
 * Every other type (nfs, cifs, ext4 on a block device, …) is refused with a clear message.
 */
import type { BerthError } from '../../common/errors.js';
import { opError } from './names.js';

export type LocalMount =
  | { kind: 'directory' }
  | { kind: 'tmpfs'; source: string; flags: number; data: string }
  | { kind: 'bind'; device: string; recursive: boolean; readOnly: boolean; options: string[] };

/** mount(2) flags (linux/mount.h) of the options a tmpfs volume may carry; [set, clear]. */
const MS = {
  RDONLY: 0x1,
  NOSUID: 0x2,
  NODEV: 0x4,
  NOEXEC: 0x8,
  SYNCHRONOUS: 0x10,
  MANDLOCK: 0x40,
  DIRSYNC: 0x80,
  NOATIME: 0x400,
  NODIRATIME: 0x800,
  RELATIME: 0x200000,
  STRICTATIME: 0x1000000,
} as const;
const TMPFS_FLAGS: Record<string, [number, number]> = {
  defaults: [0, 0],
  ro: [MS.RDONLY, 0],
  rw: [0, MS.RDONLY],
  nosuid: [MS.NOSUID, 0],
  suid: [0, MS.NOSUID],
  nodev: [MS.NODEV, 0],
  dev: [0, MS.NODEV],
  noexec: [MS.NOEXEC, 0],
  exec: [0, MS.NOEXEC],
  sync: [MS.SYNCHRONOUS, 0],
  async: [0, MS.SYNCHRONOUS],
  dirsync: [MS.DIRSYNC, 0],
  mand: [MS.MANDLOCK, 0],
  nomand: [0, MS.MANDLOCK],
  noatime: [MS.NOATIME, 0],
  atime: [0, MS.NOATIME],
  nodiratime: [MS.NODIRATIME, 0],
  diratime: [0, MS.NODIRATIME],
  relatime: [MS.RELATIME, 0],
  norelatime: [0, MS.RELATIME],
  strictatime: [MS.STRICTATIME, 0],
  nostrictatime: [0, MS.STRICTATIME],
};

/** tmpfs(5) data options and the syntax of their values ('' = takes no value). */
const SIZE = /^[0-9]+[kKmMgGtTpPeE%]?$/;
const TMPFS_DATA: Record<string, RegExp | ''> = {
  size: SIZE,
  nr_blocks: SIZE,
  nr_inodes: SIZE,
  mode: /^[0-7]{1,4}$/,
  uid: /^[0-9]{1,10}$/,
  gid: /^[0-9]{1,10}$/,
  huge: /^(never|always|within_size|advise|deny|force)$/,
  mpol: /^(default|prefer|bind|interleave|local)(:[0-9,-]+)?$/,
  inode32: '',
  inode64: '',
  noswap: '',
};

const BIND_OPTIONS = new Set([
  'bind',
  'rbind',
  'ro',
  'rw',
  'nosuid',
  'nodev',
  'noexec',
  'private',
  'rprivate',
  'slave',
  'rslave',
  'shared',
  'rshared',
]);

/** dockerd's: the accepted keys, and which keys need which others. */
const VALID = ['type', 'o', 'device'];
const MANDATORY: Record<string, string[]> = { device: ['type'], type: ['device'], o: ['device', 'type'] };

const bad = (name: string, cause: string): BerthError => opError('invalid-argument', 'create', name, cause);

/** Validates the options of local volume `name` and says how it is mounted. */
export function parseLocalOptions(name: string, options: Readonly<Record<string, string>> | null | undefined): LocalMount {
  const opts = options ?? {};
  const keys = Object.keys(opts);
  if (keys.length === 0) return { kind: 'directory' };
  for (const k of keys) if (!VALID.includes(k)) throw bad(name, `invalid option: ${JSON.stringify(k)}`);
  for (const k of keys)
    for (const need of MANDATORY[k] ?? [])
      if (!Object.hasOwn(opts, need)) throw bad(name, `missing required option: ${JSON.stringify(need)}`);
  for (const k of keys) if (typeof opts[k] !== 'string' || opts[k]!.includes('\0')) throw bad(name, `invalid option: ${JSON.stringify(k)}`);
  const type = opts.type!;
  const device = opts.device!;
  const o = (opts.o ?? '').split(',').filter((x) => x !== '');
  const isBind = o.includes('bind') || o.includes('rbind');
  if (type === 'tmpfs') {
    if (device === '') throw bad(name, 'a tmpfs volume needs a device (e.g. device=tmpfs)');
    let flags = 0;
    const data: string[] = [];
    for (const opt of o) {
      const f = Object.hasOwn(TMPFS_FLAGS, opt) ? TMPFS_FLAGS[opt] : undefined;
      if (f) {
        flags = (flags | f[0]) & ~f[1];
        continue;
      }
      const eq = opt.indexOf('=');
      const key = eq < 0 ? opt : opt.slice(0, eq);
      const syntax = Object.hasOwn(TMPFS_DATA, key) ? TMPFS_DATA[key] : undefined;
      if (syntax === undefined) throw bad(name, `invalid option for a tmpfs volume: ${JSON.stringify(opt)}`);
      if (syntax === '' ? eq >= 0 : eq < 0 || !syntax.test(opt.slice(eq + 1)))
        throw bad(name, `invalid value of tmpfs option ${JSON.stringify(key)}: ${JSON.stringify(opt)}`);
      data.push(opt);
    }
    return { kind: 'tmpfs', source: device, flags, data: data.join(',') };
  }
  if ((type === 'none' || type === 'bind') && isBind) {
    if (!device.startsWith('/')) throw bad(name, `the device of a bind volume must be an absolute host path: ${JSON.stringify(device)}`);
    for (const opt of o) if (!BIND_OPTIONS.has(opt)) throw bad(name, `invalid option for a bind volume: ${JSON.stringify(opt)}`);
    const segments = device.split('/').filter((s) => s !== '' && s !== '.');
    if (segments.includes('..')) throw bad(name, `the device of a bind volume must not contain '..': ${JSON.stringify(device)}`);
    return {
      kind: 'bind',
      device: `/${segments.join('/')}`,
      recursive: o.includes('rbind'),
      readOnly: o.includes('ro'),
      options: o.filter((x) => x !== 'bind' && x !== 'rbind' && x !== 'ro' && x !== 'rw'),
    };
  }
  if (type === 'none' || type === 'bind')
    throw bad(name, `type ${JSON.stringify(type)} needs o=bind (or o=rbind) and an absolute device path`);
  throw bad(
    name,
    `mount type ${JSON.stringify(type)} is not supported by berth's local volume driver (supported: type=tmpfs, and type=none with o=bind)`,
  );
}

/** The `o` of a tmpfs volume has `ro`: containers then get it read-only too. */
export function isReadOnly(m: LocalMount): boolean {
  return (m.kind === 'tmpfs' && (m.flags & MS.RDONLY) !== 0) || (m.kind === 'bind' && m.readOnly);
}
