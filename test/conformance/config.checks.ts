/**
 * config.md: root, mounts, process (args, env, cwd, user, umask, rlimits,
 * capabilities, noNewPrivileges, oomScoreAdj, terminal-less stdio), hostname,
 * domainname, hooks, extensibility.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Bundle } from '../helpers/bundle.js';
import { create, pidAlive, state, waitForExit, waitForStatus } from '../helpers/container.js';
import { mountAt, type ProbeOutput, parseMountinfo } from '../helpers/probe.js';
import { boundingSet, needsCapability } from '../helpers/requires.js';
import { describeResult, hostSync } from '../helpers/runtime.js';
import { CAPABILITIES, type Capabilities, capMask, capNames, type Hook, PROBE } from '../helpers/spec.js';
import { assertNoContainer, created, nsLink, setProbe, shq, sleeperBundle, started, statusOrAbsent } from './common.js';
import { type Check, type CheckContext, expectFailure, expectSuccess } from './harness.js';

// ------------------------------------------------------------------ hooks

const HOOK_TYPES = ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'] as const;
type HookType = (typeof HOOK_TYPES)[number];

/** Where a hook of each type runs (config.md#posix-platform-hooks). */
const RUNS_IN: Record<HookType, 'runtime' | 'container'> = {
  prestart: 'runtime',
  createRuntime: 'runtime',
  createContainer: 'container',
  startContainer: 'container',
  poststart: 'runtime',
  poststop: 'runtime',
};

/**
 * The recording hook: saves its stdin (the state) to OUT/NAME.json, appends
 * NAME to OUT/order, records its namespaces (OUT/NAME.ns) and the cmdline of
 * the state's pid (OUT/NAME.cmdline); MODE `fail` exits 1, `sleep` records its
 * pid and sleeps.
 */
const HOOK_SCRIPT = `name=$1; out=$2; mode=$3
cat > "$out/$name.json"
echo "$name" >> "$out/order"
for t in mnt net uts ipc pid; do echo "$t=$(readlink /proc/self/ns/$t)"; done > "$out/$name.ns"
pid=$(sed -n 's/.*"pid": *\\([0-9][0-9]*\\).*/\\1/p' "$out/$name.json")
if [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ]; then tr '\\0' ' ' < "/proc/$pid/cmdline" > "$out/$name.cmdline"; fi
case "$mode" in
fail) exit 1 ;;
sleep) echo $$ > "$out/$name.pid"; exec sleep 100 ;;
esac
exit 0`;

interface HookFixture {
  /** Host directory the hooks write to (bind-mounted at /hookout in the container). */
  out: string;
  /** A hook entry of `type`, recording under `name`. */
  hook(type: HookType, name: string, mode?: 'fail' | 'sleep', extra?: Partial<Hook>): Hook;
  order(): string[];
  mark(what: string): void;
  json(name: string): Record<string, unknown>;
  ns(name: string): Map<string, string>;
  has(name: string): boolean;
}

function hookFixture(ctx: CheckContext, b: Bundle): HookFixture {
  const out = ctx.tmpdir('hooks');
  writeFileSync(join(out, 'hook.sh'), `#!/bin/sh\n${HOOK_SCRIPT}\n`, { mode: 0o755 });
  b.spec.mounts?.push({ destination: '/hookout', type: 'bind', source: out, options: ['rbind', 'rw'] });
  return {
    out,
    hook(type, name, mode, extra) {
      // Runtime-namespace hooks use the host path; container-namespace hooks
      // whose path resolves in the container (startContainer) use the bind mount.
      const inContainer = type === 'startContainer';
      const script = inContainer ? '/hookout/hook.sh' : join(out, 'hook.sh');
      const dir = inContainer ? '/hookout' : out;
      return { path: script, args: ['hook.sh', name, dir, mode ?? 'ok'], ...extra };
    },
    order() {
      const p = join(out, 'order');
      return existsSync(p)
        ? readFileSync(p, 'utf8')
            .split('\n')
            .filter((l) => l !== '')
        : [];
    },
    mark(what) {
      writeFileSync(join(out, 'order'), `${what}\n`, { flag: 'a' });
    },
    json(name) {
      const p = join(out, `${name}.json`);
      assert.ok(existsSync(p), `hook ${name} did not run (no state saved)`);
      const text = readFileSync(p, 'utf8');
      try {
        return JSON.parse(text) as Record<string, unknown>;
      } catch {
        throw new Error(`hook ${name} got no JSON state on stdin: ${JSON.stringify(text.slice(0, 200))}`);
      }
    },
    ns(name) {
      const m = new Map<string, string>();
      const p = join(out, `${name}.ns`);
      assert.ok(existsSync(p), `hook ${name} did not run`);
      for (const l of readFileSync(p, 'utf8').split('\n')) {
        const i = l.indexOf('=');
        if (i > 0) m.set(l.slice(0, i), l.slice(i + 1));
      }
      return m;
    },
    has(name) {
      return existsSync(join(out, `${name}.json`));
    },
  };
}

/** A bundle with every hook type (two of each), the process appending to /hookout/order and sleeping. */
async function allHooksBundle(
  ctx: CheckContext,
  mode: Partial<Record<string, 'fail' | 'sleep'>> = {},
): Promise<{ b: Bundle; h: HookFixture }> {
  const b = await ctx.bundle({ probeArgs: [] });
  const h = hookFixture(ctx, b);
  await b.editConfig((s) => {
    setProbe(s, ['append', '/hookout/order', 'process'], ['sleep', '600']);
    s.hooks = {};
    for (const type of HOOK_TYPES) s.hooks[type] = [1, 2].map((n) => h.hook(type, `${type}-${n}`, mode[`${type}-${n}`]));
  });
  return { b, h };
}

