/**
 * The plan contract, executed (docs/plan-format.md). Needs no root: it runs berth-nsinit's own
 * plan reader (native/nsinit/plan.c, through native/test/plan-driver.c) on
 *
 * - every golden plan in test/fixtures/plans/ (written by the TypeScript encoder: see
 *   src/runtime/plan/golden.test.ts): the reader must accept it, its dump of the parsed struct
 *   must equal <case>.dump, and the kernel numbers in it (capability bits, rlimit resources,
 *   mount flags), which the dump names from the C headers, must say what the case's OCI config
 *   says;
 * - malformed plans, which must be refused with the messages documented in docs/plan-format.md.
 *
 * After an intended change (the .plan files first, then the .dump files; review the diff):
 *
 *   BERTH_UPDATE_GOLDEN=1 node --import tsx --test --test-concurrency=1 src/runtime/plan/golden.test.ts test/plan-contract.test.ts
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CAPABILITIES } from './helpers/spec.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DIR = `${ROOT}test/fixtures/plans/`;
const DRIVER = `${ROOT}native/build/plan-driver`;
const UPDATE = process.env.BERTH_UPDATE_GOLDEN === '1';

/** Builds the driver (make is a no-op when it is current); a reason to skip, or undefined. */
function buildDriver(): string | undefined {
  const make = spawnSync('make', ['-s', '-C', `${ROOT}native`, 'build/plan-driver'], { encoding: 'utf8' });
  if (make.error) return `make: ${make.error.message}`;
  if (make.status !== 0) throw new Error(`make build/plan-driver failed:\n${make.stderr}`);
  return existsSync(DRIVER) ? undefined : `${DRIVER} was not built`;
}
const skip = buildDriver();

function readPlan(text: string | Buffer): { status: number | null; out: string } {
  const r = spawnSync(DRIVER, [], { input: text, encoding: 'utf8' });
  if (r.error) throw r.error;
  return { status: r.status, out: r.stdout };
}

const cases = readdirSync(DIR)
  .filter((f) => f.endsWith('.plan'))
  .map((f) => f.slice(0, -'.plan'.length))
  .sort();

interface Input {
  kind: 'create' | 'exec';
  context: { grantableCaps: string; process?: OciProcess };
  spec?: { process?: OciProcess; mounts?: { destination: string; type?: string; options?: string[] }[] };
}
interface OciProcess {
  capabilities?: Record<string, string[] | undefined>;
  rlimits?: { type: string }[];
}

/** Lines of a dump that start with `key`, their fields after it. */
function lines(dump: string, key: string): string[] {
  return dump
    .split('\n')
    .filter((l) => l.startsWith(`${key} `))
    .map((l) => l.slice(key.length + 1));
}

