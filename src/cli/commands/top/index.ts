/** Commands that exist only at the top level: version, inspect, login, logout. One import per verb, sorted. */
import type { CommandSpec } from '../../types.js';
import { inspectCommand } from './inspect.js';
import { login } from './login.js';
import { logout } from './logout.js';
import { versionCommand } from './version.js';

export const topCommands: CommandSpec[] = [inspectCommand, login, logout, versionCommand];
