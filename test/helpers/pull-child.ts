/**
 * The crash test's victim: pulls one image into a root and may SIGKILL itself at the N-th
 * progress event (argv: root, reference, kill-at; -1 never). Bundled by the test (esbuild) so a
 * run costs one plain Node start.
 */
import { openImageService } from '../../src/images/service.js';

const [root, ref, killAt] = process.argv.slice(2);
let n = 0;
// the parent opened this root already: skip the overlay test mount (a child start costs less)
const svc = await openImageService({ root: root!, checkOverlay: false });
await svc.pull(ref!, {
  onProgress: () => {
    if (++n === Number(killAt)) process.kill(process.pid, 'SIGKILL');
  },
});
await svc[Symbol.asyncDispose]();
process.stdout.write(`done ${n}\n`);
