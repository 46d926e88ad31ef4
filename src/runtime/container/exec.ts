/**
 * exec: run another process in a running container. berth-nsinit joins the namespaces and the
 * cgroup of the container's init process and execs the process; in the foreground its parent
 * stage waits and this returns the process's exit status.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { BerthError, invalid, precondition } from '../../common/errors.js';
import { writeFileAtomic } from '../../common/fs.js';
import type { Process } from '../../oci/spec.js';
import { procsFiles } from '../cgroups/manager.js';
import { warmOwnCgroupLock } from '../cgroups/warm.js';
import type { Launcher, StdioHandles } from '../launcher/launcher.js';
import { nsinitError, nsinitLauncher } from '../launcher/nsinit.js';
import { encodePlan } from '../plan/encode.js';
import { buildExecPlan } from '../plan/exec-plan.js';
import type { LaunchPlan, PlanSeccomp } from '../plan/plan.js';
import { Container } from './container.js';
import { grantableCaps } from './host.js';
import type { SignalSource } from './run.js';

export interface ExecOptions {
  root: string;
  id: string;
  process: Process;
  detach: boolean;
  pidFile?: string;
  consoleSocket?: string;
  /** The process's stdio and the fds it gets from 3 on (default: /dev/null, none). */
  stdio?: StdioHandles;
  ignorePaused?: boolean;
  /** Signals to forward to a foreground process (run.ts); none by default. */
  forwardSignals?: SignalSource;
  /** What carries the process out (default: berth-nsinit as our child). */
  launcher?: Launcher;
  /** The caller already started the cgroup lock's warm-up (cgroups/warm.ts); by default exec does. */
  cgroupLockWarmed?: boolean;
  /** Called once the process has exec'd (its start can no longer fail), with its host pid. */
  onStarted?: (pid: number) => void;
}

export interface ExecResult {
  exitCode: number;
  warnings: string[];
}

/** /proc/<pid>/setgroups: 'deny' in a user namespace whose gid map an unprivileged user wrote. */
function setgroupsOf(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/setgroups`, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** The plan that runs `process` in container `c` (whose init is alive). */
function execPlanOf(
  c: Container,
  process: Process,
  o: { wait: boolean; consoleSocket?: string; preserveFds: number; compiledSeccomp?: PlanSeccomp },
): { plan: LaunchPlan; warnings: string[] } {
  const namespaces = (c.record.config.linux?.namespaces ?? []).map((n) => n.type);
  return buildExecPlan({
    id: c.id,
    initPid: c.record.pid,
    namespaces,
    rootfs: c.record.rootfs,
    process,
    wait: o.wait,
    consoleSocket: o.consoleSocket,
    preserveFds: o.preserveFds,
    cgroupProcs: procsFiles(c.record.cgroups),
    seccomp: c.record.config.linux?.seccomp,
    compiledSeccomp: o.compiledSeccomp,
    chroot: !c.record.config.linux?.namespaces?.some((n) => n.type === 'mount' && !n.path),
    grantableCaps: grantableCaps(),
    setgroupsDenied: namespaces.includes('user') && setgroupsOf(c.record.pid) === 'deny',
  });
}

/** The template's file in the container's directory, and the line that stands for the argv. */
export const EXEC_TEMPLATE = 'exec.plan';
export const EXEC_TEMPLATE_ARGS = '@args';

/**
 * Writes the plan of a plain foreground `exec <id> <command…>` — the container's own process
 * with another argv, as composeProcess makes it without flags — with the argv's `arg` records
 * replaced by one `@args` line, for berth-runtime's C front to fill in (docs/runtime-front.md).
 * Nothing is written where the Node runtime would say more than the plan does (warnings, a
 * process it would refuse): then the front hands every exec to Node.
 */
export function writeExecTemplate(c: Container, compiledSeccomp: PlanSeccomp | undefined): void {
  const base = c.record.config.process;
  if (!base) return;
  const proc: Process = { ...base, args: [EXEC_TEMPLATE_ARGS], terminal: false };
  let built: { plan: LaunchPlan; warnings: string[] };
  try {
    built = execPlanOf(c, proc, { wait: true, preserveFds: 0, compiledSeccomp });
  } catch {
    return;
  }
  if (built.warnings.length > 0) return;
  const lines = encodePlan(built.plan).split('\n');
  const at = lines.indexOf(`arg ${EXEC_TEMPLATE_ARGS}`);
  if (at < 0 || lines.indexOf(`arg ${EXEC_TEMPLATE_ARGS}`, at + 1) >= 0) return;
  lines[at] = EXEC_TEMPLATE_ARGS;
  writeFileAtomic(path.join(c.dir, EXEC_TEMPLATE), lines.join('\n'), { mode: 0o600, durable: false });
}

export async function exec(opts: ExecOptions): Promise<ExecResult> {
  // the exec joins the container's cgroups: the kernel's wait for that overlaps what follows
  if (!opts.cgroupLockWarmed) warmOwnCgroupLock();
  const c = await Container.load(opts.root, opts.id);
  const status = c.status();
  if (status === 'stopped') throw precondition('cannot exec in a stopped container', opts.id);
  if (status === 'creating') throw precondition('cannot exec in a container that is still being created', opts.id);
  if (status === 'paused' && !opts.ignorePaused)
    throw precondition('cannot exec in a paused container (use --ignore-paused to override)', opts.id);
  const terminal = opts.process.terminal ?? false;
  if (terminal && opts.detach && !opts.consoleSocket)
    throw invalid('cannot allocate tty if berth-runtime will detach without setting console socket', 'console-socket');
  if (!terminal && opts.consoleSocket)
    throw invalid('cannot use console socket if berth-runtime will not detach or allocate tty', 'console-socket');
  const { plan, warnings } = execPlanOf(c, opts.process, {
    wait: !opts.detach,
    consoleSocket: opts.consoleSocket ? path.resolve(opts.consoleSocket) : undefined,
    preserveFds: opts.stdio?.preserveFds?.length ?? 0,
  });
  await using session = (opts.launcher ?? nsinitLauncher()).launch(plan, { stdio: opts.stdio ?? {}, detached: !opts.detach });
  const unsubscribe = !opts.detach && opts.forwardSignals ? opts.forwardSignals((sig) => session.signal(sig)) : undefined;
  try {
    const { pid } = await session.expect('pid');
    await session.expect('created');
    if (opts.pidFile) writeFileAtomic(path.resolve(opts.pidFile), String(pid), { durable: false });
    session.send('start');
    const m = await session.next();
    if (m.type === 'error') throw nsinitError(m, opts.id);
    opts.onStarted?.(pid);
    const exitCode = await session.exited;
    return { exitCode: opts.detach ? 0 : exitCode, warnings };
  } finally {
    unsubscribe?.();
  }
}
