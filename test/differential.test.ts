/**
 * Differential test: the same bundles under runc and berth-runtime must give
 * the same `state` JSON shape (keys, types, status values) and the same
 * observations from inside the container (probe output for hostname, ids,
 * capabilities, rlimits, the mount table modulo ids and device numbers,
 * masked/read-only path behaviour, the /dev listing).
 *
 * Skips with a stated reason when berth-runtime is not built or runc is missing.
 *
 *   node --import tsx --test test/differential.test.ts
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Bundle, uniqueId } from './helpers/bundle.js';
import { type ContainerState, mustCreate, mustRun, state, waitForExit, waitForStatus } from './helpers/container.js';
import { ProbeOutput, parseMountinfo, probeCmd } from './helpers/probe.js';
import { firstReason, needsRoot } from './helpers/requires.js';
import { rootfsUnavailable } from './helpers/rootfs.js';
import { createRuntime, describeResult, type Runtime } from './helpers/runtime.js';
import { defaultSpec, type Spec, testSpec } from './helpers/spec.js';

const runc = createRuntime('runc');
const berth = createRuntime('berth');
const pair = [runc, berth] as const;
// Lazily: the rootfs check may build the probe, which only makes sense once the rest holds.
const skipReason = firstReason(needsRoot(), runc.unavailable, berth.unavailable) ?? rootfsUnavailable();

after(async () => {
  for (const rt of pair) await rt[Symbol.asyncDispose]();
});

/** Type description of a JSON value: keys and value types, recursively for objects. */
function shape(v: unknown): unknown {
  if (v === null) return 'null';
  if (Array.isArray(v)) return ['array', ...new Set(v.map((x) => JSON.stringify(shape(x))))];
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return Object.fromEntries(
      Object.keys(o)
        .sort()
        .map((k) => [k, shape(o[k])]),
    );
  }
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

/** Runs the same lifecycle under a runtime, returning the state at each step. */
async function lifecycleStates(rt: Runtime): Promise<{ created: ContainerState; running: ContainerState; stopped: ContainerState }> {
  await using b = await Bundle.create({ probeArgs: ['wait-signal', '120'] });
  await b.editConfig((s) => {
    s.annotations = { 'org.example.differential': 'yes' };
  });
  const id = uniqueId('diff');
  const c = await mustCreate(rt, b, id);
  const created = await state(rt, id);
  await mustRun(rt, ['start', id]);
  const running = await state(rt, id);
  await mustRun(rt, ['kill', id, 'KILL']);
  await waitForExit(c.pid());
  const stopped = await waitForStatus(rt, id, 'stopped');
  await mustRun(rt, ['delete', id]);
  return { created, running, stopped };
}

// ------------------------------------------------------------ the probe run

/** Everything the probe looks at, in one container start. */
function observationArgs(spec: Spec): string[] {
  const masked = spec.linux?.maskedPaths ?? [];
  const readonly = spec.linux?.readonlyPaths ?? [];
  return probeCmd(
    ['hostname'],
    ['ids'],
    ['caps'],
    ['rlimits'],
    ['umask'],
    ['nnp'],
    ['cwd'],
    ['env'],
    ['oom-score-adj'],
    ['fds'],
    ['mounts'],
    ['ls', '/dev'],
    ['ls', '/dev/pts'],
    ['ls', '/dev/mqueue'],
    ['ls', '/dev/shm'],
    ...DEV_ENTRIES.map((p) => ['stat', p]),
    ...masked.flatMap((p) => [
      ['stat', '-L', p],
      ['head', p, '64'],
      ['ls', p],
    ]),
    ...readonly.map((p) => ['write', p]),
    ['write', '/newfile'],
    ['sysctl', 'kernel.hostname'],
  );
}

const DEV_ENTRIES = [
  '/dev/null',
  '/dev/zero',
  '/dev/full',
  '/dev/random',
  '/dev/urandom',
  '/dev/tty',
  '/dev/ptmx',
  '/dev/console',
  '/dev/fd',
  '/dev/stdin',
  '/dev/stdout',
  '/dev/stderr',
  '/dev/pts',
  '/dev/pts/ptmx',
  '/dev/shm',
  '/dev/mqueue',
];

/** The mount table without ids, device numbers, peer group numbers and host paths. */
function normalizeMounts(text: string, bundleDir: string, id: string): string[] {
  return parseMountinfo(text)
    .map((m) => {
      let root = m.root.split(bundleDir).join('<bundle>');
      if (m.fsType === 'cgroup' || m.fsType === 'cgroup2') root = '<cgroup>';
      root = root.split(id).join('<id>');
      const optional = m.optional.map((o) => o.replace(/:\d+$/, ':N')).join(' ');
      return `${m.mountPoint} ${m.fsType} root=${root} opts=${m.options.join(',')} [${optional}] src=${m.source} super=${m.superOptions.join(',')}`;
    })
    .sort();
}

