/** list: every container under the state root, with its derived status. */
import { readdirSync, readFileSync } from 'node:fs';
import { errnoCode, isKind } from '../../common/errors.js';
import type { State } from '../../oci/spec.js';
import { Container, isRuntimeName } from './container.js';

/** uid → name from /etc/passwd, read once per list (not kept: it changes). */
function userNames(): Map<number, string> {
  const users = new Map<number, string>();
  let passwd = '';
  try {
    passwd = readFileSync('/etc/passwd', 'utf8');
  } catch {
    // no names: uids are shown as #uid
  }
  for (const line of passwd.split('\n')) {
    const [name, , id] = line.split(':');
    if (name && id) users.set(Number(id), name);
  }
  return users;
}

export async function list(root: string): Promise<State[]> {
  let names: string[];
  try {
    names = readdirSync(root, { withFileTypes: true })
      .filter((d) => d.isDirectory() && !isRuntimeName(d.name))
      .map((d) => d.name);
  } catch {
    return [];
  }
  const states: State[] = [];
  const users = userNames();
  for (const id of names.sort()) {
    try {
      const c = await Container.load(root, id);
      // a directory not named after its record's id (an older version's `.deleting-<id>-<pid>`)
      if (c.id !== id) continue;
      const uid = await c.ownerUid();
      states.push(c.state(c.status(), users.get(uid) ?? `#${uid}`));
    } catch (err) {
      if (!isKind(err, 'not-found') && errnoCode(err) !== 'ENOENT') throw err;
      // removed between readdir and load: not listed
    }
  }
  return states;
}
