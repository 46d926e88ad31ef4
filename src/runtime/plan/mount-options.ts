/**
 * OCI mount options → mount(2) flags, propagation flags and the data string. Pure.
 * The table is the one runc and util-linux use; options it does not know are passed to the
 * filesystem in the data string, as the runtime-spec asks.
 */
import { MOUNT_FLAGS } from './kernel-constants.generated.js';

type Unprefixed<T> = { readonly [K in keyof T as K extends `MS_${infer N}` ? N : never]: T[K] };

/** The MS_* flags without their prefix (MS.RDONLY), numbers generated from <sys/mount.h>. */
export const MS = Object.fromEntries(Object.entries(MOUNT_FLAGS).map(([k, v]) => [k.slice('MS_'.length), v])) as Unprefixed<
  typeof MOUNT_FLAGS
>;

/** [clear?, flag]: `clear` options remove the flag (e.g. `rw` clears MS_RDONLY). */
const FLAGS: Record<string, [boolean, number]> = {
  acl: [false, MS.POSIXACL],
  async: [true, MS.SYNCHRONOUS],
  atime: [true, MS.NOATIME],
  bind: [false, MS.BIND],
  defaults: [false, 0],
  dev: [true, MS.NODEV],
  diratime: [true, MS.NODIRATIME],
  dirsync: [false, MS.DIRSYNC],
  exec: [true, MS.NOEXEC],
  iversion: [false, MS.I_VERSION],
  lazytime: [false, MS.LAZYTIME],
  loud: [true, MS.SILENT],
  mand: [false, MS.MANDLOCK],
  noacl: [true, MS.POSIXACL],
  noatime: [false, MS.NOATIME],
  nodev: [false, MS.NODEV],
  nodiratime: [false, MS.NODIRATIME],
  noexec: [false, MS.NOEXEC],
  noiversion: [true, MS.I_VERSION],
  nolazytime: [true, MS.LAZYTIME],
  nomand: [true, MS.MANDLOCK],
  norelatime: [true, MS.RELATIME],
  nostrictatime: [true, MS.STRICTATIME],
  nosuid: [false, MS.NOSUID],
  nosymfollow: [false, MS.NOSYMFOLLOW],
  rbind: [false, MS.BIND | MS.REC],
  relatime: [false, MS.RELATIME],
  remount: [false, MS.REMOUNT],
  ro: [false, MS.RDONLY],
  rw: [true, MS.RDONLY],
  silent: [false, MS.SILENT],
  strictatime: [false, MS.STRICTATIME],
  suid: [true, MS.NOSUID],
  sync: [false, MS.SYNCHRONOUS],
};

export const PROPAGATION: Record<string, number> = {
  private: MS.PRIVATE,
  rprivate: MS.PRIVATE | MS.REC,
  shared: MS.SHARED,
  rshared: MS.SHARED | MS.REC,
  slave: MS.SLAVE,
  rslave: MS.SLAVE | MS.REC,
  unbindable: MS.UNBINDABLE,
  runbindable: MS.UNBINDABLE | MS.REC,
};

/** Options Berth accepts but that need no mount flag (runc extensions handled elsewhere). */
const IGNORED = new Set(['tmpcopyup']);

/** Every option name this table knows (for `features`). */
export const KNOWN_MOUNT_OPTIONS: readonly string[] = [...Object.keys(FLAGS), ...Object.keys(PROPAGATION), ...IGNORED].sort();

export interface ParsedOptions {
  flags: number;
  propagation: number;
  data: string;
}

export function parseMountOptions(options: readonly string[] = []): ParsedOptions {
  let flags = 0;
  let propagation = 0;
  const data: string[] = [];
  for (const opt of options) {
    const f = FLAGS[opt];
    if (f) {
      const [clear, bit] = f;
      flags = clear ? flags & ~bit : flags | bit;
    } else if (opt in PROPAGATION) {
      propagation |= PROPAGATION[opt] as number;
    } else if (!IGNORED.has(opt)) {
      data.push(opt);
    }
  }
  return { flags, propagation, data: data.join(',') };
}
