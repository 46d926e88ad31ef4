/**
 * Tar headers as layer diffs write them: ustar blocks plus PAX extended records where a value
 * does not fit (long or non-ASCII names, big ids, sizes and times, xattrs). Pure and
 * deterministic: the same entry always gives the same bytes, and nothing of the writer's
 * machine (user names, clocks) goes in. Names are Buffers because a file name need not be UTF-8.
 *
 * tar-stream is not used for writing: it clamps ids past 0o7777777 silently and takes names only
 * as strings.
 */
import { invalid } from '../common/errors.js';

export type TarType = 'file' | 'link' | 'symlink' | 'char' | 'block' | 'dir' | 'fifo';

export interface TarEntry {
  /** the path in the archive, relative, without a trailing `/` (added here for directories) */
  name: Buffer;
  type: TarType;
  /** permission bits with setuid, setgid and sticky (0o7777) */
  mode: number;
  uid: number;
  gid: number;
  /** content bytes that follow the header: regular files only */
  size: number;
  /** seconds since the epoch */
  mtime: number;
  /** symlink target, or the archive path a hardlink points to */
  linkname?: Buffer;
  devmajor?: number;
  devminor?: number;
  /** PAX `SCHILY.xattr.<name>` records */
  xattrs?: [string, Buffer][];
}

const BLOCK = 512;
const TYPEFLAG: Record<TarType, number> = { file: 0x30, link: 0x31, symlink: 0x32, char: 0x33, block: 0x34, dir: 0x35, fifo: 0x36 };
const PAX_TYPEFLAG = 0x78; // 'x'

/** The two zero blocks that end an archive (no padding to a 10 KiB record, as Go's writer). */
export const END_OF_ARCHIVE: Buffer = Buffer.alloc(2 * BLOCK);

/** Zero bytes that pad `size` bytes of content to a whole block. */
export function padding(size: number): Buffer {
  const rest = size % BLOCK;
  return rest === 0 ? Buffer.alloc(0) : Buffer.alloc(BLOCK - rest);
}

function isPlainAscii(b: Buffer): boolean {
  for (const c of b) if (c === 0 || c >= 0x80) return false;
  return true;
}

/** `digits` octal digits then NUL, or undefined when the value does not fit. */
function octal(value: number, width: number): Buffer | undefined {
  if (!Number.isSafeInteger(value) || value < 0) return undefined;
  const s = value.toString(8);
  if (s.length > width - 1) return undefined;
  return Buffer.from(`${s.padStart(width - 1, '0')}\0`, 'latin1');
}

/** ustar splits a long name at a `/` into prefix (≤155) and name (≤100). */
function splitUstar(name: Buffer): [Buffer, Buffer] | undefined {
  if (name.length <= 100) return [Buffer.alloc(0), name];
  for (let i = Math.max(0, name.length - 101); i < Math.min(name.length, 156); i++) {
    if (name[i] !== 0x2f) continue;
    const prefix = name.subarray(0, i);
    const rest = name.subarray(i + 1);
    if (prefix.length > 0 && prefix.length <= 155 && rest.length > 0 && rest.length <= 100) return [prefix, rest];
  }
  return undefined;
}

