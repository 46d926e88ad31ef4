/**
 * Go's os.FileMode bits (what `X-Docker-Container-Path-Stat` carries) from a stat(2) mode, and
 * Go's RFC3339Nano time text. Pure.
 */
const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;
const S_IFBLK = 0o060000;
const S_IFCHR = 0o020000;
const S_IFIFO = 0o010000;
const S_IFSOCK = 0o140000;

export const GoMode = {
  Dir: 2 ** 31,
  Symlink: 2 ** 27,
  Device: 2 ** 26,
  NamedPipe: 2 ** 25,
  Socket: 2 ** 24,
  Setuid: 2 ** 23,
  Setgid: 2 ** 22,
  CharDevice: 2 ** 21,
  Sticky: 2 ** 20,
} as const;

/** A uint32 as Go's os.FileMode has it (a JSON number, e.g. 2147484141 for a 0755 directory). */
export function goFileMode(mode: number): number {
  let m = mode & 0o777;
  switch (mode & S_IFMT) {
    case S_IFDIR:
      m += GoMode.Dir;
      break;
    case S_IFLNK:
      m += GoMode.Symlink;
      break;
    case S_IFBLK:
      m += GoMode.Device;
      break;
    case S_IFCHR:
      m += GoMode.Device + GoMode.CharDevice;
      break;
    case S_IFIFO:
      m += GoMode.NamedPipe;
      break;
    case S_IFSOCK:
      m += GoMode.Socket;
      break;
  }
  if (mode & 0o4000) m += GoMode.Setuid;
  if (mode & 0o2000) m += GoMode.Setgid;
  if (mode & 0o1000) m += GoMode.Sticky;
  return m;
}

/** `2026-11-29T08:29:30.5Z`: UTC, fraction without trailing zeros (Go's time.RFC3339Nano). */
export function rfc3339Nano(ns: bigint): string {
  const sec = ns / 1_000_000_000n - (ns < 0n && ns % 1_000_000_000n !== 0n ? 1n : 0n);
  const frac = ns - sec * 1_000_000_000n;
  const base = new Date(Number(sec) * 1000).toISOString().slice(0, 19);
  const f = frac === 0n ? '' : `.${frac.toString().padStart(9, '0').replace(/0+$/, '')}`;
  return `${base}${f}Z`;
}
