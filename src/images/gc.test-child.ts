/**
 * Child process of gc.test.ts. `gc <root> <n>`: runs GC over the world at root and SIGKILLs
 * itself at the n-th traced step. `ingest <root>`: stores random blobs under a lease, printing
 * each digest once committed, until killed. `churn <root>`: stores the same few blobs again and
 * again with no lease (GC keeps removing them), until killed.
 */
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { ingest } from '../content/ingest.js';
import { Leases } from '../metadata/leases.js';
import { sha256Digest } from '../oci/image.js';
import { collectGarbage } from './gc.js';
import { openWorld } from './gc.test-fixtures.js';

const [mode, root, arg] = process.argv.slice(2);
const w = openWorld(root!);
if (mode === 'gc') {
  let n = 0;
  const result = await collectGarbage({
    db: w.db,
    content: w.store,
    snapshotters: [w.sn],
    ingestGrace: 0,
    trace: () => {
      if (++n === Number(arg)) process.kill(process.pid, 'SIGKILL');
    },
  });
  process.stdout.write(`${JSON.stringify({ events: n, result })}\n`);
} else if (mode === 'churn') {
  const blobs = [0, 1, 2, 3].map((i) => Buffer.from(`churn ${i}`.repeat(100 * (i + 1))));
  process.stdout.write('ready\n');
  for (let i = 0; ; i++) {
    const b = blobs[i % blobs.length]!;
    await ingest(w.store, `churn-${i % 7}`, { digest: sha256Digest(b), size: b.length }, Readable.from([b]));
  }
} else {
  const leases = new Leases(w.db);
  leases.create({ id: 'child' });
  const protect = leases.protector('child');
  process.stdout.write('ready\n');
  for (let i = 0; ; i++) {
    // some blobs twice: the second time they are found present, and must be leased all the same
    const b = i % 3 === 2 ? Buffer.from(`repeat ${i - 1}`) : i % 3 === 1 ? Buffer.from(`repeat ${i}`) : randomBytes(2000);
    const digest = sha256Digest(b);
    await ingest(w.store, `blob-${i}`, { digest, size: b.length }, Readable.from([b]), { protect });
    process.stdout.write(`${digest}\n`);
  }
}
w.db.close();
