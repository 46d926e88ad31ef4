import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { resolveUser } from './user.js';

// The cases and answers are what Debian's dockerd 20.10 wrote in config.json for these files.
const PASSWD = 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n\n  \nbroken:x:zz:yy\n';
const GROUP = 'root:x:0:\naudio:x:29:app,root\nnogroup:x:65534:\napp:x:1000:app\nstaff:x:50:app\n';
const r = (spec: string, add: string[] = [], p: string | undefined = PASSWD, g: string | undefined = GROUP) => resolveUser(spec, add, p, g);

describe("--user and --group-add, as dockerd's runc user lookup", () => {
  test('default: root, its primary group, then groups listing it', () => {
    assert.deepEqual(r(''), { user: { uid: 0, gid: 0, additionalGids: [0, 29] }, home: '/root' });
  });
  test('a name or a uid in /etc/passwd: its gid and every group listing it (duplicates kept)', () => {
    const app = { uid: 1000, gid: 1000, additionalGids: [1000, 29, 1000, 50] };
    assert.deepEqual(r('app').user, app);
    assert.deepEqual(r('1000').user, app);
    assert.equal(r('app').home, '/home/app');
  });
  test('an explicit group replaces the gid and the supplementary groups', () => {
    assert.deepEqual(r('app:staff').user, { uid: 1000, gid: 50, additionalGids: [50] });
    assert.deepEqual(r('1000:50').user, { uid: 1000, gid: 50, additionalGids: [50] });
    assert.deepEqual(r('root:app').user, { uid: 0, gid: 1000, additionalGids: [1000] });
  });
  test('numeric ids without entries', () => {
    assert.deepEqual(r('4242').user, { uid: 4242, gid: 0, additionalGids: [0] });
    assert.deepEqual(r('4242:4343').user, { uid: 4242, gid: 4343, additionalGids: [4343] });
    assert.equal(r('4242').home, '/');
  });
  test('--group-add by name or number, after the rest', () => {
    assert.deepEqual(r('app', ['50', 'audio', '777']).user.additionalGids, [1000, 29, 1000, 50, 50, 29, 777]);
  });
  test("refusals with dockerd's texts", () => {
    assert.throws(() => r('nosuch'), /^BerthError: unable to find user nosuch: no matching entries in passwd file$/);
    assert.throws(() => r('app:nosuch'), /^BerthError: unable to find group nosuch: no matching entries in group file$/);
    assert.throws(() => r('', ['nosuch']), /^BerthError: Unable to find group nosuch$/);
    assert.throws(() => r('2147483648'), /uids and gids must be in range 0-2147483647/);
  });
  test('no /etc/passwd or /etc/group: names fail, numbers work', () => {
    assert.deepEqual(resolveUser('', [], undefined, undefined).user, { uid: 0, gid: 0, additionalGids: [0] });
    assert.deepEqual(resolveUser('5:6', ['7'], undefined, undefined).user, { uid: 5, gid: 6, additionalGids: [6, 7] });
    assert.throws(() => resolveUser('app', [], undefined, undefined), /unable to find user app/);
  });
});
