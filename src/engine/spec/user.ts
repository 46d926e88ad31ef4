/**
 * `--user` and `--group-add` resolved as dockerd does (through runc's libcontainer/user
 * GetExecUser and GetAdditionalGroups) against the CONTENTS of the container's /etc/passwd and
 * /etc/group, given as strings (undefined: the file does not exist). Pure.
 *
 * The result's additionalGids is dockerd's: the primary gid, then the groups that list the
 * matched user as a member (only when no group was named), then --group-add — duplicates kept,
 * as dockerd hands them to the runtime.
 */
import { BerthError } from '../../common/errors.js';
import type { User } from '../../oci/spec.js';

const MAX_ID = 2147483647;

interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
}
interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

/** Go's strconv.Atoi on a field, 0 when it does not parse (libcontainer ignores those errors). */
function atoi(s: string | undefined): number {
  return s !== undefined && /^[+-]?\d+$/.test(s) ? Number(s) : 0;
}

function lines(text: string): string[][] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .map((l) => l.split(':'));
}

export function parsePasswd(text: string): PasswdEntry[] {
  return lines(text).map((f) => ({ name: f[0] ?? '', uid: atoi(f[2]), gid: atoi(f[3]), home: f[5] ?? '' }));
}

export function parseGroup(text: string): GroupEntry[] {
  return lines(text).map((f) => ({
    name: f[0] ?? '',
    gid: atoi(f[2]),
    members: (f[3] ?? '').split(',').filter((m) => m !== ''),
  }));
}

const numeric = (s: string): number | undefined => (/^\d+$/.test(s) ? Number(s) : undefined);

function rangeCheck(id: number, spec: string): number {
  if (id > MAX_ID) throw new BerthError('invalid-argument', `user '${spec}': uids and gids must be in range 0-${MAX_ID}`, { object: spec });
  return id;
}

export interface ResolvedUser {
  user: User;
  /** $HOME for the process when the image sets none ("/" when the user has no entry). */
  home: string;
}

/**
 * Resolves `user` ("", "name", "uid", "name:group", "uid:gid"…) and `groupAdd`. Errors carry
 * dockerd's texts ("unable to find user nosuch: no matching entries in passwd file").
 */
export function resolveUser(
  spec: string,
  groupAdd: readonly string[],
  passwd: string | undefined,
  group: string | undefined,
): ResolvedUser {
  const colon = spec.indexOf(':');
  const userArg = colon < 0 ? spec : spec.slice(0, colon);
  const groupArg = colon < 0 ? '' : spec.slice(colon + 1);
  const uidArg = numeric(userArg);
  const gidArg = numeric(groupArg);
  const users = passwd === undefined ? [] : parsePasswd(passwd);
  const groups = group === undefined ? [] : parseGroup(group);

  let uid = 0;
  let gid = 0;
  let home = '/';
  let name = '';
  const match = users.find((u) => (userArg === '' ? u.uid === 0 : uidArg !== undefined ? u.uid === uidArg : u.name === userArg));
  if (match) {
    ({ uid, gid, home, name } = match);
  } else if (userArg !== '') {
    if (uidArg === undefined)
      throw new BerthError('invalid-argument', `unable to find user ${userArg}: no matching entries in passwd file`, { object: spec });
    uid = rangeCheck(uidArg, spec);
  }

  let sgids: number[] = [];
  if (groupArg !== '') {
    const g = groups.find((e) => (gidArg !== undefined ? e.gid === gidArg : e.name === groupArg));
    if (g) gid = g.gid;
    else if (gidArg === undefined)
      throw new BerthError('invalid-argument', `unable to find group ${groupArg}: no matching entries in group file`, { object: spec });
    else gid = rangeCheck(gidArg, spec);
  } else if (name !== '') {
    sgids = groups.filter((g) => g.members.includes(name)).map((g) => g.gid);
  }

  const added: number[] = [];
  for (const ag of groupAdd) {
    const g = groups.find((e) => e.name === ag || String(e.gid) === ag);
    if (g) {
      if (!added.includes(g.gid)) added.push(g.gid);
      continue;
    }
    const n = numeric(ag);
    if (n === undefined) throw new BerthError('invalid-argument', `Unable to find group ${ag}`, { object: ag });
    if (!added.includes(rangeCheck(n, ag))) added.push(n);
  }
  return { user: { uid, gid, additionalGids: [gid, ...sgids, ...added] }, home };
}
