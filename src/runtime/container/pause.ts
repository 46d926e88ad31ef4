/** pause and resume: freeze and thaw every process of the container (v1 freezer or cgroup.freeze). */
import { precondition } from '../../common/errors.js';
import { managerFor } from '../cgroups/manager.js';
import { Container } from './container.js';
import { lockContainer } from './lock.js';
import { canPause } from './status.js';

export async function pause(root: string, id: string): Promise<void> {
  await using _ = await lockContainer(root, id);
  const c = await Container.load(root, id);
  if (!canPause(c.status())) throw precondition('container not running', id);
  await managerFor(c.record.cgroups).freeze();
}

export async function resume(root: string, id: string): Promise<void> {
  await using _ = await lockContainer(root, id);
  const c = await Container.load(root, id);
  if (c.status() !== 'paused') throw precondition('container not paused', id);
  managerFor(c.record.cgroups).thaw();
}
