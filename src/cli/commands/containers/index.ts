/** `berth container …` (and the top-level shortcuts Docker has for them). One import per verb, sorted. */
import type { GroupSpec } from '../../types.js';
import { attach } from './attach.js';
import { commitCommand } from './commit.js';
import { cpCommand } from './cp.js';
import { create } from './create.js';
import { diffCommand } from './diff.js';
import { exec } from './exec.js';
import { exportCommand } from './export.js';
import { inspectContainerCommand } from './inspect.js';
import { killCommand } from './kill.js';
import { logs } from './logs.js';
import { pauseCommand } from './pause.js';
import { portCommand } from './port.js';
import { pruneCommand } from './prune.js';
import { psCommand } from './ps.js';
import { renameCommand } from './rename.js';
import { restartCommand } from './restart.js';
import { rmCommand } from './rm.js';
import { run } from './run.js';
import { start } from './start.js';
import { statsCommand } from './stats.js';
import { stopCommand } from './stop.js';
import { topCommand } from './top.js';
import { unpauseCommand } from './unpause.js';
import { updateCommand } from './update.js';
import { waitCommand } from './wait.js';

export const containerGroup: GroupSpec = {
  name: 'container',
  short: 'Manage containers',
  commands: [
    attach,
    commitCommand,
    cpCommand,
    create,
    diffCommand,
    exec,
    exportCommand,
    inspectContainerCommand,
    killCommand,
    logs,
    pauseCommand,
    portCommand,
    pruneCommand,
    psCommand,
    renameCommand,
    restartCommand,
    rmCommand,
    run,
    start,
    statsCommand,
    stopCommand,
    topCommand,
    unpauseCommand,
    updateCommand,
    waitCommand,
  ],
};
