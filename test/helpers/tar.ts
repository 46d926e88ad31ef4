/**
 * Builds tar archives for layer tests: `packTar` with tar-stream for well-formed entries, and a
 * small raw writer (`rawHeader`, `paxHeader`, `rawTar`) for what tar-stream will not write:
 * malformed headers, binary PAX values, base-256 numbers, sparse files, names with any bytes.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { extract, pack } from 'tar-stream';

export interface Entry {
  name: string;
  type?: 'file' | 'directory' | 'symlink' | 'link' | 'character-device' | 'block-device' | 'fifo';
  data?: string | Buffer;
  linkname?: string;
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: Date;
  devmajor?: number;
  devminor?: number;
  pax?: Record<string, string>;
}

export async function packTar(entries: Entry[]): Promise<Buffer> {
  const p = pack();
  const chunks: Buffer[] = [];
  p.on('data', (c: unknown) => {
    chunks.push(c as Buffer);
  });
  const done = new Promise<void>((resolve, reject) => {
    p.on('end', resolve);
    p.on('error', reject);
  });
  for (const e of entries) {
    const type = e.type ?? 'file';
    const data = e.data === undefined ? undefined : Buffer.from(e.data);
    const header = {
      name: e.name,
      type,
      linkname: e.linkname,
      mode: e.mode ?? (type === 'directory' ? 0o755 : type === 'symlink' ? 0o777 : 0o644),
      uid: e.uid ?? 0,
      gid: e.gid ?? 0,
      mtime: e.mtime ?? new Date(1_700_000_000_000),
      devmajor: e.devmajor,
      devminor: e.devminor,
      pax: e.pax,
      size: data?.length ?? 0,
    };
    await new Promise<void>((resolve, reject) => {
      p.entry(header, data ?? Buffer.alloc(0), (err) => (err ? reject(err) : resolve()));
    });
  }
  p.finalize();
  await done;
  return Buffer.concat(chunks);
}

export interface Raw {
  name: string | Buffer;
  /** the type byte, e.g. '0', '5', 'x', 'S', 'Z' */
  type?: string;
  size?: number;
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: number;
  linkname?: string | Buffer;
  devmajor?: number;
  devminor?: number;
  /** raw bytes for a numeric field, replacing the octal: e.g. base-256 */
  fields?: Partial<Record<'size' | 'uid' | 'devmajor' | 'devminor' | 'mode', Buffer>>;
  magic?: 'ustar' | 'gnu' | 'v7';
  prefix?: string;
  badChecksum?: boolean;
  /** bytes written at an offset after everything else (GNU sparse maps, realsize) */
  patch?: Array<[number, Buffer]>;
}

const octal = (n: number, width: number) => Buffer.from(`${n.toString(8).padStart(width - 1, '0')}\0`, 'latin1');

/** base-256 of a (possibly negative) bigint in `width` bytes */
export function base256(n: bigint, width: number): Buffer {
  const b = Buffer.alloc(width);
  let x = n < 0n ? (1n << BigInt(width * 8)) + n : n;
  for (let i = width - 1; i >= 0; i--) {
    b[i] = Number(x & 0xffn);
    x >>= 8n;
  }
  b[0] = n < 0n ? 0xff : (b[0] as number) | 0x80;
  return b;
}

export function rawHeader(h: Raw): Buffer {
  const b = Buffer.alloc(512);
  Buffer.from(h.name).copy(b, 0, 0, 100);
  (h.fields?.mode ?? octal(h.mode ?? 0o644, 8)).copy(b, 100);
  (h.fields?.uid ?? octal(h.uid ?? 0, 8)).copy(b, 108);
  octal(h.gid ?? 0, 8).copy(b, 116);
  (h.fields?.size ?? octal(h.size ?? 0, 12)).copy(b, 124);
  octal(h.mtime ?? 1_700_000_000, 12).copy(b, 136);
  b.write(h.type ?? '0', 156, 'latin1');
  if (h.linkname) Buffer.from(h.linkname).copy(b, 157, 0, 100);
  const magic = h.magic ?? 'ustar';
  if (magic === 'ustar') b.write('ustar\x0000', 257, 'latin1');
  if (magic === 'gnu') b.write('ustar  \x00', 257, 'latin1');
  (h.fields?.devmajor ?? octal(h.devmajor ?? 0, 8)).copy(b, 329);
  (h.fields?.devminor ?? octal(h.devminor ?? 0, 8)).copy(b, 337);
  if (h.prefix) b.write(h.prefix, 345, 'latin1');
  for (const [off, bytes] of h.patch ?? []) bytes.copy(b, off);
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (const c of b) sum += c;
  if (h.badChecksum) sum += 1;
  octal(sum, 7).copy(b, 148);
  b[155] = 0x20;
  return b;
}