describe('the C plan reader on the golden plans', { skip }, () => {
  test('there are golden plans', () => assert.ok(cases.length >= 4));

  for (const name of cases) {
    test(`${name}.plan is accepted and parsed as ${name}.dump`, () => {
      const { status, out } = readPlan(readFileSync(`${DIR}${name}.plan`));
      assert.equal(status, 0, `plan-driver refused ${name}.plan: ${out}`);
      const file = `${DIR}${name}.dump`;
      if (UPDATE) writeFileSync(file, out);
      assert.equal(out, readFileSync(file, 'utf8'), `${name}.dump differs (BERTH_UPDATE_GOLDEN=1 rewrites it)`);
    });

    test(`${name}: the kernel numbers the C side read mean what the OCI config says`, () => {
      const input = JSON.parse(readFileSync(`${DIR}${name}.input.json`, 'utf8')) as Input;
      const dump = readPlan(readFileSync(`${DIR}${name}.plan`)).out;
      const proc = input.kind === 'exec' ? input.context.process : input.spec?.process;
      // Capabilities: the names C prints (from <linux/capability.h>) are the config's names that
      // the host can grant (grantableCaps, a mask in the kernel's numbering).
      const grantable = BigInt(input.context.grantableCaps);
      const grantableName = (n: string) => {
        const bit = CAPABILITIES.indexOf(n);
        return bit >= 0 && ((grantable >> BigInt(bit)) & 1n) === 1n;
      };
      for (const set of ['bounding', 'effective', 'permitted', 'inheritable', 'ambient']) {
        const want = (proc?.capabilities?.[set] ?? []).filter(grantableName).sort();
        const got = lines(dump, `caps.${set}`)[0]
          ?.split(' ')
          .filter((n) => n !== '-');
        if (proc?.capabilities) assert.deepEqual(got?.sort(), want, `caps.${set}`);
      }
      // Rlimits: resource numbers read back as the config's names, in order.
      assert.deepEqual(
        lines(dump, 'rlimit').map((l) => l.split(' ')[0]),
        (proc?.rlimits ?? []).map((r) => r.type),
      );
      // Mount flags: each OCI option shows up as its MS_* name on the mount at that destination.
      const option: Record<string, string[]> = {
        ro: ['MS_RDONLY'],
        nosuid: ['MS_NOSUID'],
        nodev: ['MS_NODEV'],
        noexec: ['MS_NOEXEC'],
        relatime: ['MS_RELATIME'],
        strictatime: ['MS_STRICTATIME'],
        bind: ['MS_BIND'],
        rbind: ['MS_BIND', 'MS_REC'],
      };
      const propagation: Record<string, string[]> = { rslave: ['MS_REC', 'MS_SLAVE'], shared: ['MS_SHARED'] };
      let checked = 0;
      for (const m of input.spec?.mounts ?? []) {
        if (m.type === 'cgroup') continue; // becomes several mounts (build.ts)
        const dest = m.destination.replace(/(.)\/+$/, '$1');
        const line = lines(dump, 'mount').find((l) => l.includes(` dest "${dest}" `));
        assert.ok(line, `a mount on '${dest}' in the dump`);
        const field = (key: string) => new RegExp(` ${key} (\\S+)`).exec(line)?.[1]?.split('|') ?? [];
        for (const o of m.options ?? []) {
          for (const f of option[o] ?? []) assert.ok(field('flags').includes(f), `'${o}' on '${dest}' is ${f}: ${line}`);
          for (const f of propagation[o] ?? []) assert.ok(field('propagation').includes(f), `'${o}' on '${dest}' is ${f}: ${line}`);
        }
        checked++;
      }
      if (input.kind === 'create' && (input.spec?.mounts?.length ?? 0) > 0) assert.ok(checked > 0, 'some mounts were checked');
    });
  }
});

/** A minimal plan the reader accepts, with `records` before `end`. */
const plan = (...records: string[]) => ['berth-plan 1', 'arg /bin/true', ...records, 'end', ''].join('\n');

