/**
 * Writing a downloaded archive (save, export) to `-o FILE` as the docker CLI's CopyToFile does —
 * a temp file beside the target (0600), renamed over it once complete, so a cut stream never
 * leaves a partial archive under the name — and, unlike docker, synced before the rename and
 * with the bytes written shown on a terminal for long archives.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { humanSize } from './format/index.js';

/** Where progress goes: a terminal (redrawn in place) or nowhere. */
export interface ProgressSink {
  write(s: string): unknown;
  isTTY?: boolean;
}

export async function copyToFile(path: string, body: AsyncIterable<Buffer>, progress?: ProgressSink): Promise<void> {
  const tmp = join(dirname(path), `.docker_temp_${randomBytes(5).toString('hex')}`);
  const fd = openSync(tmp, 'wx', 0o600);
  const show = progress?.isTTY ? progress : undefined;
  let written = 0;
  let shownAt = 0;
  let ok = false;
  try {
    for await (const chunk of body) {
      for (let off = 0; off < chunk.length; ) off += writeSync(fd, chunk, off);
      written += chunk.length;
      // a redraw per 250 ms at most: a terminal is slower than a local daemon
      if (show && Date.now() - shownAt > 250) {
        shownAt = Date.now();
        show.write(`\r\x1b[2K${basename(path)}: ${humanSize(written)} written`);
      }
    }
    fsyncSync(fd);
    ok = true;
  } finally {
    closeSync(fd);
    if (!ok) unlinkSync(tmp);
    if (show && shownAt) show.write(ok ? `\r\x1b[2K${basename(path)}: ${humanSize(written)} written\n` : '\n');
  }
  renameSync(tmp, path);
}
