/**
 * User namespaces and rootless containers, with real containers, for berth-runtime and runc side
 * by side (env BERTH_CONFORMANCE_RUNTIMES selects them, as in the conformance suite).
 *
 * - root with a user namespace (0 → 100000, 65536 ids, the rootfs chowned to 100000): the maps
 *   and ids as the host sees them in /proc/<pid>, the owner of files created in a bind mount and
 *   in the rootfs, the capabilities of the container process;
 * - rootless: a throwaway user (made with useradd, given /etc/subuid and /etc/subgid lines) runs
 *   `spec --rootless` and `run` through setpriv, with a rootfs it owns: a single mapping of its
 *   own ids (setgroups denied), wider maps through newuidmap/newgidmap (and a refused one), the
 *   state directory in $XDG_RUNTIME_DIR (a clear error without it), cgroups skipped when not
 *   delegated (a limit is then an error) and used when delegated.
 *
 * Everything made here is removed in after(): the user and its group, the subuid/subgid lines,
 * containers, directories and cgroups. Only processes started here are stopped, by pid.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  appendFileSync,
  chmodSync,
  chownSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { after, before, describe, type TestContext, test } from 'node:test';
import { Bundle, uniqueId } from './helpers/bundle.js';
import { cgroupsOf, mustCreate, mustRun, waitForExit, waitForFile } from './helpers/container.js';
import { ProbeOutput } from './helpers/probe.js';
import { cgroupLayout, firstReason, needsBinary, needsRoot, needsUserns, type Reason, requires } from './helpers/requires.js';
import { rootfsUnavailable } from './helpers/rootfs.js';
import {
  createRuntime,
  describeResult,
  findBinary,
  hostSync,
  REPO_ROOT,
  type RunOptions,
  type RunResult,
  type Runtime,
  runCommand,
  selectedRuntimeNames,
} from './helpers/runtime.js';
import { capMask, PROBE, type Spec } from './helpers/spec.js';

const SUB_COUNT = 65536;
const DEFAULT_CAPS = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];

function baseReason(): Reason {
  return firstReason(needsRoot(), needsUserns(), rootfsUnavailable());
}

// ------------------------------------------------------------------ the throwaway user

interface TestUser {
  name: string;
  uid: number;
  gid: number;
  /** First host id of its /etc/subuid and /etc/subgid range (SUB_COUNT ids). */
  subStart: number;
  /** Its $XDG_RUNTIME_DIR. */
  xdg: string;
  /** Lines we appended to /etc/subuid and /etc/subgid. */
  subLines: string[];
  /** Those of the two files that did not exist before. */
  subFilesMade: string[];
}

/** A start above every range already in /etc/subuid and /etc/subgid (and above the root tests' ids). */
function freeSubordinateStart(): number {
  let end = 1_000_000;
  for (const f of ['/etc/subuid', '/etc/subgid']) {
    let text = '';
    try {
      text = readFileSync(f, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n')) {
      const [, start, count] = line.split(':');
      const e = Number(start) + Number(count);
      if (Number.isFinite(e) && e > end) end = e;
    }
  }
  return Math.ceil(end / SUB_COUNT) * SUB_COUNT;
}

function makeUser(): TestUser {
  const name = `bt-${randomBytes(3).toString('hex')}`;
  // No automatic subordinate ranges: this test writes (and removes) its own lines.
  const r = hostSync([
    'useradd',
    '-M',
    '-d',
    '/nonexistent',
    '-s',
    '/usr/sbin/nologin',
    '-U',
    '-K',
    'SUB_UID_COUNT=0',
    '-K',
    'SUB_GID_COUNT=0',
    name,
  ]);
  if (r.code !== 0) throw new Error(`useradd ${name}: ${r.stderr.trim()}`);
  const u: TestUser = { name, uid: -1, gid: -1, subStart: 0, xdg: '', subLines: [], subFilesMade: [] };
  try {
    u.uid = Number(hostSync(['id', '-u', name]).stdout.trim());
    u.gid = Number(hostSync(['id', '-g', name]).stdout.trim());
    u.subStart = freeSubordinateStart();
    const line = `${name}:${u.subStart}:${SUB_COUNT}`;
    u.subFilesMade = ['/etc/subuid', '/etc/subgid'].filter((f) => !existsSync(f));
    u.subLines.push(line);
    appendFileSync('/etc/subuid', `${line}\n`);
    appendFileSync('/etc/subgid', `${line}\n`);
    u.xdg = mkdtempSync(join(tmpdir(), 'berth-userns-xdg-'));
    chownSync(u.xdg, u.uid, u.gid);
    chmodSync(u.xdg, 0o700);
  } catch (e) {
    removeUser(u);
    throw e;
  }
  return u;
}

function removeLines(file: string, lines: readonly string[]): void {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return;
  }
  const kept = text.split('\n').filter((l) => !lines.includes(l));
  if (kept.length !== text.split('\n').length) writeFileSync(file, kept.join('\n'));
}