/**
 * Where berth-runtime differs from runc 1.1.5 on purpose, applied to runc's mount table before
 * comparing: the cgroup tmpfs honours the `ro` option of the spec's cgroup mount (runc leaves
 * it rw), and on a hybrid host the cgroup2 hierarchy is shown at /sys/fs/cgroup/unified as
 * systemd-era runtimes do (runc 1.1.5 leaves it out).
 */
function deliberateMountDifferences(runcMounts: string[], berthMounts: string[]): string[] {
  const out = runcMounts.map((m) =>
    m.startsWith('/sys/fs/cgroup tmpfs ') ? m.replace('opts=rw,', 'opts=ro,').replace('super=rw,', 'super=ro,') : m,
  );
  const unified = berthMounts.find((m) => m.startsWith('/sys/fs/cgroup/unified cgroup2 '));
  if (unified && !out.some((m) => m.startsWith('/sys/fs/cgroup/unified '))) out.push(unified);
  return out.sort();
}

interface Observation {
  sections: Map<string, string[]>;
}

async function observe(rt: Runtime): Promise<Observation> {
  const spec = testSpec();
  if (spec.process !== undefined) spec.process.args = ['/probe', ...observationArgs(defaultSpec())];
  await using b = await Bundle.create({ spec });
  const id = uniqueId('obs');
  b.track(rt, id);
  const r = await rt.run(['run', '--bundle', b.dir, id]);
  if (r.code !== 0) throw new Error(`${rt.name}: run failed: ${describeResult(r)}`);
  const out = new ProbeOutput(r.stdout);
  const sections = new Map<string, string[]>();
  for (const s of out.sections) {
    let lines = [...s.lines];
    if (s.key === 'mounts') lines = normalizeMounts(lines.join('\n'), b.dir, id);
    // Which kind of file carries stdio (pipe, socket, /dev/null) is the runtime's business: compare fd numbers.
    if (s.key === 'fds') lines = lines.map((l) => l.slice(0, l.indexOf('=')));
    if (s.key === 'env') lines = [...lines].sort();
    sections.set(s.key, lines);
  }
  return { sections };
}

describe('differential: runc vs berth-runtime', { skip: skipReason }, () => {
  describe('state JSON', () => {
    let states: Awaited<ReturnType<typeof lifecycleStates>>[] = [];
    before(async () => {
      states = [];
      for (const rt of pair) states.push(await lifecycleStates(rt));
    });
    for (const phase of ['created', 'running', 'stopped'] as const) {
      test(`${phase}: same keys, types and status`, () => {
        const [a, b] = states;
        assert.ok(a && b, 'both lifecycles ran');
        assert.deepEqual(shape(b[phase]), shape(a[phase]), `${phase}: berth's state JSON shape differs from runc's`);
        assert.equal(b[phase].status, a[phase].status, `${phase}: status`);
        assert.equal(b[phase].ociVersion !== undefined, a[phase].ociVersion !== undefined);
      });
    }
  });

  describe('inside the container', () => {
    let obs: Observation[] = [];
    before(async () => {
      obs = [];
      for (const rt of pair) obs.push(await observe(rt));
    });
    test('the probe printed the same sections', () => {
      const [a, b] = obs;
      assert.ok(a && b);
      assert.deepEqual([...b.sections.keys()], [...a.sections.keys()]);
    });
    const groups: [string, (key: string) => boolean][] = [
      ['hostname', (k) => k === 'hostname' || k.startsWith('sysctl kernel.hostname')],
      ['ids', (k) => k === 'ids'],
      ['capabilities', (k) => k === 'caps'],
      ['rlimits', (k) => k === 'rlimits'],
      ['process (umask, nnp, cwd, env, oom_score_adj, fds)', (k) => ['umask', 'nnp', 'cwd', 'env', 'oom-score-adj', 'fds'].includes(k)],
      ['mount table (modulo ids and device numbers)', (k) => k === 'mounts'],
      ['/dev listing', (k) => k.startsWith('ls /dev') || k.startsWith('stat /dev')],
      ['masked paths', (k) => /^(stat -L|head|ls) \/(proc|sys)\//.test(k)],
      ['read-only paths and root', (k) => k.startsWith('write ')],
    ];
    for (const [name, select] of groups) {
      test(name, () => {
        const [a, b] = obs;
        assert.ok(a && b);
        const pick = (o: Observation) => Object.fromEntries([...o.sections].filter(([k]) => select(k)));
        const ra = pick(a);
        assert.ok(Object.keys(ra).length > 0, `no probe sections for ${name}`);
        if (ra.mounts) ra.mounts = deliberateMountDifferences(ra.mounts, b.sections.get('mounts') ?? []);
        assert.deepEqual(pick(b), ra, `${name}: berth (actual) differs from runc (expected)`);
      });
    }
  });
});
