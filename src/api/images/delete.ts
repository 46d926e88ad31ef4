/**
 * `docker rmi` as dockerd 20.10 decides it (daemon/images/image_delete.go), as a plan: which
 * references go, whether the image goes, the Untagged/Deleted records, or the 409 conflict with
 * dockerd's exact words. Pure; the route carries the plan out.
 *
 * References are Docker's: tag rows (`repo:tag`), digest rows (`repo@sha256:…`), and the
 * `repo@digest` a pull by tag implies (no row of its own, see repoNames).
 */
import { BerthError } from '../../common/errors.js';

export interface DeleteRef {
  /** familiar form, as records print it: `busybox:latest`, `localhost:5000/x@sha256:…` */
  text: string;
  /** familiar repository: `busybox` */
  repo: string;
  canonical: boolean;
  /** the store row behind it (none for a pull's implied digest reference) */
  row?: string;
}

export interface ImageUser {
  id: string;
  running: boolean;
}

export interface DeleteInput {
  /** what the client asked to delete, for the messages */
  term: string;
  /** `sha256:…` */
  imageId: string;
  refs: DeleteRef[];
  /** the reference the term named; undefined when the term was an ID or an ID prefix */
  named?: DeleteRef;
  force: boolean;
  users: ImageUser[];
  /** chain IDs the image would free (its layers no other image uses), bottom first */
  freedLayers: string[];
}

export type DeleteRecord = { Untagged: string } | { Deleted: string };

export interface DeletePlan {
  records: DeleteRecord[];
  /** rows to delete */
  rows: string[];
  /** the image itself goes (its rows all went, its blobs are left to GC) */
  deleted: boolean;
  /** every name went but a running container holds the image: keep it unnamed (dockerd's dangling image) */
  keepUnnamed: boolean;
}

/** stringid.TruncateID: 12 hex, without the algorithm. */
export function truncateId(id: string): string {
  const i = id.indexOf(':');
  return (i >= 0 ? id.slice(i + 1) : id).slice(0, 12);
}

/** moby's isSingleReference: one tag at most, and digest references only of that tag's repository. */
export function isSingleReference(refs: DeleteRef[]): boolean {
  if (refs.length <= 1) return refs.length === 1;
  let single: DeleteRef | undefined;
  const canonical = new Set<string>();
  for (const r of refs) {
    if (r.canonical) canonical.add(r.repo);
    else if (!single) single = r;
    else return false;
  }
  const s = single ?? refs[0]!;
  return canonical.size === 1 && canonical.has(s.repo);
}

interface Conflict {
  hard: boolean;
  used: boolean;
  message: string;
}

function conflictError(imageId: string, c: Conflict): BerthError {
  return new BerthError(
    'failed-precondition',
    `conflict: unable to delete ${truncateId(imageId)} (${c.hard ? 'cannot be forced' : 'must be forced'}) - ${c.message}`,
    { object: imageId },
  );
}

function findConflict(
  users: ImageUser[],
  refsLeft: number,
  mask: { running: boolean; reference: boolean; stopped: boolean },
): Conflict | undefined {
  const running = users.find((u) => u.running);
  if (mask.running && running) {
    return { hard: true, used: true, message: `image is being used by running container ${truncateId(running.id)}` };
  }
  if (mask.reference && refsLeft > 0) return { hard: false, used: false, message: 'image is referenced in multiple repositories' };
  const stopped = users.find((u) => !u.running);
  if (mask.stopped && stopped) {
    return { hard: false, used: true, message: `image is being used by stopped container ${truncateId(stopped.id)}` };
  }
  return undefined;
}

export function planDelete(input: DeleteInput): DeletePlan {
  const { imageId, force, users } = input;
  let refs = [...input.refs];
  const records: DeleteRecord[] = [];
  const rows: string[] = [];
  const drop = (r: DeleteRef) => {
    refs = refs.filter((x) => x !== r);
    if (r.row) rows.push(r.row);
    records.push({ Untagged: r.text });
  };
  let quiet = false;
  if (input.named) {
    const named = refs.find((r) => r.text === input.named!.text) ?? input.named;
    if (!force && isSingleReference(refs) && users.length > 0) {
      throw new BerthError(
        'failed-precondition',
        `conflict: unable to remove repository reference "${input.term}" (must force) - container ${truncateId(users[0]!.id)} is using its referenced image ${truncateId(imageId)}`,
        { object: input.term },
      );
    }
    drop(named);
    // a tag gone with no other tag of its repository left: its digest references go too
    if (!named.canonical && !refs.some((r) => !r.canonical && r.repo === named.repo)) {
      for (const r of refs.filter((x) => x.canonical && x.repo === named.repo)) drop(r);
    }
    if (refs.length > 0) return { records, rows, deleted: false, keepUnnamed: false };
    quiet = true;
  } else if (isSingleReference(refs)) {
    const c = findConflict(users, refs.length, { running: true, reference: false, stopped: !force });
    if (c) throw conflictError(imageId, c);
    for (const r of [...refs]) drop(r);
  }
  const c = findConflict(users, refs.length, { running: true, reference: !force, stopped: !force });
  if (c) {
    // the last name went with the term: a conflict now keeps the image, unnamed, and is no error
    if (quiet && (refs.length > 0 || c.used)) return { records, rows, deleted: false, keepUnnamed: true };
    throw conflictError(imageId, c);
  }
  for (const r of [...refs]) drop(r);
  records.push({ Deleted: imageId });
  for (const l of input.freedLayers) records.push({ Deleted: l });
  return { records, rows, deleted: true, keepUnnamed: false };
}
