/** `berth volume …`. One import per verb, sorted. */
import type { GroupSpec } from '../../types.js';
import { createCommand } from './create.js';
import { inspectCommand } from './inspect.js';
import { lsCommand } from './ls.js';
import { pruneCommand } from './prune.js';
import { rmCommand } from './rm.js';

export const volumeGroup: GroupSpec = {
  name: 'volume',
  short: 'Manage volumes',
  commands: [createCommand, inspectCommand, lsCommand, pruneCommand, rmCommand],
};
