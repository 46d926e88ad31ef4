/**
 * `GET /containers/{id}/top?ps_args=`: as dockerd does it — `ps` runs on the host (`-ef` unless
 * the client gives its own arguments) and the rows kept are those whose PID is in the container's
 * cgroup (cgroup.procs of its cgroups and their sub-cgroups). `parsePs` is pure.
 */
import { execFile } from 'node:child_process';
import { BerthError } from '../../common/errors.js';
import { managerFor } from '../../runtime/cgroups/manager.js';
import { containerPids } from '../../runtime/index.js';
import type { Engine } from '../engine.js';
import { isOciRuntime, runtimeCgroups } from './oci-runtime.js';

export interface TopResult {
  Titles: string[];
  Processes: string[][];
}

/** dockerd's parsePSOutput: the PID column from the header, the last column may hold spaces. */
export function parsePs(output: string, pids: ReadonlySet<number>): TopResult {
  const lines = output.split('\n');
  const header = lines[0] ?? '';
  const Titles = header.trim().split(/\s+/).filter(Boolean);
  const pidIndex = Titles.indexOf('PID');
  if (pidIndex < 0) throw new BerthError('internal', `Couldn't find PID field in ps output`, { object: 'ps' });
  const Processes: string[][] = [];
  for (const line of lines.slice(1)) {
    if (!line.trim()) continue;
    const fields = line.trim().split(/\s+/);
    // the command column keeps its spaces: everything from the last title on is one field
    const row = [...fields.slice(0, Titles.length - 1), fields.slice(Titles.length - 1).join(' ')];
    const pid = Number(row[pidIndex]);
    if (Number.isInteger(pid) && pids.has(pid)) Processes.push(row);
  }
  return { Titles, Processes };
}

/** Another OCI runtime's container: the pids of the cgroups it made (no runtime library record). */
async function ociRuntimePids(bundle: string): Promise<number[]> {
  const dirs = runtimeCgroups(bundle);
  if (dirs.length === 0) throw new Error('no cgroup directory');
  return managerFor(dirs).pids();
}

export async function topContainer(engine: Engine, ref: string, psArgs: string | null): Promise<TopResult> {
  const rec = engine.containers.get(ref);
  if (rec.State.Status === 'restarting')
    throw new BerthError('failed-precondition', `Container ${rec.Id} is restarting, wait until the container is running`, {
      object: rec.Id,
    });
  if (rec.State.Status !== 'running' && rec.State.Status !== 'paused')
    throw new BerthError('failed-precondition', `Container ${rec.Id} is not running`, { object: rec.Id });
  const args = (psArgs || '-ef').split(/\s+/).filter(Boolean);
  // the runtime's record is gone once the container exited (its exit may not be recorded yet)
  const pids = new Set(
    await (isOciRuntime(rec) ? ociRuntimePids(engine.containerDir(rec.Id)) : containerPids(engine.runtimeRoot, rec.Id)).catch((err) => {
      throw new BerthError('failed-precondition', `Container ${rec.Id} is not running`, { object: rec.Id, cause: err });
    }),
  );
  const output = await new Promise<string>((resolve, reject) =>
    execFile('ps', args, { maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new BerthError('internal', `Error running ps: ${(stderr || err.message).trim()}`, { object: rec.Id }));
      else resolve(stdout);
    }),
  );
  return parsePs(output, pids);
}
