/** `berth container …` (and the top-level shortcuts Docker has for them). One import per verb, sorted. */
import type { GroupSpec } from '../../types.js';

export const containerGroup: GroupSpec = {
  name: 'container',
  short: 'Manage containers',
  commands: [],
};
