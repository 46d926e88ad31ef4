/**
 * The per-container lock of the read-modify-write verbs (update, pause/resume, kill --all,
 * delete, and create's short record updates). It must hold between the verbs of one process (a
 * daemon runs many at once) and between processes (each `berth-runtime` call is one), and a
 * holder that dies — SIGKILL included — must not leave it taken: common/lock.ts explains how.
 */
import { lockNamed, type NamedLock } from '../../common/lock.js';
import { nativeLockTransport } from '../../native/lock-transport.js';

export { hash128 } from '../../common/lock.js';
export type ContainerLock = NamedLock;

/**
 * Takes the lock of container `id` under `root`, waiting for its holder; with `wait: false`,
 * resolves undefined instead of waiting when it is taken.
 */
export async function lockContainer(root: string, id: string): Promise<ContainerLock>;
export async function lockContainer(root: string, id: string, opts: { wait: false }): Promise<ContainerLock | undefined>;
export async function lockContainer(
  root: string,
  id: string,
  opts: { wait: boolean } = { wait: true },
): Promise<ContainerLock | undefined> {
  // the addon's transport where it loads: no node:net to load in a short-lived berth-runtime call
  const transport = nativeLockTransport();
  return lockNamed(root, id, { namespace: 'berth-runtime-lock', wait: opts.wait, ...(transport ? { transport } : {}) });
}
