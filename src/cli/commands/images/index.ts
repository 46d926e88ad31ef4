/** `berth image …` (and the top-level shortcuts Docker has for them). One import per verb, sorted. */
import type { GroupSpec } from '../../types.js';
import { importImage } from './import.js';
import { load } from './load.js';
import { prune } from './prune.js';
import { pull } from './pull.js';
import { push } from './push.js';
import { rm } from './rm.js';
import { save } from './save.js';
import { tag } from './tag.js';

export const imageGroup: GroupSpec = {
  name: 'image',
  short: 'Manage images',
  commands: [importImage, load, prune, pull, push, rm, save, tag],
};
