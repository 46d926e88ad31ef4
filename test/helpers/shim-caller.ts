/**
 * A caller of berth-shim in a process of its own, for test/shim.test.ts to SIGKILL: launches
 * the container of the bundle in argv[2] through the shim (state dir argv[3], runtime root
 * argv[4], id argv[5]), starts it, prints `{"ready":true}` and waits to be killed.
 */
import { join } from 'node:path';
import { shimLauncher } from '../../src/engine/shim/launcher.js';
import { launchPrepared, prepare } from '../../src/runtime/index.js';

async function main(): Promise<void> {
  const [bundle, stateDir, root, id] = process.argv.slice(2) as [string, string, string, string];
  const opts = { root, id, bundle };
  const p = await prepare(opts, 'run-detached');
  const cg = p.record.cgroups.find((c) => c.hierarchy.version === 2) ?? p.record.cgroups[0];
  const launcher = shimLauncher({ stateDir, log: { path: join(stateDir, 'json.log') }, cgroup: cg?.dir });
  const { session } = await launchPrepared(p, { ...opts, launcher });
  session.send('start');
  const m = await session.next();
  if (m.type === 'error') throw new Error(m.message);
  await session.exited;
  process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
  setInterval(() => {}, 1000);
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).message}\n`);
  process.exit(1);
});
