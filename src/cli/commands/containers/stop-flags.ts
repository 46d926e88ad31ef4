/** The flags stop and restart share: `-s/--signal`, `-t/--timeout` (and the deprecated, hidden `--time`). */
import type { QueryValue } from '../../../client/types.js';
import type { CliContext, FlagSpec, Flags } from '../../types.js';
import { CliError } from '../../types.js';

export const stopFlags: FlagSpec[] = [
  { name: 'signal', short: 's', kind: 'string', usage: 'Signal to send to the container' },
  { name: 'timeout', short: 't', kind: 'int', usage: 'Seconds to wait before killing the container' },
  { name: 'time', kind: 'int', usage: 'Seconds to wait before killing the container (deprecated: use --timeout)', hidden: true },
];

/** The query of `POST /containers/{id}/stop|restart`: `t` only when a timeout was given, as docker sends it. */
export function stopQuery(ctx: CliContext, flags: Flags): Record<string, QueryValue> {
  // cobra's deprecation notice, on stdout as docker prints it
  if (flags.changed('time')) ctx.stdout.write('Flag --time has been deprecated, use --timeout instead\n');
  if (flags.changed('time') && flags.changed('timeout'))
    throw new CliError('conflicting options: cannot specify both --timeout and --time');
  const query: Record<string, QueryValue> = {};
  if (flags.changed('timeout')) query.t = flags.int('timeout');
  else if (flags.changed('time')) query.t = flags.int('time');
  const signal = flags.string('signal');
  if (signal) query.signal = signal;
  return query;
}
