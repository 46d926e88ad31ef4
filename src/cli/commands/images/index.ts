/** `berth image …` (and the top-level shortcuts Docker has for them). One import per verb, sorted. */
import type { GroupSpec } from '../../types.js';
import { history } from './history.js';
import { importImage } from './import.js';
import { inspect } from './inspect.js';
import { load } from './load.js';
import { ls } from './ls.js';
import { prune } from './prune.js';
import { pull } from './pull.js';
import { push } from './push.js';
import { rm } from './rm.js';
import { save } from './save.js';
import { tag } from './tag.js';

export const imageGroup: GroupSpec = {
  name: 'image',
  short: 'Manage images',
  commands: [history, importImage, inspect, load, ls, prune, pull, push, rm, save, tag],
};
