/**
 * One Berth pull in a process of its own, for bench/pull.ts: opens the image service on `root`,
 * pulls `ref` and prints the pull's milliseconds (the service's opening is not timed: a daemon
 * has it open). A process of its own because Node starts the pull's helpers with fork(), whose
 * cost grows with the parent's memory: the bench holds its test images, a daemon does not.
 *   node --import tsx bench/pull-one.ts ROOT REF      (SPECULATE=0: speculate: false)
 */
import { openImageService } from '../src/images/service.js';

const [root, ref] = process.argv.slice(2);
if (!root || !ref) throw new Error('usage: pull-one.ts ROOT REF');
const svc = await openImageService({ root });
try {
  const t0 = performance.now();
  const last = new Map<string, string>();
  await svc.pull(ref, {
    speculate: process.env.SPECULATE !== '0',
    // PROGRESS=1: each layer's status changes on stderr, in ms from the start
    ...(process.env.PROGRESS
      ? {
          onProgress: (e) => {
            if (last.get(e.id ?? '-') === e.status) return;
            last.set(e.id ?? '-', e.status);
            console.error(`${(performance.now() - t0).toFixed(0).padStart(6)} ms  ${e.id ?? '-'} ${e.status}`);
          },
        }
      : {}),
  });
  console.log(JSON.stringify({ ms: performance.now() - t0, rss: process.memoryUsage().rss }));
} finally {
  await svc[Symbol.asyncDispose]();
}
