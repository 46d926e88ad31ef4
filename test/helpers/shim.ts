/** Ending the shims a test started: `shutdown`, or SIGKILL by the pid of its shim.json. */
import { setTimeout as sleep } from 'node:timers/promises';
import { readShimInfo, ShimClient, shimAlive } from '../../src/engine/shim/client.js';

/** Ends the shim of `stateDir` if it runs: `shutdown`, else SIGKILL after 2 s. */
export async function stopShim(stateDir: string): Promise<void> {
  const info = readShimInfo(stateDir);
  if (!info || !shimAlive(info)) return;
  try {
    await using c = await ShimClient.connect(info.socket);
    await c.request('shutdown', { force: true });
  } catch {
    // gone meanwhile
  }
  for (let i = 0; i < 100 && shimAlive(info); i++) await sleep(20);
  if (shimAlive(info)) process.kill(info.pid, 'SIGKILL');
}