/** Malformed plans and the message each must be refused with. */
const MALFORMED: [string, string, string][] = [
  ['empty input', '', "plan: expected 'berth-plan 1', got 'end of input'"],
  ['another version', 'berth-plan 2\nend\n', "plan: expected 'berth-plan 1', got 'berth-plan 2'"],
  ['no end', 'berth-plan 1\narg /bin/true\n', "plan: input ended before 'end'"],
  ['a last line without its newline', 'berth-plan 1\narg /bin/true\nend', "plan: input ended before 'end'"],
  ['end with a field', 'berth-plan 1\narg x\nend now\n', "plan: 'end' takes no fields"],
  ['an empty line', 'berth-plan 1\n\nend\n', 'plan: empty line'],
  ['an unknown record', plan('x'), "plan: unknown record 'x'"],
  ['a field too many', plan('hostname a b'), "plan: 'hostname' needs 1 fields, got 2"],
  ['a field too few', plan('uid-map 0 0'), "plan: 'uid-map' needs 3 fields, got 2"],
  ['a scalar twice', plan('id a', 'id b'), "plan: record 'id' given twice"],
  ['too many fields', plan(`arg ${'a '.repeat(13)}`), "plan: too many fields in 'arg'"],
  ['bad percent-encoding', plan('arg %zz'), "plan: bad percent-encoding in 'arg'"],
  ['a truncated escape', plan('arg 100%'), "plan: bad percent-encoding in 'arg'"],
  ['not a number', plan('rlimit 7 x 1'), "plan: bad number 'x' in 'rlimit'"],
  ['a flag that is not 0 or 1', plan('wait 2'), "plan: bad number '2' in 'wait'"],
  ['a negative unsigned number', plan('preserve-fds -1'), "plan: bad number '-1' in 'preserve-fds'"],
  ['an rlimit resource out of range', plan('rlimit 64 1 1'), "plan: bad number '64' in 'rlimit'"],
  ['oom-score-adj out of range', plan('oom-score-adj 1001'), "plan: bad number '1001' in 'oom-score-adj'"],
  ['a capability mask wider than 64 bits', plan('caps 10000000000000000 0 0 0 0'), "plan: bad number '10000000000000000' in 'caps'"],
  [
    'a device mode that is not octal',
    plan('ns-new mount', 'rootfs /r', 'device /dev/x c 1 3 999 0 0 0'),
    "plan: bad number '999' in 'device'",
  ],
  ['an unknown namespace', plan('ns-new foo'), "plan: unknown namespace type 'foo' in 'ns-new'"],
  ['a namespace new and joined', plan('ns-new pid', 'ns-join pid /proc/1/ns/pid'), "plan: namespace 'pid' given twice"],
  ['setgroups neither allow nor deny', plan('ns-new user', 'setgroups maybe'), "plan: setgroups must be 'allow' or 'deny', got 'maybe'"],
  ['an unknown clock', plan('ns-new time', 'time-offset realtime 1 0'), "plan: unknown clock 'realtime' in 'time-offset'"],
  ['nanoseconds out of range', plan('ns-new time', 'time-offset boottime 1 1000000000'), "plan: bad number '1000000000' in 'time-offset'"],
  ['an unknown device type', plan('ns-new mount', 'rootfs /r', 'device /dev/x x 1 3 666 0 0 0'), "plan: unknown device type 'x'"],
  ['a sysctl key with a slash', plan('sysctl a/b 1'), "plan: bad sysctl key 'a/b'"],
  ['an unknown hook kind', plan('hook-state {', 'hook poststop /x 0'), "plan: unknown hook kind 'poststop'"],
  ['hook-arg before any hook', plan('hook-arg x'), "plan: 'hook-arg' before any 'hook'"],
  [
    'seccomp: not whole instructions',
    plan('seccomp 0 12345678'),
    "plan: 'seccomp' program of 8 hex digits is not a whole number of instructions",
  ],
  ['seccomp: not hex', plan('seccomp 0 000000000000000g'), "plan: bad hex digit in 'seccomp' program"],
  ['seccomp: too long', plan(`seccomp 0 ${'0'.repeat(16 * 4097)}`), "plan: 'seccomp' program of 4097 instructions is longer than 4096"],
  ['no arg', 'berth-plan 1\nid x\nend\n', "plan: no 'arg' record"],
  ['a new mount namespace without rootfs', plan('ns-new mount'), "plan: 'rootfs' must be an absolute path with a new mount namespace"],
  ['a relative rootfs', plan('ns-new mount', 'rootfs r'), "plan: 'rootfs' must be an absolute path with a new mount namespace"],
  [
    'a rootfs mount in a joined mount namespace',
    plan('ns-join mount /proc/1/ns/mnt', 'rootfs /r', 'chroot 1', 'rootfs-mount overlay overlay 0 lowerdir=/a:/b -'),
    "plan: 'rootfs-mount' needs 'ns-new mount'",
  ],
  [
    'a rootfs mount in the caller’s mount namespace',
    plan('rootfs /r', 'rootfs-mount /a - 4096 - -'),
    "plan: 'rootfs-mount' needs 'ns-new mount'",
  ],
  [
    'a rootfs mount with a relative cwd',
    plan('ns-new mount', 'rootfs /r', 'rootfs-mount overlay overlay 0 lowerdir=a:b x'),
    "plan: 'rootfs-mount' cwd 'x' is not an absolute path",
  ],
  [
    'a mount in the caller’s mount namespace',
    plan('rootfs /r', 'chroot 1', 'mount proc /proc proc 0 0 -'),
    "plan: mount, symlink, device, masked, readonly and root-readonly need 'ns-new mount' or 'ns-join mount'",
  ],
  [
    'masked without a mount namespace',
    plan('masked /proc/kcore'),
    "plan: mount, symlink, device, masked, readonly and root-readonly need 'ns-new mount' or 'ns-join mount'",
  ],
  [
    'mounts in a joined mount namespace without chroot',
    plan('ns-join mount /proc/1/ns/mnt', 'rootfs /r', 'masked /proc/kcore'),
    "plan: mount records in a joined mount namespace need 'chroot 1'",
  ],
  ['no-pivot without a new mount namespace', plan('ns-join mount /proc/1/ns/mnt', 'no-pivot 1'), "plan: 'no-pivot' needs 'ns-new mount'"],
  [
    'chroot with a new mount namespace',
    plan('ns-new mount', 'rootfs /r', 'chroot 1'),
    "plan: 'chroot 1' needs an absolute 'rootfs' and no 'ns-new mount'",
  ],
  [
    'chroot without rootfs',
    plan('ns-join mount /proc/1/ns/mnt', 'chroot 1'),
    "plan: 'chroot 1' needs an absolute 'rootfs' and no 'ns-new mount'",
  ],
  ['a hostname without a uts namespace', plan('hostname h'), "plan: 'hostname' and 'domainname' need a uts namespace"],
  ['id maps without a new user namespace', plan('uid-map 0 0 1'), "plan: 'uid-map', 'gid-map' and their tools need 'ns-new user'"],
  ['setgroups without a user namespace', plan('setgroups deny'), "plan: 'setgroups' needs 'ns-new user' or 'ns-join user'"],
  ['a relative map tool', plan('ns-new user', 'uid-map-tool newuidmap'), "plan: 'uid-map-tool' and 'gid-map-tool' must be absolute paths"],
  [
    'setgroups with gid-map-tool',
    plan('ns-new user', 'gid-map-tool /usr/bin/newgidmap', 'setgroups deny'),
    "plan: 'setgroups' with 'gid-map-tool': the tool decides setgroups",
  ],
  ['time offsets without a time namespace', plan('time-offset boottime 1 0'), "plan: 'time-offset' needs 'ns-new time'"],
  ['a terminal nobody receives', plan('terminal 1'), "plan: 'terminal 1' without 'console-socket' needs 'wait 1'"],
  ['a console socket without a terminal', plan('console-socket /s'), "plan: 'console-socket' needs 'terminal 1'"],
  ['hooks without hook-state', plan('hook createContainer /x 0'), "plan: 'hook' needs 'hook-state'"],
];

describe('the C plan reader refuses malformed plans', { skip }, () => {
  test('the minimal plan the cases start from is accepted', () => {
    assert.equal(readPlan(plan()).status, 0);
  });
  for (const [what, text, message] of MALFORMED) {
    test(`${what}: ${message}`, () => {
      const { status, out } = readPlan(text);
      assert.equal(out, `error ${message}\n`);
      assert.equal(status, 1);
    });
  }
  test("every plan error quoted in docs/plan-format.md's list is among the cases", () => {
    const doc = readFileSync(`${ROOT}docs/plan-format.md`, 'utf8');
    const section = doc.slice(doc.indexOf('### Plan errors'));
    const quoted = [...section.matchAll(/^- `(plan: .*)`$/gm)].map((m) => m[1]);
    assert.ok(quoted.length >= MALFORMED.length - 12, `docs/plan-format.md lists the plan errors (found ${quoted.length})`);
    const tested = new Set(MALFORMED.map(([, , m]) => m));
    for (const q of quoted) assert.ok(tested.has(q as string), `documented but not tested: ${q}`);
  });
});