/** Runs a full lifecycle with all hooks, marking when each operation returned. */
async function fullLifecycle(ctx: CheckContext, b: Bundle, h: HookFixture): Promise<{ id: string; pid: number }> {
  const c = await created(ctx, b);
  h.mark('create-returned');
  const pid = c.pid();
  await started(ctx.rt, c.id);
  h.mark('start-returned');
  expectSuccess(await ctx.rt.run(['kill', c.id, 'KILL']), 'kill');
  await waitForExit(pid);
  await waitForStatus(ctx.rt, c.id, 'stopped');
  expectSuccess(await ctx.rt.run(['delete', c.id]), 'delete');
  h.mark('delete-returned');
  return { id: c.id, pid };
}

/** A bundle with one failing hook of `type` (plus a poststop recorder); checks create/start fail and the program never runs. */
function failingHookCheck(type: HookType, step: string): Check {
  return {
    id: `config/hooks-${type}-failure`,
    doc: 'runtime.md#lifecycle',
    level: 'MUST',
    quote: `(step ${step}) If any ${type} hook fails, the runtime MUST generate an error, stop the container, and continue the lifecycle at step 12.`,
    async run(ctx) {
      const b = await ctx.bundle({ probeArgs: [] });
      const h = hookFixture(ctx, b);
      await b.editConfig((s) => {
        setProbe(s, ['append', '/hookout/order', 'process'], ['sleep', '600']);
        s.hooks = { [type]: [h.hook(type, `${type}-1`, 'fail')] };
      });
      const id = ctx.id('hookfail');
      const c = await create(ctx.rt, b, id);
      let failed = c.result;
      if (type === 'startContainer') {
        expectSuccess(c.result, 'create');
        failed = await ctx.rt.run(['start', id]);
      }
      expectFailure(failed, `${type === 'startContainer' ? 'start' : 'create'} with a failing ${type} hook`);
      assert.ok(h.has(`${type}-1`), `the ${type} hook was not called; the runtime said: ${describeResult(failed)}`);
      assert.ok(!h.order().includes('process'), 'the user program ran although a hook failed');
      if (existsSync(c.pidFile)) {
        const pid = Number(readFileSync(c.pidFile, 'utf8').trim());
        if (pid > 0) await waitForExit(pid).catch(() => assert.fail(`the container process ${pid} was not stopped`));
      }
      const st = await statusOrAbsent(ctx.rt, id);
      assert.ok(st === 'absent' || st === 'stopped', `the container must be stopped and destroyed, it is ${st}`);
    },
  };
}

function capsOf(out: ProbeOutput): Record<keyof Capabilities, bigint> {
  const kv = out.kv('caps');
  const get = (k: string) => BigInt(`0x${kv.get(k) ?? '0'}`);
  return {
    bounding: get('bounding'),
    effective: get('effective'),
    inheritable: get('inheritable'),
    permitted: get('permitted'),
    ambient: get('ambient'),
  };
}

/**
 * What the kernel leaves after execve of a plain file (no file caps, not
 * setuid) given the sets the runtime applied (capabilities(7)):
 * uid 0 (no SECBIT_NOROOT): the file counts as fully capable, P' = inh | bnd;
 * others: P' = ambient; E' = P'. With no_new_privs, P' cannot exceed the
 * permitted set before execve.
 */
function capsAfterExec(c: Capabilities, uid: number, noNewPrivileges: boolean): Record<keyof Capabilities, bigint> {
  const bnd = capMask(c.bounding ?? []);
  const inh = capMask(c.inheritable ?? []);
  const perm = capMask(c.permitted ?? []);
  const amb = capMask(c.ambient ?? []) & perm & inh;
  let permAfter = uid === 0 ? inh | bnd | amb : amb;
  if (noNewPrivileges) permAfter &= perm;
  return { bounding: bnd, inheritable: inh, ambient: amb, permitted: permAfter, effective: permAfter };
}

function showCaps(m: bigint): string {
  return `[${capNames(m).join(', ')}]`;
}

