/**
 * Leases for long operations. A pull, load or import holds one lease from its first write to
 * its commit point (the image row); everything it creates is added to the lease before it is
 * created, so GC never takes a half-built image's parts, and drops the lease after the row
 * commits (or after a failure: the parts become garbage). A process killed mid-operation leaves
 * its lease behind; the lease names its owner (pid and process start time), so `reapStaleLeases`
 * (run at engine start-up, before GC) can tell it from a live one without waiting for expiry.
 */
import { readFileSync } from 'node:fs';
import type { LeaseResource, Leases } from './deps.js';

export const OWNER_PID = 'berth/owner.pid';
export const OWNER_START = 'berth/owner.start';
/** Leases expire anyway after a day, as containerd's do, in case the owner check cannot run. */
const EXPIRY_MS = 24 * 3600 * 1000;

/** The start time of process `pid` in clock ticks since boot (field 22 of /proc/<pid>/stat). */
export function processStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the command name (field 2) may hold spaces and parentheses: fields resume after the last ')'
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

export interface ActiveLease {
  readonly id: string;
  add(resource: LeaseResource): Promise<void>;
}

/** Runs `fn` under a new lease owned by this process; the lease is deleted afterwards, whatever happens. */
export async function withLease<T>(leases: Leases, purpose: string, fn: (lease: ActiveLease) => Promise<T>): Promise<T> {
  const labels: Record<string, string> = { 'berth/purpose': purpose, [OWNER_PID]: String(process.pid) };
  const start = processStart(process.pid);
  if (start !== undefined) labels[OWNER_START] = start;
  const { id } = await leases.create({ expiresAt: new Date(Date.now() + EXPIRY_MS), labels });
  const lease: ActiveLease = {
    id,
    add: async (r) => {
      await leases.addResource(id, r);
    },
  };
  try {
    return await fn(lease);
  } finally {
    await leases.delete(id);
  }
}

/** Deletes leases whose owning process is gone (killed mid-pull); returns their ids. */
export async function reapStaleLeases(leases: Leases): Promise<string[]> {
  if (!leases.list) return [];
  const reaped: string[] = [];
  for (const l of await leases.list()) {
    const pid = Number(l.labels[OWNER_PID]);
    if (!Number.isInteger(pid) || pid <= 0) continue;
    const start = processStart(pid);
    const alive = start !== undefined && (l.labels[OWNER_START] === undefined || l.labels[OWNER_START] === start);
    if (!alive) {
      await leases.delete(l.id);
      reaped.push(l.id);
    }
  }
  return reaped;
}
