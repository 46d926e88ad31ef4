/** `berth volume …`. One import per verb, sorted. */
import type { GroupSpec } from '../../types.js';

export const volumeGroup: GroupSpec = {
  name: 'volume',
  short: 'Manage volumes',
  commands: [],
};
