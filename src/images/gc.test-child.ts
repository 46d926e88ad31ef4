/** Runs GC over the world at argv[2] and SIGKILLs itself at the argv[3]-th traced step. */
import { collectGarbage } from './gc.js';
import { openWorld } from './gc.test-fixtures.js';

const [root, killAt] = process.argv.slice(2);
const w = openWorld(root!);
let n = 0;
const result = await collectGarbage({
  db: w.db,
  content: w.store,
  snapshotters: [w.sn],
  ingestGrace: 0,
  trace: () => {
    if (++n === Number(killAt)) process.kill(process.pid, 'SIGKILL');
  },
});
process.stdout.write(`${JSON.stringify({ events: n, result })}\n`);
w.db.close();
