/** `berth container …` (and the top-level shortcuts Docker has for them). One import per verb, sorted. */
import type { GroupSpec } from '../../types.js';
import { attach } from './attach.js';
import { create } from './create.js';
import { exec } from './exec.js';
import { logs } from './logs.js';
import { run } from './run.js';
import { start } from './start.js';

export const containerGroup: GroupSpec = {
  name: 'container',
  short: 'Manage containers',
  commands: [attach, create, exec, logs, run, start],
};