function removeUser(u: TestUser): void {
  if (u.xdg) rmSync(u.xdg, { recursive: true, force: true });
  // Our lines go first, so that userdel has none to remove (and leaves no subuid- backup).
  for (const f of ['/etc/subuid', '/etc/subgid']) {
    removeLines(f, u.subLines);
    if (u.subFilesMade.includes(f) && existsSync(f) && readFileSync(f, 'utf8').trim() === '') rmSync(f);
  }
  hostSync(['userdel', u.name]);
}

/** A runtime as the user runs it: its command and the environment it needs. */
interface UserRuntime {
  argv: string[];
  env: string[];
}

/**
 * berth-runtime as the user runs it: a copy of the bundle and of berth-nsinit in a directory
 * anyone can read, so that the test does not depend on where the repository is (a CI clone
 * under /root is out of an unprivileged user's reach). runc is used where it is installed.
 */
function userRuntime(rt: Runtime, cleanups: (() => void)[]): UserRuntime {
  const bundle = rt.argv.at(-1) ?? '';
  if (rt.name !== 'berth' || !/\.(c|m)?js$/.test(bundle)) return { argv: [...rt.argv], env: [] };
  const dir = mkdtempSync(join(tmpdir(), 'berth-userns-bin-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  chmodSync(dir, 0o755);
  const copy = (from: string, name: string) => {
    copyFileSync(from, join(dir, name));
    chmodSync(join(dir, name), 0o755);
    return join(dir, name);
  };
  const env = [`BERTH_NSINIT=${copy(process.env.BERTH_NSINIT ?? join(REPO_ROOT, 'native', 'build', 'berth-nsinit'), 'berth-nsinit')}`];
  const bpf = process.env.BERTH_CGROUP_BPF ?? join(REPO_ROOT, 'native', 'build', 'berth-cgroup-bpf');
  if (existsSync(bpf)) env.push(`BERTH_CGROUP_BPF=${copy(bpf, 'berth-cgroup-bpf')}`);
  // The bin is a loader that runs its bundle (and code cache) from the same directory.
  const from = dirname(bundle);
  for (const name of readdirSync(from)) if (/^berth-runtime\.(main\.cjs|cache)$/.test(name)) copy(join(from, name), name);
  return { argv: [...rt.argv.slice(0, -1), copy(bundle, basename(bundle))], env };
}

/**
 * Runs the runtime as the user, with a clean environment: PATH, HOME, USER, what the runtime
 * needs, and $XDG_RUNTIME_DIR unless `xdg: false`.
 */
function asUser(u: TestUser, ur: UserRuntime, args: readonly string[], opts: RunOptions & { xdg?: boolean } = {}): Promise<RunResult> {
  const env = ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'HOME=/nonexistent', `USER=${u.name}`, ...ur.env];
  if (opts.xdg !== false) env.push(`XDG_RUNTIME_DIR=${u.xdg}`);
  const argv = ['setpriv', `--reuid=${u.uid}`, `--regid=${u.gid}`, '--clear-groups', '--', 'env', '-i', ...env, ...ur.argv, ...args];
  return runCommand(argv, opts);
}

/** A bundle owned by the user, with the config `spec --rootless` made for it by `rt`, then `edit`ed. */
async function rootlessBundle(u: TestUser, ur: UserRuntime, edit: (s: Spec) => void): Promise<Bundle> {
  const b = await Bundle.create();
  try {
    rmSync(b.configPath);
    const chown = hostSync(['chown', '-R', `${u.uid}:${u.gid}`, b.dir]);
    if (chown.code !== 0) throw new Error(`chown -R ${b.dir}: ${chown.stderr}`);
    const r = await asUser(u, ur, ['spec', '--rootless'], { cwd: b.dir });
    if (r.code !== 0) throw new Error(`spec --rootless as ${u.name}: ${describeResult(r)}`);
    b.spec = JSON.parse(readFileSync(b.configPath, 'utf8')) as Spec;
    await b.editConfig((s) => {
      if (s.process !== undefined) s.process.terminal = false;
      edit(s);
    });
  } catch (e) {
    await b[Symbol.asyncDispose]();
    throw e;
  }
  return b;
}

function setProbe(s: Spec, args: readonly string[]): void {
  if (s.process !== undefined) s.process.args = [PROBE, ...args];
}

/** Deletes every container the user has left in its state directory for `rt`. */
async function deleteUserContainers(u: TestUser, ur: UserRuntime): Promise<void> {
  const list = await asUser(u, ur, ['list', '--format', 'json'], { guardMs: 30_000 }).catch(() => undefined);
  if (list?.code !== 0) return;
  let ids: string[] = [];
  try {
    ids = ((JSON.parse(list.stdout || 'null') as { id: string }[] | null) ?? []).map((c) => c.id);
  } catch {
    return;
  }
  for (const id of ids) await asUser(u, ur, ['delete', '--force', id], { guardMs: 30_000 }).catch(() => undefined);
}

function hostStatus(pid: number, field: string): string {
  const m = new RegExp(`^${field}:\\s*(.*)$`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m?.[1]?.trim() ?? '';
}

const mapLines = (text: string) =>
  text
    .trim()
    .split('\n')
    .map((l) => l.trim().split(/\s+/).map(Number));

// ------------------------------------------------------------------ delegated cgroups

interface Delegation {
  /** Host directories: per hierarchy, the delegated cgroup and its leaf for the runtime. */
  dirs: { parent: string; leaf: string }[];
  /** Shell lines that move the calling shell into the leaf of every hierarchy. */
  enter: string;
}

/**
 * A cgroup delegated to the user in every hierarchy, as systemd's Delegate=yes makes one: a
 * directory under our own cgroup that the user owns (with cgroup.procs, and on cgroup2
 * cgroup.subtree_control and cgroup.threads), and a leaf in it where the runtime runs.
 */
function delegateCgroups(u: TestUser): Delegation {
  const name = `berth-userns-${randomBytes(3).toString('hex')}`;
  const dirs: Delegation['dirs'] = [];
  const seen = new Set<string>();
  const make = (d: string) => {
    mkdirSync(d);
    if (existsSync(join(d, 'cpuset.cpus'))) {
      // A new v1 cpuset cgroup starts empty, and takes no tasks until it has cpus and mems.
      for (const f of ['cpuset.cpus', 'cpuset.mems']) writeFileSync(join(d, f), readFileSync(join(d, '..', f), 'utf8').trim() || '\n');
    }
    for (const f of ['', 'cgroup.procs', 'tasks', 'cgroup.subtree_control', 'cgroup.threads'])
      if (existsSync(join(d, f))) chownSync(join(d, f), u.uid, u.gid);
  };
  try {
    for (const [ctrl, path] of cgroupsOf('self')) {
      const mount =
        ctrl === ''
          ? cgroupLayout() === 'v2'
            ? '/sys/fs/cgroup'
            : '/sys/fs/cgroup/unified'
          : `/sys/fs/cgroup/${ctrl.replace(/^name=/, '')}`;
      if (!existsSync(mount)) continue;
      const real = realpathSync(mount);
      if (seen.has(real)) continue;
      seen.add(real);
      const parent = join(real, path, name);
      const leaf = join(parent, 'runtime');
      make(parent);
      dirs.push({ parent, leaf: parent });
      make(leaf);
      dirs[dirs.length - 1] = { parent, leaf };
    }
  } catch (e) {
    removeDelegation({ dirs, enter: '' });
    throw e;
  }
  return { dirs, enter: dirs.map((d) => `echo $$ > '${d.leaf}/cgroup.procs'`).join('\n') };
}

function removeDelegation(d: Delegation): void {
  for (const { parent, leaf } of d.dirs) {
    for (const dir of leaf === parent ? [parent] : [leaf, parent]) {
      try {
        rmdirSync(dir);
      } catch {
        // already gone, or a container cgroup left inside: reported by the test
      }
    }
  }
}

// ------------------------------------------------------------------ tests

const runtimes = selectedRuntimeNames().map((n) => createRuntime(n));

after(async () => {
  for (const rt of runtimes) await rt[Symbol.asyncDispose]();
});

for (const rt of runtimes) {
  describe(`user namespaces as root [${rt.name}]`, () => {
    const skip = () => rt.unavailable ?? baseReason();

    test('uid 0 of the container is 100000 on the host: maps, ids, file owners, capabilities', async (t) => {
      if (!requires(t, skip())) return;
      await using b = await Bundle.create({ probeArgs: ['sleep', '600'] });
      const shared = mkdtempSync(join(tmpdir(), 'berth-userns-shared-'));
      b.defer(() => rmSync(shared, { recursive: true, force: true }));
      chownSync(shared, 100000, 100000);
      const chown = hostSync(['chown', '-R', '100000:100000', b.rootfs]);
      assert.equal(chown.code, 0, chown.stderr);
      await b.editConfig((s) => {
        s.linux?.namespaces?.push({ type: 'user' });
        if (s.linux !== undefined) {
          s.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: SUB_COUNT }];
          s.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: SUB_COUNT }];
        }
        s.mounts?.push({ destination: '/shared', type: 'bind', source: shared, options: ['rbind', 'rw'] });
        s.root = { path: 'rootfs', readonly: false };
        setProbe(s, ['write', '/shared/by-root', 'x', '+', 'write', '/created-in-rootfs', 'x', '+', 'sleep', '600']);
      });
      const id = uniqueId('userns');
      const c = await mustCreate(rt, b, id);
      await mustRun(rt, ['start', id]);
      const pid = c.pid();
      await waitForFile(join(shared, 'by-root'));
      // the probe writes the two files one after the other: under load the second may lag
      await waitForFile(b.inRootfs('created-in-rootfs'));
      assert.deepEqual(mapLines(readFileSync(`/proc/${pid}/uid_map`, 'utf8')), [[0, 100000, SUB_COUNT]], `/proc/${pid}/uid_map`);
      assert.deepEqual(mapLines(readFileSync(`/proc/${pid}/gid_map`, 'utf8')), [[0, 100000, SUB_COUNT]], `/proc/${pid}/gid_map`);
      assert.equal(readFileSync(`/proc/${pid}/setgroups`, 'utf8').trim(), 'allow', 'a runtime run as root leaves setgroups allowed');
      assert.equal(hostStatus(pid, 'Uid'), '100000\t100000\t100000\t100000', 'host view of the process uids');
      assert.equal(hostStatus(pid, 'Gid'), '100000\t100000\t100000\t100000', 'host view of the process gids');
      const st = statSync(join(shared, 'by-root'));
      assert.equal(`${st.uid}:${st.gid}`, '100000:100000', 'a file made by the container root in a bind mount');
      const made = statSync(b.inRootfs('created-in-rootfs'));
      assert.equal(`${made.uid}:${made.gid}`, '100000:100000', 'a file made by the container root in its (chowned) rootfs');
      // The capabilities are the configured ones, held in the container's user namespace.
      const want = capMask(DEFAULT_CAPS).toString(16).padStart(16, '0');
      for (const f of ['CapBnd', 'CapPrm', 'CapEff']) assert.equal(hostStatus(pid, f), want, `${f} of the container process`);
      const userns = readFileSync(`/proc/${pid}/uid_map`, 'utf8');
      assert.notEqual(userns, readFileSync('/proc/self/uid_map', 'utf8'), 'the container has its own user namespace');
      await mustRun(rt, ['kill', id, 'KILL']);
      await waitForExit(pid);
    });
  });

  describe(`rootless [${rt.name}]`, () => {
    let user: TestUser | undefined;
    let userRt: UserRuntime | undefined;
    const cleanups: (() => void)[] = [];
    let setupError: string | undefined;
    const ur = (): UserRuntime => {
      if (userRt === undefined) throw new Error('no runtime for the test user');
      return userRt;
    };
    const skip = (...more: Reason[]) =>
      firstReason(
        rt.unavailable,
        baseReason(),
        needsBinary('useradd'),
        needsBinary('userdel'),
        needsBinary('setpriv'),
        setupError,
        ...more,
      );

    before(async () => {
      if (firstReason(rt.unavailable, baseReason(), needsBinary('useradd'), needsBinary('setpriv')) !== undefined) return;
      user = makeUser();
      userRt = userRuntime(rt, cleanups);
      // The runtime must be usable by the user (Node and runc are, where the system has them).
      const r = await asUser(user, userRt, ['--version']);
      if (r.code !== 0) {
        const why = `the ${rt.name} runtime cannot be run by an unprivileged user (${describeResult(r).split('\n')[0]})`;
        // For berth that is our own bug, not a missing host feature: fail, do not skip.
        if (rt.name === 'berth') throw new Error(why);
        setupError = why;
      }
    });

    after(async () => {
      if (user !== undefined && userRt !== undefined) await deleteUserContainers(user, userRt);
      if (user !== undefined) removeUser(user);
      for (const fn of cleanups) fn();
    });

    const userOf = (t: TestContext, ...more: Reason[]): TestUser | undefined => {
      if (!requires(t, skip(...more))) return undefined;
      if (user === undefined) throw new Error('no test user');
      return user;
    };

    test('spec --rootless then run: the caller mapped to root, setgroups denied', async (t) => {
      const u = userOf(t);
      if (u === undefined) return;
      await using b = await rootlessBundle(u, ur(), (s) => {
        s.root = { path: 'rootfs', readonly: false };
        setProbe(s, [
          'ids',
          '+',
          'cat',
          '/proc/self/uid_map',
          '+',
          'cat',
          '/proc/self/gid_map',
          '+',
          'cat',
          '/proc/self/setgroups',
          '+',
          'write',
          '/made-here',
          'x',
        ]);
      });
      assert.deepEqual(b.spec.linux?.uidMappings, [{ containerID: 0, hostID: u.uid, size: 1 }], 'spec --rootless maps the caller');
      const r = await asUser(u, ur(), ['run', uniqueId('rl')], { cwd: b.dir });
      assert.equal(r.code, 0, describeResult(r));
      const out = new ProbeOutput(r.stdout);
      assert.equal(out.kv('ids').get('uid'), '0', 'root in the container');
      assert.deepEqual(mapLines(out.text('cat', '/proc/self/uid_map')), [[0, u.uid, 1]]);
      assert.deepEqual(mapLines(out.text('cat', '/proc/self/gid_map')), [[0, u.gid, 1]]);
      assert.equal(out.value('cat', '/proc/self/setgroups'), 'deny', 'an unprivileged single gid mapping needs setgroups denied');
      assert.equal(out.value('write', '/made-here', 'x'), 'ok');
      const st = statSync(b.inRootfs('made-here'));
      assert.equal(`${st.uid}:${st.gid}`, `${u.uid}:${u.gid}`, 'files made by the container root belong to the user');
      if (rt.name === 'berth') assert.match(r.stderr, /rootless: cgroups not set up/, 'berth says that it skipped the cgroups');
    });

    // A comparison of berth with runc: registered once, in berth's round.
    const specTest = rt.name === 'berth' ? test : () => undefined;
    specTest('spec --rootless writes what runc spec --rootless writes, for this user', async (t) => {
      const u = userOf(t, needsBinary('runc'));
      if (u === undefined) return;
      const texts: string[] = [];
      for (const r of [ur(), { argv: [findBinary('runc') ?? 'runc'], env: [] }]) {
        const dir = mkdtempSync(join(tmpdir(), 'berth-userns-spec-'));
        t.after(() => rmSync(dir, { recursive: true, force: true }));
        chownSync(dir, u.uid, u.gid);
        const res = await asUser(u, r, ['spec', '--rootless'], { cwd: dir });
        assert.equal(res.code, 0, describeResult(res));
        texts.push(readFileSync(join(dir, 'config.json'), 'utf8'));
      }
      assert.equal(texts[0], texts[1], 'the same bytes');
      assert.match(texts[0] ?? '', new RegExp(`"hostID": ${u.uid},`));
    });

    test('detached lifecycle in $XDG_RUNTIME_DIR: create, start, state, exec, kill, delete', async (t) => {
      const u = userOf(t);
      if (u === undefined) return;
      await using b = await rootlessBundle(u, ur(), (s) => setProbe(s, ['sleep', '600']));
      const id = uniqueId('rl');
      const run = (args: string[]) => asUser(u, ur(), [...args], { cwd: b.dir });
      const out = join(b.dir, 'create.out');
      const cr = await asUser(u, ur(), ['create', '--pid-file', join(b.dir, 'pid'), id], {
        cwd: b.dir,
        stdoutFile: out,
        stderrFile: out,
      });
      assert.equal(cr.code, 0, `${describeResult(cr)}\n${readFileSync(out, 'utf8')}`);
      try {
        const stateDir = join(u.xdg, rt.name === 'berth' ? 'berth-runtime' : 'runc', id);
        assert.ok(existsSync(stateDir), `the state is kept in ${stateDir}`);
        assert.equal((await run(['start', id])).code, 0);
        const state = JSON.parse((await run(['state', id])).stdout) as { status: string; pid: number };
        assert.equal(state.status, 'running');
        assert.equal(hostStatus(state.pid, 'Uid').split('\t')[0], String(u.uid), 'the container process runs as the user on the host');
        const ex = await run(['exec', id, PROBE, 'ids', '+', 'cat', '/proc/self/uid_map']);
        assert.equal(ex.code, 0, describeResult(ex));
        const exOut = new ProbeOutput(ex.stdout);
        assert.equal(exOut.kv('ids').get('uid'), '0', 'exec joins the user namespace as its root');
        assert.deepEqual(mapLines(exOut.text('cat', '/proc/self/uid_map')), [[0, u.uid, 1]]);
        const groups = await run(['exec', '--additional-gids', '5', id, PROBE, 'ids']);
        assert.notEqual(groups.code, 0, 'additional groups cannot be set where setgroups is denied');
        assert.equal((await run(['kill', id, 'KILL'])).code, 0);
        await waitForExit(state.pid);
      } finally {
        const del = await run(['delete', '--force', id]);
        assert.equal(del.code, 0, describeResult(del));
      }
      assert.notEqual((await run(['state', id])).code, 0, 'deleted');
    });

    test('without $XDG_RUNTIME_DIR: an error, not root state', async (t) => {
      const u = userOf(t);
      if (u === undefined) return;
      await using b = await rootlessBundle(u, ur(), (s) => setProbe(s, ['ids']));
      const r = await asUser(u, ur(), ['run', uniqueId('rl')], { cwd: b.dir, xdg: false });
      assert.notEqual(r.code, 0, 'run without a usable state directory must fail');
      if (rt.name === 'berth') assert.match(r.stderr, /XDG_RUNTIME_DIR is not set.*--root/, 'berth says what is missing');
    });

    test('newuidmap/newgidmap: a subordinate range from /etc/subuid and /etc/subgid', async (t) => {
      const u = userOf(t, needsBinary('newuidmap'), needsBinary('newgidmap'));
      if (u === undefined) return;
      const maps = [
        { containerID: 0, hostID: u.uid, size: 1 },
        { containerID: 1, hostID: u.subStart, size: SUB_COUNT },
      ];
      await using b = await rootlessBundle(u, ur(), (s) => {
        if (s.linux !== undefined) {
          s.linux.uidMappings = maps;
          s.linux.gidMappings = maps.map((m, i) => (i === 0 ? { ...m, hostID: u.gid } : m));
        }
        if (s.process !== undefined) s.process.user = { uid: 1000, gid: 1000 };
        s.root = { path: 'rootfs', readonly: false };
        setProbe(s, ['ids', '+', 'cat', '/proc/self/uid_map', '+', 'cat', '/proc/self/setgroups', '+', 'write', '/tmp/by-1000', 'x']);
      });
      const r = await asUser(u, ur(), ['run', uniqueId('rl')], { cwd: b.dir });
      assert.equal(r.code, 0, describeResult(r));
      const out = new ProbeOutput(r.stdout);
      assert.equal(out.kv('ids').get('uid'), '1000');
      assert.deepEqual(mapLines(out.text('cat', '/proc/self/uid_map')), [
        [0, u.uid, 1],
        [1, u.subStart, SUB_COUNT],
      ]);
      assert.equal(out.value('cat', '/proc/self/setgroups'), 'allow', 'newgidmap allows setgroups for a subordinate range');
      assert.equal(out.value('write', '/tmp/by-1000', 'x'), 'ok');
      const st = statSync(b.inRootfs('tmp/by-1000'));
      assert.equal(`${st.uid}:${st.gid}`, `${u.subStart + 999}:${u.subStart + 999}`, 'container uid 1000 is subordinate id start+999');
    });

    test('newuidmap refuses a range the user was not given', async (t) => {
      const u = userOf(t, needsBinary('newuidmap'), needsBinary('newgidmap'));
      if (u === undefined) return;
      await using b = await rootlessBundle(u, ur(), (s) => {
        if (s.linux !== undefined) s.linux.uidMappings = [{ containerID: 0, hostID: u.subStart + SUB_COUNT, size: 10 }];
        setProbe(s, ['ids']);
      });
      const r = await asUser(u, ur(), ['run', uniqueId('rl')], { cwd: b.dir });
      assert.notEqual(r.code, 0, 'the mapping must be refused');
      if (rt.name === 'berth') assert.match(r.stderr, /newuidmap.*not allowed/, "berth passes on newuidmap's reason");
    });

    test('a resource limit without a delegated cgroup is an error', async (t) => {
      const u = userOf(t);
      if (u === undefined) return;
      await using b = await rootlessBundle(u, ur(), (s) => {
        if (s.linux !== undefined) s.linux.resources = { pids: { limit: 42 } };
        setProbe(s, ['ids']);
      });
      const r = await asUser(u, ur(), ['run', uniqueId('rl')], { cwd: b.dir });
      assert.notEqual(r.code, 0, 'a limit that cannot be honoured must fail the container');
      assert.match(r.stderr, /cannot set pids limit|rootless needs no limits/, describeResult(r));
    });

    test('a delegated cgroup is used, with its limits', async (t) => {
      const u = userOf(t);
      if (u === undefined) return;
      const deleg = delegateCgroups(u);
      t.after(() => removeDelegation(deleg));
      const layout = cgroupLayout();
      const pidsMax = layout === 'v2' ? '/sys/fs/cgroup/pids.max' : '/sys/fs/cgroup/pids/pids.max';
      await using b = await rootlessBundle(u, ur(), (s) => {
        if (s.linux !== undefined) s.linux.resources = { pids: { limit: 42 } };
        setProbe(s, ['cgroup', '+', 'cat', pidsMax]);
      });
      const id = uniqueId('rl');
      const r = await asUser(u, ur(), ['run', id], { cwd: b.dir, prelude: deleg.enter });
      assert.equal(r.code, 0, describeResult(r));
      const out = new ProbeOutput(r.stdout);
      assert.equal(out.value('cat', pidsMax), '42', 'the pids limit is applied in the delegated cgroup');
      const pidsLine = out
        .lines('cgroup')
        .find((l) => (layout === 'v2' ? l.startsWith('0::') : l.split(':')[1]?.split(',').includes('pids')));
      assert.ok(pidsLine?.includes(`/${id}`), `the container has a cgroup of its own: ${pidsLine}`);
      for (const { parent } of deleg.dirs)
        assert.ok(
          !existsSync(join(parent, id)) && !existsSync(join(parent, 'runtime', id)),
          `the container's cgroup under ${parent} is removed`,
        );
    });
  });
}
