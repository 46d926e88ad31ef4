/** `berth image …` (and the top-level shortcuts Docker has for them). One import per verb, sorted. */
import type { GroupSpec } from '../../types.js';

export const imageGroup: GroupSpec = {
  name: 'image',
  short: 'Manage images',
  commands: [],
};