/** data padded to a whole number of blocks */
export function padded(data: Buffer | string): Buffer {
  const d = Buffer.from(data);
  return Buffer.concat([d, Buffer.alloc((512 - (d.length % 512)) % 512)]);
}

/** a PAX extended header ('x', or 'g' for global) with binary-safe records */
export function paxHeader(records: Array<[string, string | Buffer]>, type = 'x', name = 'PaxHeader'): Buffer {
  const body = Buffer.concat(
    records.map(([k, v]) => {
      const rest = Buffer.concat([Buffer.from(` ${k}=`), Buffer.from(v), Buffer.from('\n')]);
      let len = rest.length + 1;
      while (String(len).length + rest.length > len) len++;
      return Buffer.concat([Buffer.from(String(len)), rest]);
    }),
  );
  return Buffer.concat([rawHeader({ name, type, size: body.length }), padded(body)]);
}

/** one entry: header then padded data */
export function rawEntry(h: Raw, data?: Buffer | string): Buffer {
  const d = data === undefined ? Buffer.alloc(0) : Buffer.from(data);
  return Buffer.concat([rawHeader({ size: d.length, ...h }), padded(d)]);
}

/** blocks followed by the end marker */
export function rawTar(...parts: Buffer[]): Buffer {
  return Buffer.concat([...parts, Buffer.alloc(1024)]);
}

// ---- reading tars back (layer diff tests)

export interface ListedEntry {
  name: string;
  type: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  uname: string;
  gname: string;
  pax?: Record<string, string>;
  content?: string;
}

export async function readAll(stream: Readable): Promise<Buffer> {
  return buffer(stream);
}

export function sha256(b: Buffer): string {
  return `sha256:${createHash('sha256').update(b).digest('hex')}`;
}

export async function listTar(tar: Buffer): Promise<ListedEntry[]> {
  const out: ListedEntry[] = [];
  const ex = extract();
  const done = new Promise<void>((resolve, reject) => {
    ex.on('entry', (h, stream, next) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: unknown) => chunks.push(c as Buffer));
      stream.on('end', () => {
        const e: ListedEntry = {
          name: h.name,
          type: h.type ?? 'file',
          mode: h.mode ?? 0,
          uid: h.uid ?? 0,
          gid: h.gid ?? 0,
          size: h.size ?? 0,
          mtime: Math.floor((h.mtime?.getTime() ?? 0) / 1000),
          uname: h.uname ?? '',
          gname: h.gname ?? '',
        };
        if (h.linkname) e.linkname = h.linkname;
        if (h.type === 'character-device' || h.type === 'block-device') {
          e.devmajor = h.devmajor ?? 0;
          e.devminor = h.devminor ?? 0;
        }
        if (h.pax && Object.keys(h.pax).length > 0) e.pax = h.pax as Record<string, string>;
        if (chunks.length > 0) e.content = Buffer.concat(chunks).toString('latin1');
        out.push(e);
        next();
      });
      stream.on('error', reject);
    });
    ex.on('finish', resolve);
    ex.on('error', reject);
  });
  Readable.from([tar]).pipe(ex);
  await done;
  return out;
}

/** `name type mode uid:gid [-> link]`, one line per entry: compact to assert on. */
export function summary(entries: ListedEntry[]): string[] {
  return entries.map((e) => {
    const mode = e.mode.toString(8).padStart(4, '0');
    const link = e.linkname ? ` -> ${e.linkname}` : '';
    const dev = e.devmajor !== undefined ? ` ${e.devmajor}:${e.devminor}` : '';
    return `${e.name} ${e.type} ${mode} ${e.uid}:${e.gid}${dev}${link}`;
  });
}
