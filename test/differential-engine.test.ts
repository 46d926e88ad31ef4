/**
 * Differential test of the engine: the same scenarios, driven by the v28 docker CLI, against
 * berthd and against Debian's dockerd 20.10 (runc) started here as the reference. Every scenario
 * records observations (exit codes, stdout, stderr, inspect fields), normalised for what is
 * different by nature (ids, times, durations); each observation must be the same on both
 * daemons, or be listed in ALLOWED below with the reason and what each side gives — the test
 * fails on an unlisted difference and on a listed one that is gone (keep the table honest).
 *
 * Both daemons are started once; the scenarios run a few at a time, each on both daemons at
 * once, with the same container names (the daemons are separate). Every container runs with
 * `--network none` (the reference dockerd has no bridge).
 *
 *   node --import tsx --test --test-concurrency=1 test/differential-engine.test.ts
 *   DIFF_SHOW=1 …   prints every observation of both sides
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Berthd, berthdUnavailable } from './helpers/berthd.js';
import { Dockerd, dockerdUnavailable } from './helpers/dockerd.js';
import type { RunResult } from './helpers/runtime.js';

// ------------------------------------------------------------------ the allowed differences

type Match = string | RegExp;
type Edit = [RegExp, string];
interface Allowed {
  /** `<scenario> › <field>` */
  key: string;
  reason: string;
  /** What each side gives (normalised), exactly or by pattern… */
  berthd?: Match;
  dockerd?: Match;
  /** …or the edits that turn each side into one common text (which must then be equal). */
  berthdEdits?: Edit[];
  dockerdEdits?: Edit[];
  /** Only on hosts where this holds; elsewhere the two must agree. */
  when?: () => boolean;
}

/** The capability bounding set here lacks capabilities the kernel has (e.g. a sandbox without CAP_SYS_RESOURCE). */
function boundingSetPartial(): boolean {
  const last = Number(readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8'));
  const bnd = BigInt(`0x${/^CapBnd:\s+([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? '0'}`);
  return bnd !== (1n << BigInt(last + 1)) - 1n;
}

/** runc's start-error wording, rewritten to berthd's (crun-like) one: the cause is the same. */
const RUNC_START_ERR: Edit = [
  /failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: "([^"]+)": (?:stat \S+: )?(.*?): unknown/,
  "exec '$1': $2",
];
const RUNC_EXEC_ERR: Edit = [
  /OCI runtime exec failed: exec failed: unable to start container process: exec: "([^"]+)": (?:stat \S+: )?(.*?): unknown/,
  "OCI runtime exec failed: exec failed: unable to start container process: exec '$1': $2: unknown",
];
const PRIVILEGED_ON_THIS_HOST =
  'runc gives a --privileged container every capability the kernel knows and fails ("unable to apply caps: operation not permitted") when the bounding set it runs under lacks one, as here; berthd grants the bounding set it has';

/**
 * Every difference between berthd and dockerd 20.10 that remains, and why. An entry must
 * describe both sides, so a change on either side fails the test and gets looked at.
 */
