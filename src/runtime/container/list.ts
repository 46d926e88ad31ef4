/** list: every container under the state root, with its derived status. */
import { readdirSync, readFileSync } from 'node:fs';
import { isKind } from '../../common/errors.js';
import type { State } from '../../oci/spec.js';
import { Container, isRuntimeName } from './container.js';

let users: Map<number, string> | undefined;
async function userName(uid: number): Promise<string> {
  if (!users) {
    users = new Map();
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
  }
  return users.get(uid) ?? `#${uid}`;
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
  for (const id of names.sort()) {
    try {
      const c = await Container.load(root, id);
      states.push(c.state(c.status(), await userName(await c.ownerUid())));
    } catch (err) {
      if (!isKind(err, 'not-found')) throw err;
      // removed between readdir and load: not listed
    }
  }
  return states;
}
