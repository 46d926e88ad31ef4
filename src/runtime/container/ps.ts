/** ps: the container's processes (every pid in its cgroup), and runc's filtering of `ps` output. */
import { managerFor } from '../cgroups/manager.js';
import { Container } from './container.js';

export async function containerPids(root: string, id: string): Promise<number[]> {
  const c = await Container.load(root, id);
  return managerFor(c.record.cgroups).pids();
}
