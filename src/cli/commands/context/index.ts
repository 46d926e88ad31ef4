/** `berth context …`: the docker CLI's context store, read and switched (ls, show, use, inspect). One import per verb, sorted. */
import type { GroupSpec } from '../../types.js';
import { createCommand } from './create.js';
import { inspectCommand } from './inspect.js';
import { lsCommand } from './ls.js';
import { rmCommand } from './rm.js';
import { showCommand } from './show.js';
import { useCommand } from './use.js';

export const contextGroup: GroupSpec = {
  name: 'context',
  short: 'Manage contexts',
  commands: [createCommand, inspectCommand, lsCommand, rmCommand, showCommand, useCommand],
};