const ALLOWED: Allowed[] = [
  // ---- start errors: same exit codes (127/126 come from the text), berthd words the cause crun's way
  ...['run a missing command (127)', 'run a command not on PATH (127)', 'run a directory (126)'].map(
    (s): Allowed => ({
      key: `${s} › stderr`,
      reason:
        "start-error wording: runc's chain of wrappers vs berthd's crun-like `exec 'cmd': cause`; the cause (which picks the exit code) is the same",
      dockerdEdits: [RUNC_START_ERR],
    }),
  ),
  ...['missing', 'directory'].map(
    (f): Allowed => ({
      key: `exec: codes, streams, -u, -w, -e › ${f}.stdout`,
      reason: "exec start-error cause wording (runc's vs crun-like, in the same wrapper); both on stdout with \\r\\n and exit code 126",
      dockerdEdits: [RUNC_EXEC_ERR],
    }),
  ),
  // ---- the container's filesystem
  {
    key: 'defaults inside the container › mounts',
    reason:
      "berthd mounts the /sys/fs/cgroup tmpfs read-only (runc leaves it rw under the ro cgroup mounts) and also mounts the hybrid host's cgroup2 'unified' hierarchy (runc skips it on cgroup v1)",
    berthdEdits: [
      [/tmpfs on \/sys\/fs\/cgroup type tmpfs \(ro,/, 'tmpfs on /sys/fs/cgroup type tmpfs (rw,'],
      [/cgroup2 on \/sys\/fs\/cgroup\/unified type cgroup2 [^\n]*\n/, ''],
    ],
  },
  {
    key: 'defaults inside the container › rootfs',
    reason: 'storage: berthd mounts an overlay; the reference dockerd runs with --storage-driver=vfs (a plain directory)',
    berthd: /^overlay on \/ type overlay \(rw,/,
    dockerd: /^\S+ on \/ type \w+ \(rw,/,
  },
  {
    key: '--read-only › mount',
    reason: 'storage: overlay (berthd) vs vfs (the reference dockerd); both read-only',
    berthd: /^overlay on \/ type overlay \(ro,/,
    dockerd: /^\S+ on \/ type \w+ \(ro,/,
  },
  {
    key: 'defaults inside the container › root-dir',
    reason: 'dockerd puts an empty /.dockerenv in every container; berthd is not Docker and does not claim to be',
    dockerdEdits: [[/-rwxr-xr-x root root \.dockerenv\n/, '']],
  },
  // ---- --privileged cannot run under dockerd here
  { key: '--privileged › code', reason: PRIVILEGED_ON_THIS_HOST, berthd: '0', dockerd: '125', when: boundingSetPartial },
  {
    key: '--privileged › stderr',
    reason: PRIVILEGED_ON_THIS_HOST,
    berthd: '',
    dockerd: /unable to apply caps: operation not permitted/,
    when: boundingSetPartial,
  },
  ...['caps', 'dev-count', 'mounts', 'seccomp'].map(
    (f): Allowed => ({
      key: `--privileged › ${f}`,
      reason: PRIVILEGED_ON_THIS_HOST,
      berthd: {
        caps: /CapEff:\t([0-9a-f]{16})\nCapBnd:\t\1\n/,
        'dev-count': /^\d+\n$/,
        mounts: /sysfs on \/sys type sysfs \(rw,/,
        seccomp: /Seccomp:\t0\n/,
      }[f] as RegExp,
      dockerd: '<absent>',
      when: boundingSetPartial,
    }),
  ),
  {
    key: 'exec: codes, streams, -u, -w, -e › privileged.code',
    reason: PRIVILEGED_ON_THIS_HOST,
    berthd: '0',
    dockerd: '126',
    when: boundingSetPartial,
  },
  {
    key: 'exec: codes, streams, -u, -w, -e › privileged.stdout',
    reason: PRIVILEGED_ON_THIS_HOST,
    berthd: /CapEff:\t([0-9a-f]{16})\nCapBnd:\t\1\n/,
    dockerd: /unable to apply caps: operation not permitted/,
    when: boundingSetPartial,
  },
  {
    key: 'images › inspect-nosuch.stderr',
    reason:
      "dockerd 20.10 wraps the lookup error twice ('no such image: X: No such image: X:latest'); berthd gives the inner, canonical text",
    dockerdEdits: [[/no such image: nosuchimg: /, '']],
  },
  // ---- ps and inspect
  {
    key: 'docker inspect fields › created.HostConfig.Runtime',
    reason: "the default runtime's name: berthd's built-in one is 'berth', dockerd's is 'runc'",
    berthd: '"berth"\n',
    dockerd: '"runc"\n',
  },
  {
    key: 'docker inspect fields › created.Driver',
    reason: 'storage: overlay2 (berthd) vs vfs (the reference dockerd is started with --storage-driver=vfs)',
    berthd: '"overlay2"\n',
    dockerd: '"vfs"\n',
  },
  {
    key: 'docker inspect fields › plain.HostConfig',
    reason: "Runtime name (berth/runc); berthd masks /sys/devices/virtual/powercap too (moby >= 25's list, CVE-2020-8694)",
    berthdEdits: [
      [/"Runtime":"berth"/, '"Runtime":"runc"'],
      [/,"\/sys\/devices\/virtual\/powercap"/, ''],
    ],
  },
];

// ------------------------------------------------------------------ normalising

/** What differs by nature between two daemons: ids, times, durations, sizes of the host. */
export function normalise(s: string): string {
  return (
    s
      .replace(/\b[0-9a-f]{64}\b/g, '<id>')
      .replace(/\b[0-9a-f]{12}\b/g, '<id12>')
      .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)/g, '<time>')
      .replace(/(\d+|About an?|Less than a) (second|minute|hour)s?/g, '<dur>')
      // the CLI's own log lines (e.g. `docker cp` still writing its tar when the daemon has said 404): a client-side race
      .replace(/^time="<time>" level=\w+ msg=.*\n/gm, '')
  );
}

// ------------------------------------------------------------------ scenarios

type Docker = (args: string[], o?: { input?: string; env?: Record<string, string> }) => Promise<RunResult>;
type Obs = Record<string, string>;
interface Ctx {
  /** A host directory with a file `f` ("host-file\n"), bind mounted by some scenarios. */
  hostDir: string;
  envFile: string;
}
interface Scenario {
  name: string;
  /** Takes seconds (stop timeouts, restarts): started first. */
  slow?: boolean;
  /** An API route the scenario needs (`METHOD /path`): skipped, saying so, while berthd does not serve it. */
  needs?: string;
  run: (docker: Docker, ctx: Ctx) => Promise<Obs>;
}

const NONE = ['--network', 'none'];
const run = (flags: string[], cmd: string[] = []): string[] => ['run', ...NONE, ...flags, 'busybox', ...cmd];

/** code, stdout and stderr of one command as three observations (prefixed). */
function res(r: RunResult, prefix = ''): Obs {
  const p = prefix ? `${prefix}.` : '';
  return { [`${p}code`]: String(r.code), [`${p}stdout`]: r.stdout, [`${p}stderr`]: r.stderr };
}

/** A shell script printing `== name` before each section's output; parsed back into fields. */
function probeScript(sections: Record<string, string>): string {
  return Object.entries(sections)
    .map(([k, v]) => `echo "== ${k}"; ${v}`)
    .join('; ');
}
function parseProbe(out: string): Obs {
  const obs: Obs = {};
  let cur = '_';
  for (const line of out.split('\n')) {
    const m = /^== (.+)$/.exec(line);
    if (m) {
      cur = m[1]!;
      obs[cur] = '';
    } else if (line !== '' || cur !== '_') obs[cur] = `${obs[cur] ?? ''}${line}\n`;
  }
  return obs;
}
async function probe(docker: Docker, flags: string[], sections: Record<string, string>): Promise<Obs> {
  const r = await docker(run(['--rm', ...flags], ['sh', '-c', probeScript(sections)]));
  return { code: String(r.code), stderr: r.stderr, ...parseProbe(r.stdout) };
}

/** Waits (bounded) until the container's log has `text`: a shell's trap is set once it printed. */
async function untilLogged(docker: Docker, name: string, text: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if ((await docker(['logs', name])).stdout.includes(text)) return;
    await sleep(50);
  }
}

const CGROUP_MEM = '/sys/fs/cgroup/memory';
/** A block device of this host, for the blkio throttles (the VM's disk; a loop device at worst). */
const BLOCK_DEVICE = ['/dev/vda', '/dev/sda', '/dev/nvme0n1', '/dev/xvda', '/dev/loop0'].find((d) => existsSync(d)) ?? '/dev/loop0';
const caps = 'grep Cap /proc/self/status';

const SCENARIOS: Scenario[] = [
  { name: 'run exit 0', run: async (docker) => res(await docker(run(['--rm'], ['true']))) },
  { name: 'run exit 3', run: async (docker) => res(await docker(run(['--rm'], ['sh', '-c', 'exit 3']))) },
  { name: 'run a missing command (127)', run: async (docker) => res(await docker(run(['--rm'], ['/no/such/cmd']))) },
  { name: 'run a command not on PATH (127)', run: async (docker) => res(await docker(run(['--rm'], ['nosuchcmd']))) },
  { name: 'run a directory (126)', run: async (docker) => res(await docker(run(['--rm'], ['/etc']))) },
  {
    name: 'stdout and stderr apart',
    run: async (docker) => res(await docker(run(['--rm'], ['sh', '-c', 'echo out; echo err >&2; echo out2; echo err2 >&2']))),
  },
  {
    name: 'stdin with -i',
    run: async (docker) => res(await docker(run(['--rm', '-i'], ['sh', '-c', 'cat; echo done']), { input: 'line1\nline2\n' })),
  },
  {
    name: 'defaults inside the container',
    run: (docker) =>
      probe(docker, [], {
        env: 'env | grep -v ^HOSTNAME= | sort',
        id: 'id',
        caps,
        mounts: `mount | grep -E ' /(proc|sys|dev)'`,
        shm: `df -k /dev/shm | awk 'NR==2{print $2}'`,
        ulimit: 'ulimit -a',
        hostname: '[ "$(hostname)" = "$(cat /etc/hostname)" ] && echo same; hostname | wc -c',
        hosts: 'cat /etc/hosts',
        resolv: 'cat /etc/resolv.conf | grep -v ^#',
        pwd: 'pwd',
        umask: 'umask',
        dev: "ls -l /dev | grep -v ^total | awk '{print $1, $3, $4, $NF}'",
        pid: 'echo $$; cat /proc/1/cmdline | tr "\\0" " "; echo',
        rootfs: `mount | grep ' on / '`,
        'root-dir': "ls -la / | awk '{print $1, $3, $4, $NF}'",
        'no-new-privs': 'grep NoNewPrivs /proc/self/status',
        seccomp: 'grep Seccomp /proc/self/status',
        oom: 'cat /proc/self/oom_score_adj',
        'net-devs': 'ls /sys/class/net',
      }),
  },
  { name: '--user 1000:1000', run: (docker) => probe(docker, ['--user', '1000:1000'], { id: 'id', home: 'echo $HOME', caps }) },
  {
    name: '--user nobody (a name from /etc/passwd)',
    run: (docker) => probe(docker, ['--user', 'nobody'], { id: 'id', home: 'echo $HOME' }),
  },
  {
    name: '--user with a missing name',
    run: async (docker) => res(await docker(run(['--rm', '--user', 'nosuchuser'], ['id']))),
  },
  {
    name: '--workdir',
    run: (docker) => probe(docker, ['--workdir', '/made/by/docker'], { pwd: 'pwd', mode: 'ls -ld /made/by/docker | cut -c1-10' }),
  },
  { name: '--entrypoint', run: async (docker) => res(await docker(run(['--rm', '--entrypoint', 'echo'], ['hello', 'world']))) },
  {
    name: '--read-only',
    run: (docker) =>
      probe(docker, ['--read-only'], {
        root: 'touch /x 2>&1; echo rc=$?',
        tmp: 'touch /tmp/x 2>&1; echo rc=$?',
        'etc-hosts': 'echo x >> /etc/hosts 2>&1; echo rc=$?',
        mount: `mount | grep ' on / '`,
      }),
  },
  {
    name: '--cap-drop ALL',
    run: (docker) => probe(docker, ['--cap-drop', 'ALL'], { caps, chown: 'chown 1 /tmp 2>&1; echo rc=$?' }),
  },
  {
    name: '--cap-add SYS_ADMIN --cap-drop NET_RAW',
    run: (docker) => probe(docker, ['--cap-add', 'SYS_ADMIN', '--cap-drop', 'NET_RAW'], { caps }),
  },
  {
    name: '--privileged',
    run: (docker) =>
      probe(docker, ['--privileged'], {
        caps,
        'dev-count': 'ls /dev | wc -l',
        mounts: `mount | grep -E ' /(proc|sys) '`,
        seccomp: 'grep Seccomp /proc/self/status',
      }),
  },
  {
    name: '--memory 64m and other resources in the cgroup',
    run: (docker) =>
      probe(docker, ['--memory', '64m', '--pids-limit', '50', '--cpu-shares', '512'], {
        mem: `cat ${CGROUP_MEM}/memory.limit_in_bytes`,
        memsw: `cat ${CGROUP_MEM}/memory.memsw.limit_in_bytes 2>/dev/null || echo none`,
        pids: 'cat /sys/fs/cgroup/pids/pids.max',
        shares: 'cat /sys/fs/cgroup/cpu/cpu.shares 2>/dev/null || cat /sys/fs/cgroup/cpu,cpuacct/cpu.shares',
      }),
  },
  {
    name: 'blkio: device throttles and weights',
    run: async (docker) => {
      const obs = await probe(
        docker,
        [
          ...['--device-read-bps', `${BLOCK_DEVICE}:1mb`, '--device-write-bps', `${BLOCK_DEVICE}:2mb`],
          ...['--device-read-iops', `${BLOCK_DEVICE}:100`, '--device-write-iops', `${BLOCK_DEVICE}:200`],
          // discarded with a warning where no scheduler weighs (mq-deadline, none), as by dockerd
          ...['--blkio-weight', '300', '--blkio-weight-device', `${BLOCK_DEVICE}:200`],
        ],
        {
          'read-bps': 'cat /sys/fs/cgroup/blkio/blkio.throttle.read_bps_device',
          'write-bps': 'cat /sys/fs/cgroup/blkio/blkio.throttle.write_bps_device',
          'read-iops': 'cat /sys/fs/cgroup/blkio/blkio.throttle.read_iops_device',
          'write-iops': 'cat /sys/fs/cgroup/blkio/blkio.throttle.write_iops_device',
        },
      );
      const c = await docker(['create', ...NONE, '--name', 'blkio-c', '--device-read-bps', `${BLOCK_DEVICE}:1mb`, 'busybox']);
      obs['create.code'] = String(c.code);
      obs.inspect = (
        await docker(['inspect', '-f', '{{json .HostConfig.BlkioDeviceReadBps}} {{json .HostConfig.BlkioWeightDevice}}', 'blkio-c'])
      ).stdout;
      await docker(['rm', '-f', 'blkio-c']);
      // a live update of the weight: discarded with the same warning
      await docker(run(['-d', '--name', 'blkio-u'], ['sleep', '1000']));
      Object.assign(obs, res(await docker(['update', '--blkio-weight', '300', 'blkio-u']), 'update'));
      obs['update.inspect'] = (await docker(['inspect', '-f', '{{.HostConfig.BlkioWeight}}', 'blkio-u'])).stdout;
      await docker(['rm', '-f', 'blkio-u']);
      // a path that is no device: refused at start by both (their words differ)
      obs['missing.code'] = String((await docker(run(['--rm', '--device-read-bps', '/dev/nosuchdisk:1mb'], ['true']))).code);
      return obs;
    },
  },
  {
    name: '-e and --env-file',
    run: (docker, ctx) =>
      probe(docker, ['-e', 'A=1', '-e', 'FROM_CLIENT', '-e', 'UNSET_IN_CLIENT', '--env-file', ctx.envFile, '-e', 'PATH=/bin'], {
        env: 'env | grep -v ^HOSTNAME= | sort',
      }),
  },
  {
    name: '--tmpfs',
    run: (docker) =>
      probe(docker, ['--tmpfs', '/t', '--tmpfs', '/u:size=1m,mode=1700'], {
        mounts: `mount | grep -E ' /(t|u) ' | sort`, // sorted: dockerd's order of same-depth mounts is random
        modes: 'stat -c "%a %U" /t /u',
        write: 'echo x > /t/f && cat /t/f',
      }),
  },
  {
    name: '-v /hostdir:/x:ro',
    run: async (docker, ctx) => {
      const obs = await probe(docker, ['-v', `${ctx.hostDir}:/x:ro`, '-v', `${ctx.hostDir}:/y`], {
        read: 'cat /x/f',
        write: 'touch /x/new 2>&1; echo rc=$?',
        // sorted: dockerd orders mounts of the same depth as a Go map iteration does (randomly)
        mounts: `mount | grep -E ' /(x|y) ' | awk '{print $3, $5, $6}' | sort`,
      });
      return obs;
    },
  },
  {
    name: 'exec: codes, streams, -u, -w, -e',
    slow: true,
    run: async (docker) => {
      const up = await docker(run(['-d', '--name', 'ex1'], ['sleep', '1000']));
      const obs: Obs = { ...res(up, 'run') };
      Object.assign(obs, res(await docker(['exec', 'ex1', 'sh', '-c', 'echo o; echo e >&2; exit 4']), 'codes'));
      Object.assign(obs, res(await docker(['exec', '-u', '1000:1000', 'ex1', 'id']), 'user'));
      Object.assign(obs, res(await docker(['exec', '-u', 'nobody', 'ex1', 'sh', '-c', 'id; echo $HOME']), 'user-name'));
      Object.assign(obs, res(await docker(['exec', '-w', '/tmp', 'ex1', 'pwd']), 'workdir'));
      Object.assign(obs, res(await docker(['exec', '-w', '/no/such', 'ex1', 'pwd']), 'workdir-missing'));
      Object.assign(obs, res(await docker(['exec', '-e', 'X=1', 'ex1', 'sh', '-c', 'env | grep -v ^HOSTNAME= | sort']), 'env'));
      Object.assign(obs, res(await docker(['exec', 'ex1', '/no/such/cmd']), 'missing'));
      Object.assign(obs, res(await docker(['exec', 'ex1', '/etc']), 'directory'));
      Object.assign(obs, res(await docker(['exec', '-i', 'ex1', 'cat'], { input: 'via-stdin\n' }), 'stdin'));
      Object.assign(obs, res(await docker(['exec', '--privileged', 'ex1', 'sh', '-c', caps]), 'privileged'));
      await docker(['kill', 'ex1']);
      Object.assign(obs, res(await docker(['exec', 'ex1', 'true']), 'stopped'));
      await docker(['rm', '-f', 'ex1']);
      return obs;
    },
  },
  {
    name: 'stop, kill, wait, restart',
    slow: true,
    run: async (docker) => {
      const obs: Obs = {};
      const state = async (n: string, k: string) => {
        obs[k] = (await docker(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}} {{.State.OOMKilled}}', n])).stdout;
      };
      await docker(run(['-d', '--name', 'st1'], ['sleep', '1000']));
      Object.assign(obs, res(await docker(['stop', '-t', '1', 'st1']), 'stop'));
      await state('st1', 'stop.state');
      Object.assign(obs, res(await docker(['stop', 'st1']), 'stop-again'));
      Object.assign(obs, res(await docker(['wait', 'st1']), 'wait-exited'));
      await docker(run(['-d', '--name', 'st2'], ['sh', '-c', 'trap "exit 0" TERM; echo ready; while true; do sleep 0.1; done']));
      await untilLogged(docker, 'st2', 'ready'); // the trap is set
      Object.assign(obs, res(await docker(['stop', 'st2']), 'stop-trap'));
      await state('st2', 'stop-trap.state');
      await docker(
        run(
          ['-d', '--name', 'st3', '--stop-signal', 'USR1'],
          ['sh', '-c', 'trap "exit 11" USR1; echo ready; while true; do sleep 0.1; done'],
        ),
      );
      await untilLogged(docker, 'st3', 'ready');
      Object.assign(obs, res(await docker(['stop', 'st3']), 'stop-signal'));
      await state('st3', 'stop-signal.state');
      await docker(run(['-d', '--name', 'st4'], ['sleep', '1000']));
      Object.assign(obs, res(await docker(['kill', 'st4']), 'kill'));
      Object.assign(obs, res(await docker(['wait', 'st4']), 'kill-wait'));
      await state('st4', 'kill.state');
      Object.assign(obs, res(await docker(['start', 'st4']), 'start-again'));
      Object.assign(obs, res(await docker(['start', 'st4']), 'start-running'));
      Object.assign(obs, res(await docker(['kill', '-s', 'TERM', 'st4']), 'kill-term-ignored'));
      await sleep(200);
      await state('st4', 'kill-term.state');
      Object.assign(obs, res(await docker(['restart', '-t', '1', 'st4']), 'restart'));
      await state('st4', 'restart.state');
      obs['restart.count'] = (await docker(['inspect', '-f', '{{.RestartCount}}', 'st4'])).stdout;
      Object.assign(obs, res(await docker(['kill', '-s', 'NOSUCHSIG', 'st4']), 'kill-bad-signal'));
      Object.assign(obs, res(await docker(['rm', '-f', 'st4']), 'rm-f'));
      Object.assign(obs, res(await docker(['wait', 'st4']), 'wait-removed'));
      await docker(['rm', '-f', 'st1', 'st2', 'st3']);
      return obs;
    },
  },
  {
    name: 'docker ps -a formats',
    run: async (docker) => {
      const obs: Obs = {};
      await docker(['create', ...NONE, '--name', 'ps-created', '--label', 'k=v', 'busybox', 'echo', 'hi there']);
      await docker(run(['--name', 'ps-exited'], ['sh', '-c', 'exit 2']));
      const up = await docker(run(['-d', '--name', 'ps-running', '-v', '/tmp:/t'], ['sleep', '1000']));
      obs['run.code'] = String(up.code);
      obs['run.stderr'] = up.stderr;
      const fmt = '{{.Names}}|{{.Image}}|{{.Command}}|{{.Status}}|{{.State}}|{{.Ports}}|{{.Labels}}|{{.Mounts}}|{{.Networks}}|{{.Size}}';
      Object.assign(obs, res(await docker(['ps', '-a', '--filter', 'name=ps-', '--format', fmt]), 'format'));
      Object.assign(obs, res(await docker(['ps', '--filter', 'name=ps-', '--format', '{{.Names}}']), 'running'));
      Object.assign(
        obs,
        res(await docker(['ps', '-a', '--filter', 'name=ps-', '--filter', 'status=exited', '--format', '{{.Names}}']), 'status-exited'),
      );
      Object.assign(
        obs,
        res(await docker(['ps', '-a', '--filter', 'name=ps-', '--filter', 'status=created', '--format', '{{.Names}}']), 'status-created'),
      );
      Object.assign(obs, res(await docker(['ps', '-a', '--filter', 'label=k=v', '--format', '{{.Names}}']), 'label'));
      Object.assign(
        obs,
        res(await docker(['ps', '-a', '--filter', 'name=ps-', '--filter', 'exited=2', '--format', '{{.Names}}']), 'exited-2'),
      );
      Object.assign(obs, res(await docker(['ps', '-a', '--no-trunc', '--filter', 'name=ps-', '--format', '{{.Command}}']), 'no-trunc'));
      const table = await docker(['ps', '-a', '--filter', 'name=ps-']);
      obs['table.code'] = String(table.code);
      // column widths follow the longest value, which may differ by a duration's length
      obs['table.stdout'] = table.stdout.replace(/ {2,}/g, '  ');
      Object.assign(obs, res(await docker(['ps', '-aq', '--filter', 'name=ps-']), 'quiet'));
      Object.assign(obs, res(await docker(['ps', '-a', '-n', '1', '--filter', 'name=ps-', '--format', '{{.Names}}']), 'last'));
      await docker(['rm', '-f', 'ps-created', 'ps-exited', 'ps-running']);
      return obs;
    },
  },
  {
    name: 'sizes: inspect -s and ps -s',
    run: async (docker) => {
      const obs: Obs = {};
      // 12345 bytes, a hard link to them (counted once) and a 4-byte symlink: dockerd's SizeRw is 12349
      const w = await docker(
        run(['--name', 'sizes-w'], ['sh', '-c', 'head -c 12345 /dev/zero > /data && ln /data /data2 && ln -s data /link']),
      );
      obs['run.code'] = String(w.code);
      await docker(run(['--name', 'sizes-0'], ['true']));
      await docker(['create', ...NONE, '--name', 'sizes-c', 'busybox']);
      for (const name of ['sizes-w', 'sizes-0', 'sizes-c']) {
        Object.assign(obs, res(await docker(['inspect', '-s', '-f', '{{.SizeRw}} {{.SizeRootFs}}', name]), `${name}.rw`));
        const raw = await docker(['inspect', '-s', name]);
        const keys = Object.keys((JSON.parse(raw.stdout) as Record<string, unknown>[])[0] ?? {});
        obs[`${name}.order`] = keys.filter((k) => ['GraphDriver', 'SizeRw', 'SizeRootFs', 'Mounts'].includes(k)).join(',');
      }
      // the image's bytes, as dockerd counts them (its files', at unpack time)
      obs['image-size'] = (await docker(['image', 'inspect', '-f', '{{.Size}} {{.VirtualSize}}', 'busybox'])).stdout;
      // without -s: no sizes at all
      obs['no-s'] = (await docker(['inspect', '-f', '{{.SizeRw}}', 'sizes-w'])).stdout;
      Object.assign(obs, res(await docker(['ps', '-a', '-s', '--filter', 'name=sizes-', '--format', '{{.Names}} {{.Size}}']), 'ps'));
      await docker(['rm', '-f', 'sizes-w', 'sizes-0', 'sizes-c']);
      return obs;
    },
  },
  {
    name: 'docker inspect fields',
    slow: true,
    run: async (docker, ctx) => {
      const c = await docker([
        'create',
        ...NONE,
        '--name',
        'insp',
        '-e',
        'A=1',
        '--label',
        'x=y',
        '--label',
        'flag',
        '--memory',
        '64m',
        '--restart',
        'on-failure:3',
        '-v',
        `${ctx.hostDir}:/x:ro`,
        '--tmpfs',
        '/t:size=1m',
        '--workdir',
        '/w',
        '--user',
        '1:2',
        '--hostname',
        'hn',
        '--init=false',
        '--stop-signal',
        'SIGUSR2',
        '--stop-timeout',
        '3',
        'busybox',
        'sh',
        '-c',
        'exit 5',
      ]);
      const obs: Obs = { ...res(c, 'create') };
      const fields = [
        '.Name',
        '.Path',
        '.Args',
        '.Config.Env',
        '.Config.Cmd',
        '.Config.Entrypoint',
        '.Config.Labels',
        '.Config.Image',
        '.Config.Hostname',
        '.Config.Domainname',
        '.Config.User',
        '.Config.WorkingDir',
        '.Config.Tty',
        '.Config.OpenStdin',
        '.Config.AttachStdout',
        '.Config.StopSignal',
        '.Config.StopTimeout',
        '.Config.Volumes',
        '.HostConfig.Memory',
        '.HostConfig.MemorySwap',
        '.HostConfig.RestartPolicy',
        '.HostConfig.Binds',
        '.HostConfig.Tmpfs',
        '.HostConfig.NetworkMode',
        '.HostConfig.Privileged',
        '.HostConfig.ReadonlyRootfs',
        '.HostConfig.CapAdd',
        '.HostConfig.CapDrop',
        '.HostConfig.AutoRemove',
        '.HostConfig.LogConfig',
        '.HostConfig.ShmSize',
        '.HostConfig.Runtime',
        '.HostConfig.PidsLimit',
        '.HostConfig.Init',
        '.Mounts',
        '.State',
        '.RestartCount',
        '.Driver',
        '.Platform',
        '.Image',
      ];
      const get = async (prefix: string) => {
        for (const f of fields) obs[`${prefix}${f}`] = (await docker(['inspect', '-f', `{{json ${f}}}`, 'insp'])).stdout;
      };
      await get('created');
      Object.assign(obs, res(await docker(['start', '-a', 'insp']), 'start'));
      // restart policy on-failure:3: wait for the last restart
      for (let i = 0; i < 100; i++) {
        const s = (await docker(['inspect', '-f', '{{.RestartCount}} {{.State.Status}}', 'insp'])).stdout.trim();
        if (s === '3 exited') break;
        await sleep(100);
      }
      for (const f of ['.State', '.RestartCount', '.Mounts'])
        obs[`exited${f}`] = (await docker(['inspect', '-f', `{{json ${f}}}`, 'insp'])).stdout;
      const top = await docker(['inspect', 'insp']);
      obs['keys'] = `${Object.keys((JSON.parse(top.stdout) as object[])[0] ?? {})
        .sort()
        .join(' ')}\n`;
      await docker(['rm', '-f', 'insp']);
      // a container made with no flags at all: the whole Config and HostConfig
      await docker(['create', '--name', 'insp-plain', 'busybox']);
      for (const f of ['.Config', '.HostConfig', '.State', '.Mounts', '.Path', '.Args'])
        obs[`plain${f}`] = (await docker(['inspect', '-f', `{{json ${f}}}`, 'insp-plain'])).stdout;
      await docker(['rm', 'insp-plain']);
      return obs;
    },
  },
  {
    name: 'logs',
    run: async (docker) => {
      const obs: Obs = {};
      await docker(run(['--name', 'lg1'], ['sh', '-c', 'echo a; echo b >&2; sleep 0.2; echo c; printf no-newline']));
      Object.assign(obs, res(await docker(['logs', 'lg1']), 'all'));
      Object.assign(obs, res(await docker(['logs', '--tail', '2', 'lg1']), 'tail'));
      const t = await docker(['logs', '-t', 'lg1']);
      obs['timestamps.stdout'] = t.stdout;
      Object.assign(obs, res(await docker(['logs', 'nosuch']), 'nosuch'));
      await docker(['rm', 'lg1']);
      return obs;
    },
  },
  {
    name: 'docker cp',
    needs: 'GET /containers/nosuch/archive?path=/',
    run: async (docker, ctx) => {
      const obs: Obs = {};
      await docker(['create', ...NONE, '--name', 'cp1', 'busybox', 'true']);
      Object.assign(obs, res(await docker(['cp', join(ctx.hostDir, 'f'), 'cp1:/tmp/']), 'in'));
      const out = mkdtempSync(join(ctx.hostDir, '..', 'cp-'));
      Object.assign(obs, res(await docker(['cp', 'cp1:/tmp/f', join(out, 'back')]), 'out'));
      obs['out.content'] = existsSync(join(out, 'back')) ? readFileSync(join(out, 'back'), 'utf8') : '<no file>';
      Object.assign(obs, res(await docker(['cp', 'cp1:/nonexist', join(out, 'x')]), 'missing'));
      Object.assign(obs, res(await docker(['cp', join(ctx.hostDir, 'f'), 'nosuch:/tmp/']), 'nosuch'));
      await docker(['rm', 'cp1']);
      rmSync(out, { recursive: true, force: true });
      return obs;
    },
  },
  {
    name: 'named volumes',
    needs: 'GET /volumes',
    run: async (docker) => {
      const obs: Obs = {};
      Object.assign(obs, res(await docker(['volume', 'create', 'dv1']), 'create'));
      Object.assign(obs, res(await docker(['volume', 'ls', '--filter', 'name=dv1', '--format', '{{.Name}} {{.Driver}}']), 'ls'));
      Object.assign(
        obs,
        res(await docker(run(['--rm', '-v', 'dv1:/data'], ['sh', '-c', 'echo kept > /data/f; ls -ld /data | cut -c1-10'])), 'write'),
      );
      Object.assign(
        obs,
        res(
          await docker(run(['--name', 'dvuser', '-v', 'dv1:/data:ro'], ['sh', '-c', 'cat /data/f; touch /data/g 2>&1; echo rc=$?'])),
          'read',
        ),
      );
      Object.assign(obs, res(await docker(['volume', 'inspect', '-f', '{{.Name}} {{.Driver}} {{.Scope}} {{.Labels}}', 'dv1']), 'inspect'));
      Object.assign(obs, res(await docker(['volume', 'rm', 'dv1']), 'rm-in-use'));
      await docker(['rm', 'dvuser']);
      Object.assign(obs, res(await docker(['volume', 'rm', 'dv1']), 'rm'));
      Object.assign(obs, res(await docker(['volume', 'rm', 'dv1']), 'rm-again'));
      return obs;
    },
  },
  {
    name: 'images',
    run: async (docker) => {
      const obs: Obs = {};
      Object.assign(obs, res(await docker(['images', '--format', '{{.Repository}}:{{.Tag}} {{.Size}}']), 'list'));
      Object.assign(
        obs,
        res(await docker(['image', 'inspect', '-f', '{{json .Config.Cmd}} {{.Os}} {{.Architecture}} {{.RepoTags}}', 'busybox']), 'inspect'),
      );
      Object.assign(obs, res(await docker(['tag', 'busybox', 'busybox:t2']), 'tag'));
      Object.assign(obs, res(await docker(['rmi', 'busybox:t2']), 'rmi'));
      Object.assign(obs, res(await docker(['rmi', 'nosuchimg']), 'rmi-nosuch'));
      Object.assign(obs, res(await docker(['image', 'inspect', 'nosuchimg']), 'inspect-nosuch'));
      return obs;
    },
  },
  {
    name: 'errors as the CLI shows them',
    slow: true,
    run: async (docker) => {
      const obs: Obs = {};
      await docker(run(['-d', '--name', 'er1'], ['sleep', '1000']));
      await docker(['create', ...NONE, '--name', 'er2', 'busybox', 'true']);
      const e = async (k: string, args: string[]) => Object.assign(obs, res(await docker(args), k));
      await e('name-in-use', ['create', ...NONE, '--name', 'er1', 'busybox']);
      await e('rm-running', ['rm', 'er1']);
      await e('kill-stopped', ['kill', 'er2']);
      await e('pause-stopped', ['pause', 'er2']);
      await e('unpause-running', ['unpause', 'er1']);
      await e('exec-stopped', ['exec', 'er2', 'true']);
      await e('rename-in-use', ['rename', 'er2', 'er1']);
      await e('rename-same', ['rename', 'er2', 'er2']);
      await e('inspect-nosuch', ['inspect', 'nosuch']);
      await e('container-inspect-nosuch', ['container', 'inspect', 'nosuch']);
      await e('rm-nosuch', ['rm', 'nosuch']);
      await e('stop-nosuch', ['stop', 'nosuch']);
      await e('start-nosuch', ['start', 'nosuch']);
      await e('kill-nosuch', ['kill', 'nosuch']);
      await e('wait-nosuch', ['wait', 'nosuch']);
      await e('exec-nosuch', ['exec', 'nosuch', 'true']);
      await e('memory-1k', ['create', ...NONE, '--memory', '1k', 'busybox']);
      await e('runtime-unknown', ['create', ...NONE, '--runtime', 'nosuchrt', 'busybox']);
      await e('restart-bad', ['create', ...NONE, '--restart', 'always:3', 'busybox']);
      await e('bad-name', ['create', ...NONE, '--name', 'a b', 'busybox']);
      await e('image-missing', ['create', ...NONE, '--pull', 'never', 'nosuchimage:1']);
      await e('bind-relative', ['create', ...NONE, '-v', 'rel/path:/x', 'busybox']);
      await e('cpu-shares-negative', ['create', ...NONE, '--cpu-shares', '-1', 'busybox']);
      await e('tmpfs-relative', ['create', ...NONE, '--tmpfs', 'rel', 'busybox']);
      await docker(['rm', '-f', 'er1', 'er2']);
      return obs;
    },
  },
];

// ------------------------------------------------------------------ the test

const skip = berthdUnavailable() ?? dockerdUnavailable();

/** Runs `fn` over `items`, `n` at a time. */
async function pool<T, R>(items: T[], n: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!);
      }
    }),
  );
  return out;
}

