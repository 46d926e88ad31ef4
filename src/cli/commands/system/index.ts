/** `berth system …` (info, df, prune, events; `berth info` and `berth events` at the top too). One import per verb, sorted. */
import type { GroupSpec } from '../../types.js';

export const systemGroup: GroupSpec = {
  name: 'system',
  short: 'Manage Docker',
  commands: [],
};
