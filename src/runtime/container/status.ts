/**
 * The container state machine of the OCI runtime-spec: creating → created → running → stopped
 * (paused is entered and left through the freezer). Each verb asks its guard first.
 */
import type { Status } from '../../oci/spec.js';

export const canStart = (s: Status) => s === 'created';
export const canKill = (s: Status) => s === 'created' || s === 'running' || s === 'paused';
/** runc freezes created containers too. */
export const canPause = (s: Status) => s === 'created' || s === 'running';
/**
 * Without --force only a stopped container can be deleted (runtime.md). runc also deletes created
 * ones; containerd's shims and dockerd do not need that: they kill first, or delete --force.
 */
export const canDelete = (s: Status) => s === 'stopped';

/** runc's wording for a verb refused in a state, which scripts and containerd match on. */
export function startRefusal(s: Status): string {
  if (s === 'stopped') return 'cannot start a container that has stopped';
  if (s === 'running' || s === 'paused') return 'cannot start an already running container';
  return `cannot start a container in the ${s} state`;
}