const matches = (m: Match, s: string) => (typeof m === 'string' ? m === s : m.test(s));
const edit = (s: string, edits: Edit[] = []) => edits.reduce((acc, [re, to]) => acc.replace(re, to), s);

describe('berthd and dockerd 20.10 give the same answers', { skip, timeout: 240_000 }, () => {
  let berthd: Berthd | undefined;
  let dockerd: Dockerd | undefined;
  let dir: string;
  const results = new Map<string, { berthd: Obs; dockerd: Obs }>();
  const unserved = new Map<string, string>();

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'berth-diff-'));
    const hostDir = join(dir, 'host');
    mkdirSync(hostDir);
    writeFileSync(join(hostDir, 'f'), 'host-file\n');
    const envFile = join(dir, 'env.list');
    writeFileSync(envFile, '# a comment\nFROM_FILE=1\nSPACED=a b  c\nFROM_CLIENT_VIA_FILE\n\nEMPTY=\n');
    const ctx: Ctx = { hostDir, envFile };
    const t0 = Date.now();
    // both started at once; if one fails, the other is still kept (and stopped by `after`)
    const [b, d] = await Promise.allSettled([Berthd.start(), Dockerd.start()]);
    if (b.status === 'fulfilled') berthd = b.value;
    if (d.status === 'fulfilled') dockerd = d.value;
    if (b.status === 'rejected') throw b.reason;
    if (d.status === 'rejected') throw d.reason;
    const t1 = Date.now();
    const clientEnv = { FROM_CLIENT: 'c1', FROM_CLIENT_VIA_FILE: 'c2' };
    const sides = {
      berthd: ((args, o = {}) => berthd!.docker(args, { ...o, env: { ...clientEnv, ...o.env } })) as Docker,
      dockerd: ((args, o = {}) => dockerd!.docker(args, { ...o, env: { ...clientEnv, ...o.env } })) as Docker,
    };
    // routes other parts add to berthd (wired by the integrator): a scenario waits for its route
    for (const s of SCENARIOS) {
      if (!s.needs) continue;
      const [method, path] = s.needs.split(' ') as [string, string];
      const r = await berthd!.api(method, path);
      // an unknown route is dockerd's plain 404 "page not found"; a known one answers about its object
      if (r.status === 404 && /page not found/.test(r.text)) unserved.set(s.name, `berthd does not serve ${s.needs} yet`);
    }
    // the long scenarios first, four at a time (each on both daemons at once)
    const todo = SCENARIOS.filter((s) => !unserved.has(s.name)).sort((a, b) => Number(b.slow ?? false) - Number(a.slow ?? false));
    await pool(todo, 4, async (s) => {
      const t = Date.now();
      // a scenario that throws is an observation too (and does not stop the others)
      const safe = (docker: Docker) => s.run(docker, ctx).catch((err: Error): Obs => ({ thrown: String(err.stack ?? err) }));
      const [b, d] = await Promise.all([safe(sides.berthd), safe(sides.dockerd)]);
      results.set(s.name, { berthd: b, dockerd: d });
      if (process.env.DIFF_SHOW) process.stderr.write(`${s.name}: ${Date.now() - t} ms\n`);
    });
    if (process.env.DIFF_SHOW) process.stderr.write(`daemons up in ${t1 - t0} ms, scenarios in ${Date.now() - t1} ms\n`);
  });

  after(async () => {
    const problems = (await dockerd?.stop()) ?? [];
    await berthd?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
    assert.deepEqual(problems, [], 'the reference dockerd left nothing behind');
  });

  for (const s of SCENARIOS) {
    test(s.name, (t) => {
      const why = unserved.get(s.name);
      if (why) return t.skip(why);
      const r = results.get(s.name);
      assert.ok(r, 'the scenario ran');
      const keys = [...new Set([...Object.keys(r.berthd), ...Object.keys(r.dockerd)])];
      const unlisted: string[] = [];
      for (const k of keys) {
        const key = `${s.name} › ${k}`;
        const b = normalise(r.berthd[k] ?? '<absent>');
        const d = normalise(r.dockerd[k] ?? '<absent>');
        if (process.env.DIFF_SHOW)
          process.stderr.write(`${b === d ? '=' : '≠'} ${key}\n  berthd:  ${JSON.stringify(b)}\n  dockerd: ${JSON.stringify(d)}\n`);
        const allowed = ALLOWED.find((a) => a.key === key && (a.when?.() ?? true));
        if (b === d) {
          assert.equal(allowed, undefined, `${key}: listed as a difference but both give ${JSON.stringify(b)}: remove it from ALLOWED`);
          continue;
        }
        if (!allowed) {
          unlisted.push(`${key}\n    berthd:  ${JSON.stringify(b)}\n    dockerd: ${JSON.stringify(d)}`);
          continue;
        }
        if (allowed.berthd !== undefined)
          assert.ok(matches(allowed.berthd, b), `${key}: berthd gives ${JSON.stringify(b)}, the table says ${allowed.berthd}`);
        if (allowed.dockerd !== undefined)
          assert.ok(matches(allowed.dockerd, d), `${key}: dockerd gives ${JSON.stringify(d)}, the table says ${allowed.dockerd}`);
        if (allowed.berthdEdits || allowed.dockerdEdits)
          assert.equal(
            edit(b, allowed.berthdEdits),
            edit(d, allowed.dockerdEdits),
            `${key}: the listed edits do not explain the difference`,
          );
      }
      assert.deepEqual(unlisted, [], `differences not in ALLOWED:\n  ${unlisted.join('\n  ')}`);
    });
  }

  test('every ALLOWED entry names an observation', () => {
    const known = new Set<string>();
    for (const [name, r] of results) for (const k of [...Object.keys(r.berthd), ...Object.keys(r.dockerd)]) known.add(`${name} › ${k}`);
    assert.deepEqual(
      ALLOWED.filter((a) => !known.has(a.key) && !unserved.has(a.key.split(' › ')[0]!)).map((a) => a.key),
      [],
    );
  });
});
