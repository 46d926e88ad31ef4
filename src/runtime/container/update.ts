/**
 * update: change the resource limits of a living container, as `runc update` does — merge the
 * request into the recorded resources, write them all again (device rules excepted), and
 * record the result, so later updates and `events` see the current values.
 */
import { precondition } from '../../common/errors.js';
import { managerFor } from '../cgroups/manager.js';
import { type LinuxResources, mergeResources, parseResources } from '../cgroups/resources.js';
import { Container } from './container.js';
import { lockContainer } from './lock.js';

export async function update(root: string, id: string, change: LinuxResources): Promise<string[]> {
  // read the record, merge, write the cgroups and the record: two updates must not interleave
  await using _ = await lockContainer(root, id);
  const c = await Container.load(root, id);
  const status = c.status();
  if (status === 'stopped') throw precondition('container not running', id);
  if (status === 'creating') throw precondition('container is still being created', id);
  const current = parseResources(c.record.config.linux?.resources);
  const merged = mergeResources(current, change);
  const warnings = await managerFor(c.record.cgroups).apply(merged, { skipDevices: true });
  const config = structuredClone(c.record.config);
  config.linux = { ...config.linux, resources: merged as NonNullable<typeof config.linux>['resources'] };
  await Container.save(root, { ...c.record, config });
  return warnings;
}
