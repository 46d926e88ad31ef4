/**
 * Crash points for the fault tests: with `BERTH_CRASH_AT=<name>` in berthd's environment, the
 * daemon SIGKILLs itself when it reaches the point of that name — a crash between two lines,
 * placed where it hurts (between two effects of a verb), instead of a kill at a random delay.
 * Unset (always, outside tests) a point is one comparison with undefined.
 *
 * The names: create:snapshot, create:files, create:inserted; start:prepared, start:launched,
 * start:started; remove:marked, remove:cleaned, remove:snapshot.
 */
const crashAt = process.env.BERTH_CRASH_AT || undefined;

export function crashPoint(name: string): void {
  if (crashAt === name) process.kill(process.pid, 'SIGKILL');
}