/** One PAX record: "<len> <key>=<value>\n", where len counts the whole record in bytes. */
function paxRecord(key: string, value: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`), value, Buffer.from('\n')]);
  let len = body.length + 1;
  while (String(len).length + body.length !== len) len = String(len).length + body.length;
  return Buffer.concat([Buffer.from(String(len)), body]);
}

interface RawHeader {
  name: Buffer;
  prefix: Buffer;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  typeflag: number;
  linkname: Buffer;
  devmajor: number;
  devminor: number;
}

function block(h: RawHeader): Buffer {
  const b = Buffer.alloc(BLOCK);
  h.name.copy(b, 0);
  octal(h.mode, 8)!.copy(b, 100);
  octal(h.uid, 8)!.copy(b, 108);
  octal(h.gid, 8)!.copy(b, 116);
  octal(h.size, 12)!.copy(b, 124);
  octal(h.mtime, 12)!.copy(b, 136);
  b.fill(0x20, 148, 156); // the checksum is computed with its own field as spaces
  b[156] = h.typeflag;
  h.linkname.copy(b, 157);
  b.write('ustar\x0000', 257, 'latin1');
  octal(h.devmajor, 8)!.copy(b, 329);
  octal(h.devminor, 8)!.copy(b, 337);
  h.prefix.copy(b, 345);
  let sum = 0;
  for (const c of b) sum += c;
  Buffer.from(`${sum.toString(8).padStart(6, '0')}\0 `, 'latin1').copy(b, 148);
  return b;
}

/** An ASCII stand-in for a name that went into a PAX record (readers that know PAX ignore it). */
function asciiStandIn(name: Buffer, max: number): Buffer {
  const bytes = [...name].filter((c) => c !== 0 && c < 0x80);
  return Buffer.from(bytes.slice(0, max));
}

function invalidEntry(name: Buffer, what: string): Error {
  return invalid(`entry '${name.toString()}': ${what}`, name.toString());
}

/**
 * The header block(s) of one entry: a PAX extended header first when any value needs one.
 * Throws for values no tar can carry (a negative id, a device number past 21 bits).
 */
export function encodeHeader(e: TarEntry): Buffer {
  const name = e.type === 'dir' ? Buffer.concat([e.name, Buffer.from('/')]) : e.name;
  const pax: [string, Buffer][] = [];
  let prefix: Buffer = Buffer.alloc(0);
  let short: Buffer = name;
  const split = isPlainAscii(name) ? splitUstar(name) : undefined;
  if (split) [prefix, short] = split;
  else {
    pax.push(['path', name]);
    short = asciiStandIn(name, 100);
  }
  let linkname: Buffer = e.linkname ?? Buffer.alloc(0);
  if (linkname.length > 100 || !isPlainAscii(linkname)) {
    pax.push(['linkpath', linkname]);
    linkname = asciiStandIn(linkname, 100);
  }
  const numeric = (key: string, value: number, width: number): number => {
    if (!Number.isSafeInteger(value)) throw invalidEntry(e.name, `${key} ${value} is not an integer`);
    if (octal(value, width)) return value;
    // negative times are valid PAX; negative ids and sizes are not
    if (value < 0 && key !== 'mtime') throw invalidEntry(e.name, `${key} ${value} is negative`);
    pax.push([key, Buffer.from(String(value))]);
    return 0;
  };
  const uid = numeric('uid', e.uid, 8);
  const gid = numeric('gid', e.gid, 8);
  const size = numeric('size', e.size, 12);
  const mtime = numeric('mtime', e.mtime, 12);
  const devmajor = e.devmajor ?? 0;
  const devminor = e.devminor ?? 0;
  if (!octal(devmajor, 8) || !octal(devminor, 8)) throw invalidEntry(e.name, `device ${devmajor}:${devminor} does not fit a tar header`);
  for (const [key, value] of e.xattrs ?? []) pax.push([`SCHILY.xattr.${key}`, value]);
  const header = block({
    name: short,
    prefix,
    mode: e.mode & 0o7777,
    uid,
    gid,
    size,
    mtime,
    typeflag: TYPEFLAG[e.type],
    linkname,
    devmajor,
    devminor,
  });
  if (pax.length === 0) return header;
  // Keys sorted so that the bytes do not depend on the order values were found in.
  pax.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const records = Buffer.concat(pax.map(([k, v]) => paxRecord(k, v)));
  const base = e.name.subarray(e.name.lastIndexOf(0x2f) + 1);
  const paxHeader = block({
    name: Buffer.concat([Buffer.from('PaxHeaders.0/'), asciiStandIn(base, 100 - 13)]),
    prefix: Buffer.alloc(0),
    mode: 0o644,
    uid: 0,
    gid: 0,
    size: records.length,
    mtime: 0,
    typeflag: PAX_TYPEFLAG,
    linkname: Buffer.alloc(0),
    devmajor: 0,
    devminor: 0,
  });
  return Buffer.concat([paxHeader, records, padding(records.length), header]);
}
