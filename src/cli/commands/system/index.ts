/** `berth system …` (info, df, prune, events; `berth info` and `berth events` at the top too). One import per verb, sorted. */
import type { GroupSpec } from '../../types.js';
import { dfCommand } from './df.js';
import { eventsCommand } from './events.js';
import { infoCommand } from './info.js';
import { pruneCommand } from './prune.js';

export const systemGroup: GroupSpec = {
  name: 'system',
  short: 'Manage Docker',
  commands: [dfCommand, eventsCommand, infoCommand, pruneCommand],
};
