/** Facts about host processes, read from /proc (through the effects seam). */
import { type Effects, hostEffects } from '../effects.js';

export interface ProcStat {
  state: string;
  startTime: string;
}

/** Fields 3 (state) and 22 (start time) of /proc/<pid>/stat; undefined if the pid is gone. */
export function procStat(pid: number, fx: Effects = hostEffects): ProcStat | undefined {
  const text = fx.readFile(`/proc/${pid}/stat`);
  if (text === undefined) return undefined;
  // The command name (field 2) may contain spaces and parentheses: split after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { state: fields[0] ?? '', startTime: fields[19] ?? '' };
}

/** True if `pid` is the same live process that had `startTime` (guards against pid reuse). */
export function isAlive(pid: number, startTime: string, fx: Effects = hostEffects): boolean {
  if (pid <= 0) return false;
  const st = procStat(pid, fx);
  return st !== undefined && st.startTime === startTime && st.state !== 'Z' && st.state !== 'X';
}

/**
 * Waits for a process that is not our child to be gone. Node has no pidfd (pidfd_open + poll
 * would need a native addon), so this looks at /proc with a backoff capped at 50 ms, for at
 * most `timeoutMs`; verbs use it only where no better signal exists (the child's exit event
 * when we are the parent, cgroup.events through inotify where there is cgroup2).
 */
export async function waitGone(pid: number, startTime: string, timeoutMs = 10_000, fx: Effects = hostEffects): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (let delay = 1; Date.now() < deadline; delay = Math.min(delay * 2, 50)) {
    if (!isAlive(pid, startTime, fx)) return true;
    await new Promise((r) => setTimeout(r, delay));
  }
  return !isAlive(pid, startTime, fx);
}
