/**
 * Crash-test worker: opens a snapshotter on <root> with the metadata db <db> and prepares,
 * writes, commits, views and removes snapshots in a loop until it is killed. Prints "ready"
 * once the loop runs. Mounts nothing (a SIGKILL would leak a mount): files are written through
 * applyTarget().
 *
 *   node --import tsx test/helpers/snapshot-churn.ts overlayfs|native <root> <db>
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { openMetadata } from '../../src/metadata/db.js';
import { NativeSnapshotter } from '../../src/snapshots/native.js';
import { OverlaySnapshotter } from '../../src/snapshots/overlay.js';
import type { Snapshotter } from '../../src/snapshots/types.js';

const [kind, root, dbFile] = process.argv.slice(2);
if (!kind || !root || !dbFile) throw new Error('usage: snapshot-churn overlayfs|native <root> <db>');
const db = openMetadata(dbFile);
const sn: Snapshotter =
  kind === 'native' ? await NativeSnapshotter.open({ root, db }) : await OverlaySnapshotter.open({ root, db, checkMount: false });

const pick = <T>(xs: T[]): T | undefined => xs[Math.floor(Math.random() * xs.length)];
let n = 0;
process.stdout.write('ready\n');
for (;;) {
  const all: { name: string; kind: string; parent?: string }[] = [];
  await sn.walk((i) => {
    all.push(i);
  });
  const committed = all.filter((i) => i.kind === 'committed').map((i) => i.name);
  const r = Math.random();
  const key = `k${process.pid}-${n++}`;
  if (r < 0.55 || committed.length < 2) {
    const parent = committed.length > 0 && Math.random() < 0.7 ? pick(committed) : undefined;
    await sn.prepare(key, parent);
    const { dir } = await sn.applyTarget(key);
    for (let f = 0; f < 20; f++) await writeFile(path.join(dir, `f${n}-${f}`), 'x'.repeat(f * 100));
    await sn.commit(`sha256:${key}`, key);
  } else if (r < 0.65) {
    await sn.view(key, pick(committed));
  } else {
    // remove a leaf (anything nobody names as parent)
    const parents = new Set(all.map((i) => i.parent));
    const leaf = pick(all.filter((i) => !parents.has(i.name)));
    if (leaf) await sn.remove(leaf.name);
  }
}
