/**
 * Reading layer tars back in tests: every entry's header fields, its PAX records and its
 * content, in archive order (tar-stream's reader, independent of Berth's writer).
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { extract } from 'tar-stream';

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