/** A capability the kernel knows (≤ cap_last_cap) but this host's bounding set lacks. */
function ungrantableCapability(): string | undefined {
  let last = CAPABILITIES.length - 1;
  try {
    last = Number(readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8').trim());
  } catch {
    /* keep */
  }
  const bnd = boundingSet();
  return CAPABILITIES.slice(0, last + 1).find((c) => !bnd.has(c));
}

// ------------------------------------------------------------------ checks

export const configChecks: Check[] = [
  // ------------------------------------------------------------------- root
  {
    id: 'config/root-path',
    doc: 'config.md#root',
    level: 'MUST',
    quote:
      'path (string, REQUIRED) Specifies the path to the root filesystem for the container … either an absolute path or a relative path to the bundle.',
    async run(ctx) {
      for (const absolute of [false, true]) {
        const out = await ctx.probe(['cat', '/marker'], (s, b) => {
          writeFileSync(b.inRootfs('marker'), `rootfs of ${b.dir}`);
          s.root = { path: absolute ? b.rootfs : 'rootfs', readonly: true };
        });
        assert.match(
          out.value('cat', '/marker'),
          /^rootfs of \//,
          `${absolute ? 'absolute' : 'relative'} root.path: the container's / must be the rootfs`,
        );
      }
    },
  },
  {
    id: 'config/root-path-must-exist',
    doc: 'config.md#root',
    level: 'MUST',
    quote: 'A directory MUST exist at the path declared by the field. (a missing root is an error)',
    async run(ctx) {
      const b = await sleeperBundle(ctx, (s) => {
        s.root = { path: 'no-such-rootfs' };
      });
      const id = ctx.id();
      expectFailure((await create(ctx.rt, b, id)).result, 'create with a missing root.path');
      assert.equal(await statusOrAbsent(ctx.rt, id), 'absent');
    },
  },
  {
    id: 'config/root-readonly',
    doc: 'config.md#root',
    level: 'MUST',
    quote: 'readonly (bool, OPTIONAL) If true then the root filesystem MUST be read-only inside the container, defaults to false.',
    async run(ctx) {
      const probe = ['write', '/newfile', 'x', '+', 'mkdir', '/newdir'];
      const ro = await ctx.probe(probe, (s) => {
        s.root = { path: 'rootfs', readonly: true };
      });
      assert.equal(ro.value('write', '/newfile', 'x'), 'EROFS', 'write to a read-only root');
      assert.equal(ro.value('mkdir', '/newdir'), 'EROFS', 'mkdir on a read-only root');
      const rw = await ctx.probe(probe, (s) => {
        s.root = { path: 'rootfs' };
      });
      assert.equal(rw.value('write', '/newfile', 'x'), 'ok', 'write to a read-write root (readonly unset)');
      assert.equal(rw.value('mkdir', '/newdir'), 'ok', 'mkdir on a read-write root');
    },
  },

  // ----------------------------------------------------------------- mounts
  {
    id: 'config/mounts-order',
    doc: 'config.md#mounts',
    level: 'MUST',
    quote: 'The runtime MUST mount entries in the listed order.',
    async run(ctx) {
      const one = ctx.tmpdir('one');
      const two = ctx.tmpdir('two');
      writeFileSync(join(one, 'from-bind-one'), '1');
      writeFileSync(join(two, 'from-bind-two'), '2');
      const out = await ctx.probe(['ls', '/m1', '+', 'ls', '/m2'], (s) => {
        s.mounts?.push(
          { destination: '/m1', type: 'bind', source: one, options: ['rbind'] },
          { destination: '/m1', type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] },
          { destination: '/m2', type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] },
          { destination: '/m2', type: 'bind', source: two, options: ['rbind'] },
        );
      });
      assert.deepEqual(out.lines('ls', '/m1'), [], '/m1: the tmpfs listed second must cover the bind mount');
      assert.deepEqual(out.lines('ls', '/m2'), ['from-bind-two'], '/m2: the bind mount listed second must cover the tmpfs');
    },
  },
  {
    id: 'config/mounts-bind',
    doc: 'config.md#mounts',
    level: 'MUST',
    quote:
      '`bind` | MUST | Bind mount; `ro`/`rw` | MUST; source: Path values for bind mounts are either absolute or relative to the bundle.',
    async run(ctx) {
      const data = ctx.tmpdir('data');
      writeFileSync(join(data, 'f'), 'hello');
      const out = await ctx.probe(
        ['cat', '/rw/f', '+', 'write', '/rw/new', 'x', '+', 'cat', '/ro/f', '+', 'write', '/ro/new2', 'x', '+', 'cat', '/rel/g'],
        (s, b) => {
          mkdirSync(b.path('reldata'));
          writeFileSync(b.path('reldata', 'g'), 'relative');
          s.mounts?.push(
            { destination: '/rw', type: 'bind', source: data, options: ['bind', 'rw'] },
            { destination: '/ro', type: 'bind', source: data, options: ['bind', 'ro'] },
            { destination: '/rel', type: 'bind', source: 'reldata', options: ['bind'] },
          );
        },
      );
      assert.equal(out.value('cat', '/rw/f'), 'hello');
      assert.equal(out.value('write', '/rw/new', 'x'), 'ok');
      assert.ok(existsSync(join(data, 'new')), 'a write through a rw bind mount must reach the source');
      assert.equal(out.value('cat', '/ro/f'), 'hello');
      assert.equal(out.value('write', '/ro/new2', 'x'), 'EROFS', 'a ro bind mount must be read-only');
      assert.equal(out.value('cat', '/rel/g'), 'relative', 'a relative bind source is relative to the bundle');
    },
  },
  {
    id: 'config/mounts-rbind-recursive',
    doc: 'config.md#linux-mount-options',
    level: 'MUST',
    quote: '`rbind` | MUST | Recursive bind mount (`bind` alone is not recursive)',
    async run(ctx) {
      const data = ctx.tmpdir('tree');
      mkdirSync(join(data, 'sub'));
      const m = hostSync(['mount', '-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', join(data, 'sub')]);
      if (m.code !== 0) ctx.skip(`cannot mount a tmpfs on the host: ${m.stderr}`);
      ctx.defer(() => {
        hostSync(['umount', '-l', join(data, 'sub')]);
      });
      writeFileSync(join(data, 'sub', 'inner'), 'x');
      const out = await ctx.probe(['ls', '/rb/sub', '+', 'ls', '/nb/sub'], (s) => {
        s.mounts?.push(
          { destination: '/rb', type: 'bind', source: data, options: ['rbind'] },
          { destination: '/nb', type: 'bind', source: data, options: ['bind'] },
        );
      });
      assert.deepEqual(out.lines('ls', '/rb/sub'), ['inner'], 'rbind must include submounts');
      assert.deepEqual(out.lines('ls', '/nb/sub'), [], 'bind must not include submounts');
    },
  },
  {
    id: 'config/mounts-options',
    doc: 'config.md#linux-mount-options',
    level: 'MUST',
    quote: '`ro`, `nosuid`, `nodev`, `noexec`, `noatime` … | MUST | Corresponds to mount(8) (filesystem-independent)',
    async run(ctx) {
      const out = await ctx.probe(['mounts'], (s) => {
        s.mounts?.push(
          { destination: '/opts-a', type: 'tmpfs', source: 'tmpfs', options: ['ro', 'nosuid', 'nodev', 'noexec', 'noatime'] },
          { destination: '/opts-b', type: 'tmpfs', source: 'tmpfs', options: ['rw', 'suid', 'dev', 'exec', 'strictatime'] },
        );
      });
      const mounts = parseMountinfo(out.text('mounts'));
      const a = mountAt(mounts, '/opts-a');
      const b = mountAt(mounts, '/opts-b');
      assert.ok(a && b, 'both tmpfs mounts must be present');
      for (const o of ['ro', 'nosuid', 'nodev', 'noexec', 'noatime'])
        assert.ok(a.options.includes(o), `/opts-a must be ${o}: ${a.options.join(',')}`);
      assert.ok(b.options.includes('rw'), `/opts-b must be rw: ${b.options.join(',')}`);
      for (const o of ['nosuid', 'nodev', 'noexec', 'noatime', 'relatime']) {
        assert.ok(!b.options.includes(o), `/opts-b must not be ${o}: ${b.options.join(',')}`);
      }
    },
  },
  {
    id: 'config/mounts-filesystem-data',
    doc: 'config.md#linux-mount-options',
    level: 'SHOULD',
    quote:
      'Runtimes SHOULD treat unknown options as filesystem-specific ones and pass those as a comma-separated string to the fifth (const void *data) argument of mount(2).',
    async run(ctx) {
      const out = await ctx.probe(['mounts', '+', 'stat', '/fsdata'], (s) => {
        s.mounts?.push({ destination: '/fsdata', type: 'tmpfs', source: 'tmpfs', options: ['size=1m', 'mode=700', 'nr_inodes=1000'] });
      });
      const m = mountAt(parseMountinfo(out.text('mounts')), '/fsdata');
      assert.ok(m, '/fsdata must be mounted');
      for (const o of ['size=1024k', 'mode=700', 'nr_inodes=1000'])
        assert.ok(m.superOptions.includes(o), `tmpfs data must include ${o}: ${m.superOptions.join(',')}`);
      assert.equal(out.kv('stat', '/fsdata').get('mode'), '0700');
    },
  },

  // ---------------------------------------------------------------- process
  {
    id: 'config/process-args',
    doc: 'config.md#process',
    level: 'MUST',
    quote: "args (array of strings, OPTIONAL) with similar semantics to IEEE Std 1003.1-2008 execvp's argv.",
    async run(ctx) {
      const args = ['argv', '+', 'echo', 'with  two spaces', '', 'ünïcødé', '$HOME', '*'];
      const out = await ctx.probe(args);
      assert.deepEqual(out.lines('argv'), [PROBE, ...args], 'argv must arrive unchanged');
    },
  },
  {
    id: 'config/process-args-path-lookup',
    doc: 'config.md#process',
    level: 'MUST',
    quote: "at least one entry is REQUIRED (non-Windows), and that entry is used with the same semantics as execvp's file.",
    async run(ctx) {
      const out = await ctx.probe(['argv'], (s) => {
        if (s.process === undefined) return;
        s.process.args = ['probe', 'argv'];
        s.process.env = ['PATH=/nonexistent:/'];
      });
      assert.deepEqual(out.lines('argv'), ['probe', 'argv'], 'args[0] without a slash must be looked up in PATH');
    },
  },
  {
    id: 'config/process-env',
    doc: 'config.md#process',
    level: 'MUST',
    quote: "env (array of strings, OPTIONAL) with the same semantics as IEEE Std 1003.1-2008's environ.",
    async run(ctx) {
      const env = ['PATH=/usr/bin:/bin', 'BERTH_A=1', 'BERTH_SPACES=a b  c', 'BERTH_EQ=x=y', 'BERTH_EMPTY='];
      const out = await ctx.probe(
        ['env'],
        (s) => {
          if (s.process !== undefined) s.process.env = env;
        },
        {},
        { env: { BERTH_CONFORMANCE_LEAK: '1' } },
      );
      const got = out.lines('env');
      for (const e of env) assert.ok(got.includes(e), `environment must contain ${JSON.stringify(e)}: ${JSON.stringify(got)}`);
      assert.ok(
        !got.some((e) => e.startsWith('BERTH_CONFORMANCE_LEAK=')),
        "the runtime's own environment must not leak into the container",
      );
    },
  },
  {
    id: 'config/process-cwd',
    doc: 'config.md#process',
    level: 'MUST',
    quote: 'cwd (string, REQUIRED) is the working directory that will be set for the executable.',
    async run(ctx) {
      const out = await ctx.probe(['cwd'], (s) => {
        if (s.process !== undefined) s.process.cwd = '/tmp';
      });
      assert.equal(out.value('cwd'), '/tmp');
    },
  },
  {
    id: 'config/process-user',
    doc: 'config.md#posix-platform-user',
    level: 'MUST',
    quote:
      'uid (int, REQUIRED) specifies the user ID in the container namespace. gid … additionalGids (array of ints, OPTIONAL) specifies additional group IDs … to be added to the process.',
    async run(ctx) {
      const out = await ctx.probe(['ids'], (s) => {
        if (s.process !== undefined) s.process.user = { uid: 1000, gid: 1001, additionalGids: [5, 6, 1002] };
      });
      const ids = out.kv('ids');
      for (const k of ['uid', 'euid', 'suid']) assert.equal(ids.get(k), '1000', k);
      for (const k of ['gid', 'egid', 'sgid']) assert.equal(ids.get(k), '1001', k);
      const groups = (ids.get('groups') ?? '')
        .split(',')
        .filter((g) => g !== '')
        .map(Number);
      for (const g of [5, 6, 1002]) assert.ok(groups.includes(g), `supplementary groups must include ${g}: ${groups.join(',')}`);
      for (const g of groups) assert.ok([5, 6, 1002, 1001].includes(g), `unexpected supplementary group ${g}`);
    },
  },
  {
    id: 'config/process-user-umask',
    doc: 'config.md#posix-platform-user',
    level: 'MUST',
    quote: 'umask (int, OPTIONAL) specifies the umask of the user.',
    async run(ctx) {
      const out = await ctx.probe(['umask'], (s) => {
        if (s.process !== undefined) s.process.user = { uid: 0, gid: 0, umask: 0o077 };
      });
      assert.equal(out.value('umask'), '0077');
    },
  },
  {
    id: 'config/process-user-umask-unset',
    doc: 'config.md#posix-platform-user',
    level: 'should',
    quote: "If unspecified, the umask should not be changed from the calling process' umask.",
    async run(ctx) {
      const b = await ctx.bundle({ probeArgs: ['umask'] });
      const id = ctx.id();
      const r = await ctx.rt.run(['run', '--bundle', b.dir, ctx.track(b, id)], { prelude: 'umask 0027' });
      expectSuccess(r, 'run');
      assert.equal(r.stdout.trim(), '0027', "the container must inherit the caller's umask (0027)");
    },
  },
  {
    id: 'config/process-rlimits',
    doc: 'config.md#posix-process',
    level: 'MUST',
    quote: 'soft … rlim.rlim_cur MUST match the configured value. hard … rlim.rlim_max MUST match the configured value.',
    async run(ctx) {
      const limits = [
        { type: 'RLIMIT_NOFILE', soft: 321, hard: 654 },
        { type: 'RLIMIT_CORE', soft: 1000, hard: 2000 },
        { type: 'RLIMIT_NPROC', soft: 555, hard: 666 },
        { type: 'RLIMIT_MSGQUEUE', soft: 4096, hard: 8192 },
      ];
      const out = await ctx.probe(['rlimits'], (s) => {
        if (s.process !== undefined) s.process.rlimits = limits;
      });
      const kv = out.kv('rlimits');
      for (const l of limits) {
        assert.equal(kv.get(`${l.type}.soft`), String(l.soft), `${l.type} soft`);
        assert.equal(kv.get(`${l.type}.hard`), String(l.hard), `${l.type} hard`);
      }
    },
  },
  {
    id: 'config/process-rlimits-invalid-type',
    doc: 'config.md#posix-process',
    level: 'MUST',
    quote: 'The runtime MUST generate an error for any values which cannot be mapped to a relevant kernel interface.',
    async run(ctx) {
      const b = await sleeperBundle(ctx, (s) => {
        s.process?.rlimits?.push({ type: 'RLIMIT_BERTH_BOGUS', soft: 1, hard: 1 });
      });
      const id = ctx.id();
      expectFailure((await create(ctx.rt, b, id)).result, 'create with an unknown rlimit type');
      assert.equal(await statusOrAbsent(ctx.rt, id), 'absent');
    },
  },
  {
    id: 'config/process-rlimits-duplicate',
    doc: 'config.md#posix-process',
    level: 'MUST',
    quote: 'If rlimits contains duplicated entries with same type, the runtime MUST generate an error.',
    async run(ctx) {
      const b = await sleeperBundle(ctx, (s) => {
        if (s.process !== undefined) {
          s.process.rlimits = [
            { type: 'RLIMIT_NOFILE', soft: 100, hard: 100 },
            { type: 'RLIMIT_NOFILE', soft: 200, hard: 200 },
          ];
        }
      });
      const id = ctx.id();
      expectFailure((await create(ctx.rt, b, id)).result, 'create with duplicated rlimits');
      assert.equal(await statusOrAbsent(ctx.rt, id), 'absent');
    },
  },
  {
    id: 'config/process-capabilities',
    doc: 'config.md#linux-process',
    level: 'MUST',
    quote: 'capabilities … effective, bounding, inheritable, permitted, ambient: an array of … capabilities that are kept for the process.',
    async run(ctx) {
      const caps: Capabilities = {
        bounding: ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE', 'CAP_CHOWN'],
        permitted: ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'],
        inheritable: ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'],
        effective: ['CAP_AUDIT_WRITE', 'CAP_KILL'],
        ambient: ['CAP_NET_BIND_SERVICE'],
      };
      // After execve the kernel recomputes permitted/effective (capabilities(7)),
      // so compare with what it derives from the sets the runtime applied.
      for (const [uid, nnp] of [
        [0, true],
        [0, false],
        [1000, true],
      ] as const) {
        const out = await ctx.probe(['caps'], (s) => {
          if (s.process === undefined) return;
          s.process.user = { uid, gid: uid };
          s.process.capabilities = caps;
          s.process.noNewPrivileges = nnp;
        });
        const got = capsOf(out);
        const want = capsAfterExec(caps, uid, nnp);
        for (const set of ['bounding', 'inheritable', 'ambient', 'permitted', 'effective'] as const) {
          assert.equal(showCaps(got[set]), showCaps(want[set]), `uid ${uid}, noNewPrivileges ${nnp}: ${set} set`);
        }
      }
    },
  },
  {
    id: 'config/process-capabilities-ungrantable',
    doc: 'config.md#linux-process',
    level: 'SHOULD NOT',
    quote:
      'Any value which cannot be mapped to a relevant kernel interface, or cannot be granted otherwise MUST be logged as a warning by the runtime. Runtimes SHOULD NOT fail if the container configuration requests capabilities that cannot be granted',
    requires: () =>
      ungrantableCapability() === undefined ? 'needs a host whose bounding set lacks a capability the kernel knows' : undefined,
    async run(ctx) {
      const cap = ungrantableCapability() ?? ctx.skip('no ungrantable capability');
      const b = await ctx.bundle({ probeArgs: ['caps'] });
      await b.editConfig((s) => {
        const c = s.process?.capabilities;
        if (c === undefined) return;
        for (const set of ['bounding', 'effective', 'permitted'] as const) c[set] = [...(c[set] ?? []), cap];
      });
      const r = await ctx.rt.run(['run', '--bundle', b.dir, ctx.track(b, ctx.id())]);
      expectSuccess(r, `run requesting ${cap} (not in the host bounding set)`);
      assert.ok(r.stderr.includes(cap), `the runtime must log a warning naming ${cap}; stderr: ${JSON.stringify(r.stderr.slice(0, 500))}`);
    },
  },
  {
    id: 'config/process-capabilities-unknown',
    doc: 'config.md#linux-process (v1.0.0; runtime-tools process_capabilities_fail)',
    level: 'MUST',
    quote: 'Any value which cannot be mapped to a relevant kernel interface MUST cause an error. (a name that is no capability)',
    async run(ctx) {
      const b = await sleeperBundle(ctx, (s) => {
        const c = s.process?.capabilities;
        if (c !== undefined) c.bounding = [...(c.bounding ?? []), 'CAP_BERTH_BOGUS'];
      });
      const id = ctx.id();
      const r = await create(ctx.rt, b, id);
      expectFailure(r.result, 'create with an unknown capability name');
      assert.ok(
        r.result.stderr.includes('CAP_BERTH_BOGUS'),
        `the error must name CAP_BERTH_BOGUS; stderr: ${JSON.stringify(r.result.stderr.slice(0, 500))}`,
      );
      await assertNoContainer(ctx.rt, id, 'after the failed create');
    },
  },
  {
    id: 'config/process-no-new-privileges',
    doc: 'config.md#linux-process',
    level: 'MUST',
    quote: 'noNewPrivileges (bool, OPTIONAL) setting noNewPrivileges to true prevents the process from gaining additional privileges.',
    async run(ctx) {
      for (const nnp of [true, false]) {
        const out = await ctx.probe(['nnp'], (s) => {
          if (s.process !== undefined) s.process.noNewPrivileges = nnp;
        });
        assert.equal(out.value('nnp'), nnp ? '1' : '0', `noNewPrivileges: ${nnp}`);
      }
    },
  },
  {
    id: 'config/process-oom-score-adj',
    doc: 'config.md#linux-process',
    level: 'MUST',
    quote: 'If oomScoreAdj is set, the runtime MUST set oom_score_adj to the given value.',
    async run(ctx) {
      const out = await ctx.probe(['oom-score-adj'], (s) => {
        if (s.process !== undefined) s.process.oomScoreAdj = 123;
      });
      assert.equal(out.value('oom-score-adj'), '123');
    },
  },
  {
    id: 'config/process-oom-score-adj-negative',
    doc: 'config.md#linux-process',
    level: 'MUST',
    quote: 'If oomScoreAdj is set, the runtime MUST set oom_score_adj to the given value. (lowering it needs CAP_SYS_RESOURCE)',
    requires: () => needsCapability('CAP_SYS_RESOURCE'),
    async run(ctx) {
      const out = await ctx.probe(['oom-score-adj'], (s) => {
        if (s.process !== undefined) s.process.oomScoreAdj = -50;
      });
      assert.equal(out.value('oom-score-adj'), '-50');
    },
  },
  {
    id: 'config/process-oom-score-adj-unset',
    doc: 'config.md#linux-process',
    level: 'MUST NOT',
    quote: 'If oomScoreAdj is not set, the runtime MUST NOT change the value of oom_score_adj.',
    async run(ctx) {
      const b = await ctx.bundle({ probeArgs: ['oom-score-adj'] });
      const r = await ctx.rt.run(['run', '--bundle', b.dir, ctx.track(b, ctx.id())], { prelude: 'echo 7 > /proc/self/oom_score_adj' });
      expectSuccess(r, 'run');
      assert.equal(r.stdout.trim(), '7', "the container must keep the caller's oom_score_adj (7)");
    },
  },
  {
    id: 'config/process-terminal-false',
    doc: 'config.md#process',
    level: 'MUST',
    quote: 'terminal (bool, OPTIONAL) specifies whether a terminal is attached to the process, defaults to false.',
    async run(ctx) {
      for (const terminal of [false, undefined]) {
        const out = await ctx.probe(['isatty', '0', '+', 'isatty', '1', '+', 'isatty', '2', '+', 'ls', '/dev'], (s) => {
          if (s.process === undefined) return;
          if (terminal === undefined) delete s.process.terminal;
          else s.process.terminal = terminal;
        });
        for (const fd of ['0', '1', '2'])
          assert.equal(out.value('isatty', fd), '0', `terminal ${String(terminal)}: fd ${fd} must not be a terminal`);
        assert.ok(!out.lines('ls', '/dev').includes('console'), `terminal ${String(terminal)}: no /dev/console without a terminal`);
      }
    },
  },

  // --------------------------------------------------- hostname/domainname
  {
    id: 'config/hostname',
    doc: 'config.md#hostname',
    level: 'MUST',
    quote: "hostname (string, OPTIONAL) specifies the container's hostname as seen by processes running inside the container.",
    async run(ctx) {
      const before = readFileSync('/proc/sys/kernel/hostname', 'utf8');
      const out = await ctx.probe(['hostname'], (s) => {
        s.hostname = 'berth-conformance';
      });
      assert.equal(out.value('hostname'), 'berth-conformance');
      assert.equal(readFileSync('/proc/sys/kernel/hostname', 'utf8'), before, "the host's hostname must not change");
    },
  },
  {
    id: 'config/domainname',
    doc: 'config.md#domainname',
    level: 'MUST',
    quote: "domainname (string, OPTIONAL) specifies the container's domainname as seen by processes running inside the container.",
    async run(ctx) {
      const out = await ctx.probe(['domainname'], (s) => {
        s.domainname = 'conformance.example';
      });
      assert.equal(out.value('domainname'), 'conformance.example');
    },
  },

  // ------------------------------------------------------------------ hooks
  {
    id: 'config/hooks-state-on-stdin',
    doc: 'config.md#posix-platform-hooks',
    level: 'MUST',
    quote:
      'The state of the container MUST be passed to hooks over stdin so that they may do work appropriate to the current state of the container.',
    async run(ctx) {
      const { b, h } = await allHooksBundle(ctx);
      const { id } = await fullLifecycle(ctx, b, h);
      for (const type of HOOK_TYPES) {
        for (const n of [1, 2]) {
          const s = h.json(`${type}-${n}`);
          assert.equal(s.id, id, `${type}-${n}: state.id`);
          assert.equal(typeof s.ociVersion, 'string', `${type}-${n}: state.ociVersion`);
          assert.ok(typeof s.status === 'string' && s.status !== '', `${type}-${n}: state.status`);
          assert.equal(realpathSync(String(s.bundle)), realpathSync(b.dir), `${type}-${n}: state.bundle`);
        }
      }
    },
  },
  {
    id: 'config/hooks-order',
    doc: 'config.md#posix-platform-hooks',
    level: 'MUST',
    quote:
      'Hooks MUST be called in the listed order. … prestart hooks MUST be called before the createRuntime hooks … createContainer hooks MUST be called after the createRuntime hooks (and lifecycle steps 3-13)',
    async run(ctx) {
      const { b, h } = await allHooksBundle(ctx);
      await fullLifecycle(ctx, b, h);
      const order = h.order().filter((l) => l !== 'process');
      assert.deepEqual(order, [
        'prestart-1',
        'prestart-2',
        'createRuntime-1',
        'createRuntime-2',
        'createContainer-1',
        'createContainer-2',
        'create-returned',
        'startContainer-1',
        'startContainer-2',
        'poststart-1',
        'poststart-2',
        'start-returned',
        'poststop-1',
        'poststop-2',
        'delete-returned',
      ]);
      const all = h.order();
      assert.ok(all.indexOf('process') > all.indexOf('startContainer-2'), 'startContainer hooks must run before the user program');
    },
  },
  {
    id: 'config/hooks-runtime-namespace',
    doc: 'config.md#posix-platform-hooks',
    level: 'MUST',
    quote: 'The prestart/createRuntime/poststart/poststop hooks MUST be executed in the runtime namespace.',
    async run(ctx) {
      const { b, h } = await allHooksBundle(ctx);
      await fullLifecycle(ctx, b, h);
      for (const type of HOOK_TYPES.filter((t) => RUNS_IN[t] === 'runtime')) {
        const ns = h.ns(`${type}-1`);
        for (const t of ['mnt', 'net', 'uts', 'ipc', 'pid'])
          assert.equal(ns.get(t), nsLink('self', t), `${type}: ${t} namespace must be the runtime's`);
      }
    },
  },
  {
    id: 'config/hooks-container-namespace',
    doc: 'config.md#posix-platform-hooks',
    level: 'MUST',
    quote:
      'The createContainer hooks MUST be executed in the container namespace. The startContainer hooks MUST be executed in the container namespace.',
    async run(ctx) {
      const { b, h } = await allHooksBundle(ctx);
      const c = await created(ctx, b);
      await started(ctx.rt, c.id);
      const pid = c.pid();
      for (const type of HOOK_TYPES.filter((t) => RUNS_IN[t] === 'container')) {
        const ns = h.ns(`${type}-1`);
        for (const t of ['mnt', 'net', 'uts', 'ipc', 'pid'])
          assert.equal(ns.get(t), nsLink(pid, t), `${type}: ${t} namespace must be the container's`);
      }
    },
  },
  {
    id: 'config/hooks-state-pid',
    doc: 'runtime.md#state',
    level: 'MUST',
    quote:
      'pid … For hooks executed in the runtime namespace, it is the pid as seen by the runtime. For hooks executed in the container namespace, it is the pid as seen by the container.',
    async run(ctx) {
      const { b, h } = await allHooksBundle(ctx);
      const c = await created(ctx, b);
      await started(ctx.rt, c.id);
      const hostPid = c.pid();
      for (const type of HOOK_TYPES.filter((t) => t !== 'poststop')) {
        const want = RUNS_IN[type] === 'runtime' ? hostPid : 1; // the container has its own pid namespace
        assert.equal(h.json(`${type}-1`).pid, want, `${type}: state.pid`);
      }
    },
  },
  {
    id: 'config/hooks-poststart-after-exec',
    doc: 'config.md#poststart',
    level: 'MUST',
    quote: 'The poststart hooks MUST be called after the user-specified process is executed but before the start operation returns.',
    async run(ctx) {
      const { b, h } = await allHooksBundle(ctx);
      const c = await created(ctx, b);
      await started(ctx.rt, c.id);
      assert.ok(h.has('poststart-1'), 'poststart hooks must have run when start returns');
      const cmd = readFileSync(join(h.out, 'poststart-1.cmdline'), 'utf8').trim();
      assert.equal(
        cmd,
        `${PROBE} append /hookout/order process + sleep 600`,
        'when poststart runs, the container process must execute the user program',
      );
    },
  },
  {
    id: 'config/hooks-startContainer-path-in-container',
    doc: 'config.md#posix-platform-hooks',
    level: 'MUST',
    quote: 'The value of path MUST resolve in the container namespace. (startContainer)',
    async run(ctx) {
      const b = await ctx.bundle({ probeArgs: [] });
      const h = hookFixture(ctx, b);
      await b.editConfig((s) => {
        setProbe(s, ['sleep', '600']);
        // /probe exists only in the container's rootfs.
        s.hooks = { startContainer: [{ path: PROBE, args: ['probe', 'append', '/hookout/order', 'startContainer-probe'] }] };
      });
      const c = await created(ctx, b);
      await started(ctx.rt, c.id);
      assert.deepEqual(h.order(), ['startContainer-probe']);
    },
  },
  {
    id: 'config/hooks-path-in-runtime-namespace',
    doc: 'config.md#posix-platform-hooks',
    level: 'MUST',
    quote: 'The value of path MUST resolve in the runtime namespace. (prestart, createRuntime, createContainer, poststart, poststop)',
    async run(ctx) {
      // The recording script lives in a host directory that is not in the
      // container's rootfs (it is bind-mounted elsewhere, at /hookout).
      const { b, h } = await allHooksBundle(ctx);
      await fullLifecycle(ctx, b, h);
      for (const type of HOOK_TYPES.filter((t) => t !== 'startContainer'))
        assert.ok(h.has(`${type}-1`), `${type} hook with a host path did not run`);
    },
  },
  {
    id: 'config/hooks-args-env',
    doc: 'config.md#posix-platform-hooks',
    level: 'MUST',
    quote:
      "args (array of strings, OPTIONAL) with the same semantics as execv's argv. env (array of strings, OPTIONAL) with the same semantics as environ.",
    async run(ctx) {
      const out = ctx.tmpdir('hookenv');
      const b = await sleeperBundle(ctx, (s) => {
        s.hooks = {
          createRuntime: [
            {
              path: '/bin/sh',
              args: [
                'custom-argv0',
                '-c',
                `tr '\\0' '\\n' < /proc/$$/cmdline > ${shq(join(out, 'args'))}; env > ${shq(join(out, 'env'))}`,
                'first arg',
              ],
              env: ['HOOK_VAR=hook value', 'PATH=/usr/sbin:/usr/bin:/sbin:/bin'],
            },
          ],
        };
      });
      const c = await create(ctx.rt, b, ctx.id(), { env: { BERTH_CONFORMANCE_LEAK: '1' } });
      expectSuccess(c.result, 'create');
      const argv = readFileSync(join(out, 'args'), 'utf8').split('\n');
      assert.equal(argv[0], 'custom-argv0', 'hook argv[0] must be args[0]');
      assert.equal(argv[1], '-c', 'hook argv[1]');
      assert.equal(argv[3], 'first arg', 'hook argv[3]');
      const env = readFileSync(join(out, 'env'), 'utf8').split('\n');
      assert.ok(env.includes('HOOK_VAR=hook value'), `hook env must contain HOOK_VAR: ${env.join(' ')}`);
      assert.ok(
        !env.some((e) => e.startsWith('BERTH_CONFORMANCE_LEAK=')),
        "the hook environment must be env, not the runtime's environment",
      );
    },
  },
  failingHookCheck('prestart', '3'),
  failingHookCheck('createRuntime', '4'),
  failingHookCheck('createContainer', '5'),
  failingHookCheck('startContainer', '7'),
  {
    id: 'config/hooks-failure-runs-poststop',
    doc: 'runtime.md#lifecycle',
    level: 'MUST',
    quote:
      'If any createRuntime hook fails, the runtime MUST … continue the lifecycle at step 12. … 13. The poststop hooks MUST be invoked by the runtime.',
    async run(ctx) {
      const b = await ctx.bundle({ probeArgs: [] });
      const h = hookFixture(ctx, b);
      await b.editConfig((s) => {
        setProbe(s, ['sleep', '600']);
        s.hooks = { createRuntime: [h.hook('createRuntime', 'createRuntime-1', 'fail')], poststop: [h.hook('poststop', 'poststop-1')] };
      });
      const c = await create(ctx.rt, b, ctx.id());
      expectFailure(c.result, 'create with a failing createRuntime hook');
      assert.deepEqual(
        h.order(),
        ['createRuntime-1', 'poststop-1'],
        `poststop hooks must run once the failed container is destroyed; the runtime said: ${describeResult(c.result)}`,
      );
    },
  },
  {
    id: 'config/hooks-poststart-failure-continues',
    doc: 'runtime.md#lifecycle',
    level: 'MUST',
    quote:
      'If any poststart hook fails, the runtime MUST log a warning, but the remaining hooks and lifecycle continue as if the hook had succeeded.',
    async run(ctx) {
      const { b, h } = await allHooksBundle(ctx, { 'poststart-1': 'fail' });
      const c = await created(ctx, b);
      const r = await ctx.rt.run(['start', c.id]);
      expectSuccess(r, 'start with a failing poststart hook');
      assert.ok(h.has('poststart-2'), 'the next poststart hook must run');
      assert.equal((await state(ctx.rt, c.id)).status, 'running');
    },
  },
  {
    id: 'config/hooks-poststop-failure-continues',
    doc: 'runtime.md#lifecycle',
    level: 'MUST',
    quote:
      'If any poststop hook fails, the runtime MUST log a warning, but the remaining hooks and lifecycle continue as if the hook had succeeded.',
    async run(ctx) {
      const { b, h } = await allHooksBundle(ctx, { 'poststop-1': 'fail' });
      const c = await created(ctx, b);
      await started(ctx.rt, c.id);
      expectSuccess(await ctx.rt.run(['kill', c.id, 'KILL']), 'kill');
      await waitForExit(c.pid());
      await waitForStatus(ctx.rt, c.id, 'stopped');
      expectSuccess(await ctx.rt.run(['delete', c.id]), 'delete with a failing poststop hook');
      assert.ok(h.has('poststop-2'), 'the next poststop hook must run');
      assert.equal(await statusOrAbsent(ctx.rt, c.id), 'absent');
    },
  },
  {
    id: 'config/hooks-timeout',
    doc: 'config.md#posix-platform-hooks',
    level: 'MUST',
    quote: 'timeout (int, OPTIONAL) is the number of seconds before aborting the hook.',
    async run(ctx) {
      const b = await ctx.bundle({ probeArgs: [] });
      const h = hookFixture(ctx, b);
      await b.editConfig((s) => {
        setProbe(s, ['sleep', '600']);
        s.hooks = { createRuntime: [h.hook('createRuntime', 'createRuntime-1', 'sleep', { timeout: 1 })] };
      });
      const pidFile = join(h.out, 'createRuntime-1.pid');
      ctx.defer(() => {
        if (!existsSync(pidFile)) return;
        const pid = Number(readFileSync(pidFile, 'utf8').trim());
        if (pid > 0 && pidAlive(pid)) process.kill(pid, 'SIGKILL');
      });
      const c = await create(ctx.rt, b, ctx.id(), { guardMs: 60_000 });
      expectFailure(c.result, 'create with a createRuntime hook that outlives its timeout');
      assert.ok(existsSync(pidFile), `the hook did not start; the runtime said: ${describeResult(c.result)}`);
      const pid = Number(readFileSync(pidFile, 'utf8').trim());
      await waitForExit(pid, 10_000).catch(() => assert.fail(`the timed-out hook (pid ${pid}) was not aborted`));
    },
  },

  // ----------------------------------------------------------- extensibility
  {
    id: 'config/unknown-properties-ignored',
    doc: 'config.md#extensibility',
    level: 'MUST',
    quote:
      'Runtimes MAY log unknown properties but MUST otherwise ignore them. That includes not generating errors if they encounter an unknown property.',
    async run(ctx) {
      const out = await ctx.probe(['hostname'], (s) => {
        s['org.example.berth.unknown'] = { nested: [1, 2, 3] };
        if (s.process !== undefined) s.process.berthUnknown = true;
        if (s.linux !== undefined) s.linux.berthUnknown = { a: 'b' };
        const m = s.mounts?.[0];
        if (m !== undefined) m.berthUnknown = 'x';
        s.hostname = 'unknown-props';
      });
      assert.equal(out.value('hostname'), 'unknown-props');
    },
  },
  {
    id: 'config/invalid-values-error',
    doc: 'config.md#valid-values',
    level: 'MUST',
    quote: 'Runtimes MUST generate an error when invalid or unsupported values are encountered.',
    async run(ctx) {
      const b = await sleeperBundle(ctx, (s) => {
        s.linux?.namespaces?.push({ type: 'berth-bogus' });
      });
      const id = ctx.id();
      const r = await create(ctx.rt, b, id);
      expectFailure(r.result, 'create with an invalid namespace type');
      assert.equal(await statusOrAbsent(ctx.rt, id), 'absent');
    },
  },
];
