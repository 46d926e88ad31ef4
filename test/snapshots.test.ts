/**
 * Both snapshotters against the conformance suite (src/snapshots/testsuite.ts, containerd's
 * tests by name), plus crash safety: a child process preparing, committing and removing
 * snapshots is SIGKILLed at random points; afterwards cleanup() leaves no directory without a
 * row and no row without a directory, and the store still works.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Db, openMetadata } from '../src/metadata/db.js';
import { NativeSnapshotter } from '../src/snapshots/native.js';
import { OverlaySnapshotter } from '../src/snapshots/overlay.js';
import { snapshotterSuite } from '../src/snapshots/testsuite.js';
import type { Info, Snapshotter } from '../src/snapshots/types.js';

const CHURN = path.join(import.meta.dirname, 'helpers', 'snapshot-churn.ts');

const skip = process.getuid?.() !== 0 ? 'needs root: the suite mounts snapshots' : undefined;

snapshotterSuite('overlayfs', (root, db) => OverlaySnapshotter.open({ root, db }), { skip });
snapshotterSuite('native', (root, db) => NativeSnapshotter.open({ root, db }), { skip });

async function openBy(kind: string, root: string, db: Db): Promise<Snapshotter> {
  return kind === 'native' ? NativeSnapshotter.open({ root, db }) : OverlaySnapshotter.open({ root, db, checkMount: false });
}

/** Starts the churn worker and SIGKILLs it `afterMs` after it reports ready. */
async function churnAndKill(kind: string, root: string, dbFile: string, afterMs: number): Promise<void> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHURN, kind, root, dbFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  const exited = once(child, 'exit');
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      if (d.toString().includes('ready')) resolve();
    });
    child.on('exit', (code) => reject(new Error(`churn worker exited (${code}) before it was killed: ${stderr}`)));
  });
  await sleep(afterMs);
  child.kill('SIGKILL');
  const [code, signal] = await exited;
  assert.equal(signal, 'SIGKILL', `the worker died by itself (exit ${code}): ${stderr}`);
}

/** Every row has its directory, and every entry under the root is a row's directory. */
function assertConsistent(kind: string, root: string, db: Db): void {
  const rows = db.prepare(`SELECT key, id FROM snapshots WHERE snapshotter = ?`).all(kind) as { key: string; id: number }[];
  const ids = new Set(rows.map((r) => String(r.id)));
  for (const r of rows) {
    assert.ok(existsSync(path.join(root, String(r.id), 'fs')), `row '${r.key}' has no directory`);
    if (kind === 'overlayfs') assert.ok(existsSync(path.join(root, String(r.id), 'work')), `row '${r.key}' has no work directory`);
  }
  for (const name of readdirSync(root)) assert.ok(ids.has(name), `directory '${name}' has no row`);
}

for (const kind of ['overlayfs', 'native']) {
  test(`${kind}: SIGKILL at random points, then cleanup() leaves a consistent, working store`, { skip }, async (t) => {
    const work = mkdtempSync(path.join(tmpdir(), `berth-snap-crash-${kind}-`));
    t.after(() => rmSync(work, { recursive: true, force: true }));
    const root = path.join(work, 'root');
    const dbFile = path.join(work, 'metadata.db');
    let leftovers = 0;
    for (let i = 0; i < 6; i++) {
      await churnAndKill(kind, root, dbFile, 30 + Math.floor(Math.random() * 400));
      const db = openMetadata(dbFile);
      try {
        await using sn = await openBy(kind, root, db);
        leftovers += await sn.cleanup();
        assertConsistent(kind, root, db);
        assert.equal(await sn.cleanup(), 0, 'a second cleanup finds nothing');
      } finally {
        db.close();
      }
    }
    t.diagnostic(`cleanup removed ${leftovers} leftover directories over 6 kills`);
    // the store still works: a new layer on every committed snapshot, and everything removable
    const db = openMetadata(dbFile);
    t.after(() => db.close());
    await using sn = await openBy(kind, root, db);
    const committed: string[] = [];
    await sn.walk(
      (i) => {
        committed.push(i.name);
      },
      (i) => i.kind === 'committed',
    );
    assert.ok(committed.length > 0, 'the worker committed something');
    for (const c of committed.slice(0, 5)) {
      await sn.prepare(`after-${c}`, c);
      await writeFile(path.join((await sn.applyTarget(`after-${c}`)).dir, 'after'), 'ok');
      await sn.commit(`after-committed-${c}`, `after-${c}`);
    }
    for (let left = Number.POSITIVE_INFINITY; left > 0; ) {
      const all: Info[] = [];
      await sn.walk((i) => {
        all.push(i);
      });
      const parents = new Set(all.map((i) => i.parent));
      for (const leaf of all.filter((i) => !parents.has(i.name))) await sn.remove(leaf.name);
      left = all.length;
    }
    assert.deepEqual(readdirSync(root), [], 'removing every snapshot leaves an empty root');
  });
}
