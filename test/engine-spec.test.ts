/**
 * src/engine/spec against Debian's dockerd 20.10: the same create requests, field by field.
 *
 * The test starts dockerd (its own --data-root, --exec-root, --pidfile, socket, cgroup parent;
 * no iptables, no bridge, vfs) with a runtime `capture` — a shell script that copies the bundle's
 * config.json aside on `create` and execs runc — and puts a small HTTP proxy in front of its
 * socket, so that the create bodies the docker CLI sends are on record. For each case of a matrix
 * of `docker create` flags it creates and starts a container (`sleep`), then compares:
 *  - dockerd's `docker inspect` Config with mergeConfig() of the image's config and that body;
 *  - the config.json dockerd handed to runc with buildSpec() for the same body.
 * For started containers it also checks that the captured file is the one in dockerd's
 * containerd bundle (<exec-root>/containerd/daemon/io.containerd.runtime.v2.task/moby/<id>).
 *
 * Host facts are inputs of buildSpec, so they are taken from the host (kernel, arch, /dev/null's
 * stat) or, where they are dockerd's choice of a host path, from dockerd's spec (rootfs, the
 * container's hosts/hostname/resolv.conf files, the --privileged device list). What differs by
 * design is listed in IGNORED and SECCOMP_DELTA below, each with its reason.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import http from 'node:http';
import { availableParallelism, release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { mountPoints, specMounts } from '../src/engine/spec/binds.js';
import { decodeCreateBody, validateCreate } from '../src/engine/spec/create-config.js';
import { mergeConfig } from '../src/engine/spec/merge.js';
import { buildSpec, type HostDevice } from '../src/engine/spec/oci-spec.js';
import { dockerDefaultSeccompProfile } from '../src/engine/spec/seccomp-default.js';
import type { Spec } from '../src/oci/spec.js';
import { nativeSeccompArch } from '../src/runtime/seccomp/arch.js';
import { unmountUnder } from './helpers/bundle.js';
import { CONTAINERD_FIXED_PATHS, Daemon, HostTraces, killShims, needsBinaries, removeCgroupTree, shimSocket } from './helpers/daemon.js';
import { needsRoot } from './helpers/requires.js';
import { describeResult, type RunResult, runCommand } from './helpers/runtime.js';

const DOCKER = '/usr/bin/docker';
const skip =
  needsRoot() ??
  needsBinaries('dockerd', 'containerd', 'containerd-shim-runc-v2', 'runc', 'tar') ??
  (existsSync(DOCKER) ? undefined : "needs Debian's docker client (/usr/bin/docker)") ??
  (existsSync('/bin/busybox') ? undefined : 'needs busybox-static (/bin/busybox)');

const GUARD = 60_000;

/**
 * Fields of dockerd's spec that ours leaves out or sets otherwise on purpose, with the reason.
 * Paths are JSON paths as diff() prints them.
 */
const IGNORED: Record<string, string> = {
  hooks: "dockerd's libnetwork-setkey prestart hook wires its networking; Berth's networking is not a hook",
};

/** Masked paths: ours adds one that moby added after 20.10 (CVE-2020-8694, powercap energy counters). */
const EXTRA_MASKED = ['/sys/devices/virtual/powercap'];

/**
 * The default seccomp profile: ours is moby's newer one (seccomp-default.ts); dockerd 20.10
 * embeds an older one. Each rule is flattened to action|errnoRet|args|name; these are the only
 * differences allowed, with why.
 */
const SECCOMP_DELTA: Record<string, string> = {
  'SCMP_ACT_ALLOW|-|-|socket': '20.10 allows every socket family; the newer profile refuses AF_VSOCK (rule below)',
  'SCMP_ACT_ALLOW|-|[{"index":0,"value":40,"op":"SCMP_CMP_NE"}]|socket': 'the newer profile: socket() unless AF_VSOCK (40)',
  'SCMP_ACT_ALLOW|-|-|name_to_handle_at':
    'the newer profile allows name_to_handle_at to every container (20.10: with CAP_SYS_ADMIN or CAP_DAC_READ_SEARCH)',
  'SCMP_ACT_ALLOW|-|-|process_vm_readv': 'the newer profile allows it on kernels >= 4.8 (20.10: only with CAP_SYS_PTRACE)',
  'SCMP_ACT_ALLOW|-|-|process_vm_writev': 'the newer profile allows it on kernels >= 4.8 (20.10: only with CAP_SYS_PTRACE)',
  'SCMP_ACT_ALLOW|-|-|clock_settime64': 'the newer profile: also the 64-bit-time variant with CAP_SYS_TIME',
  'SCMP_ACT_ALLOW|-|-|set_mempolicy_home_node': 'the newer profile: the syscall of Linux 5.17 with CAP_SYS_NICE',
  'SCMP_ACT_ALLOW|-|-|pkey_alloc': 'memory protection keys: allowed by the newer profile',
  'SCMP_ACT_ALLOW|-|-|pkey_free': 'memory protection keys: allowed by the newer profile',
  'SCMP_ACT_ALLOW|-|-|pkey_mprotect': 'memory protection keys: allowed by the newer profile',
};
const SECCOMP_TOP_DELTA = 'defaultErrnoRet: the newer profile states EPERM (1) explicitly, 20.10 leaves it to the runtime default (EPERM)';

/** Every difference between a and b, as "path: a → b" lines. */
function diff(a: unknown, b: unknown, path = ''): string[] {
  if (JSON.stringify(a) === JSON.stringify(b)) return [];
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return [`${path}: ${JSON.stringify(a)} → ${JSON.stringify(b)}`];
    return a.flatMap((x, i) => diff(x, b[i], `${path}[${i}]`));
  }
  if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    return [...keys].flatMap((k) => diff((a as any)[k], (b as any)[k], path ? `${path}.${k}` : k));
  }
  return [`${path}: ${JSON.stringify(a)} → ${JSON.stringify(b)}`];
}

function flattenSeccomp(s: any): Set<string> {
  const out = new Set<string>();
  for (const r of s?.syscalls ?? [])
    for (const n of r.names ?? []) out.add(`${r.action}|${r.errnoRet ?? '-'}|${r.args?.length ? JSON.stringify(r.args) : '-'}|${n}`);
  return out;
}

interface Case {
  name: string;
  flags: string[];
  image?: 'base' | 'fancy';
  cmd?: string[];
  /** dockerd's runc cannot start it in this sandbox (e.g. it lacks capabilities to grant): compare the spec only. */
  mayNotStart?: boolean;
  /** Compare seccomp exactly (dockerd converted our profile itself). */
  exactSeccomp?: boolean;
  /** --network (default: none). */
  network?: string;
}

describe('engine spec: ours against dockerd 20.10, field by field', { skip, timeout: 120_000 }, () => {
  const run = randomBytes(4).toString('hex');
  const cgroupParent = `/berth-test-spec-${run}`;
  let dir: string;
  let dockerSock: string;
  let proxySock: string;
  let dockerd: Daemon | undefined;
  let proxy: http.Server | undefined;
  let traces: HostTraces | undefined;
  const createBodies = new Map<string, unknown>();
  const created: string[] = [];
  let env: NodeJS.ProcessEnv;

  const docker = (args: readonly string[], sock = proxySock): Promise<RunResult> =>
    runCommand([DOCKER, ...args], { guardMs: GUARD, env: { ...env, DOCKER_HOST: `unix://${sock}` } });
  const mustDocker = async (args: readonly string[], sock?: string): Promise<RunResult> => {
    const r = await docker(args, sock);
    assert.equal(r.code, 0, `${describeResult(r)}\n${dockerd?.logTail(10) ?? ''}`);
    return r;
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'berth-engine-spec-'));
    traces = new HostTraces([...CONTAINERD_FIXED_PATHS, '/run/docker', '/run/docker/plugins', '/etc/docker', '/etc/docker/key.json']);
    dockerSock = join(dir, 'docker.sock');
    proxySock = join(dir, 'proxy.sock');
    mkdirSync(join(dir, 'docker-config'));
    mkdirSync(join(dir, 'captured'));
    mkdirSync(join(dir, 'bindsrc'));
    mkdirSync(join(dir, 'bindsrc2'));
    env = {
      DOCKER_CONFIG: join(dir, 'docker-config'),
      DOCKER_CONTEXT: undefined,
      DOCKER_TLS_VERIFY: undefined,
      DOCKER_CERT_PATH: undefined,
    };

    const capture = join(dir, 'capture');
    writeFileSync(
      capture,
      [
        '#!/bin/sh',
        '# keep a copy of the config.json handed to the runtime on create, then run runc',
        'prev=""',
        `for a in "$@"; do if [ "$prev" = "--bundle" ]; then cp "$a/config.json" "${join(dir, 'captured')}/$(basename "$a").json"; fi; prev="$a"; done`,
        'exec /usr/sbin/runc "$@"',
        '',
      ].join('\n'),
    );
    chmodSync(capture, 0o755);
    const daemonJson = join(dir, 'daemon.json');
    writeFileSync(daemonJson, `${JSON.stringify({ 'deprecated-key-path': join(dir, 'key.json') })}\n`);
    dockerd = await Daemon.start(
      [
        '/usr/sbin/dockerd',
        '--config-file',
        daemonJson,
        '--data-root',
        join(dir, 'data'),
        '--exec-root',
        join(dir, 'exec'),
        '--pidfile',
        join(dir, 'dockerd.pid'),
        '-H',
        `unix://${dockerSock}`,
        '--iptables=false',
        '--ip6tables=false',
        '--bridge=none',
        '--storage-driver=vfs',
        '--cgroup-parent',
        cgroupParent,
        '--add-runtime',
        `capture=${capture}`,
      ],
      { socket: dockerSock, logFile: join(dir, 'dockerd.log'), guardMs: GUARD },
    );

    // The proxy: every request forwarded as is; create bodies kept by container name.
    proxy = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        const url = new URL(req.url ?? '/', 'http://docker');
        if (req.method === 'POST' && /\/containers\/create$/.test(url.pathname))
          createBodies.set(url.searchParams.get('name') ?? '', JSON.parse(body.toString('utf8')));
        const fwd = http.request({ socketPath: dockerSock, method: req.method, path: req.url, headers: req.headers }, (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        });
        fwd.on('error', (e) => {
          res.writeHead(502);
          res.end(String(e));
        });
        fwd.end(body);
      });
    });
    await new Promise<void>((resolve) => proxy!.listen(proxySock, resolve));

    // Images: a busybox rootfs with applets, /etc/passwd and /etc/group, imported twice.
    const rootfs = join(dir, 'rootfs');
    mkdirSync(join(rootfs, 'bin'), { recursive: true });
    mkdirSync(join(rootfs, 'etc'));
    mkdirSync(join(rootfs, 'tmp'));
    copyFileSync('/bin/busybox', join(rootfs, 'bin', 'busybox'));
    chmodSync(join(rootfs, 'bin', 'busybox'), 0o755);
    for (const a of ['sh', 'sleep', 'id', 'cat', 'ls']) symlinkSync('busybox', join(rootfs, 'bin', a));
    writeFileSync(join(rootfs, 'etc', 'passwd'), PASSWD);
    writeFileSync(join(rootfs, 'etc', 'group'), GROUP);
    const tar = join(dir, 'rootfs.tar');
    const t = await runCommand(['tar', '-C', rootfs, '-cf', tar, '.'], { guardMs: GUARD });
    assert.equal(t.code, 0, describeResult(t));
    await mustDocker(['import', '-c', 'CMD ["/bin/sh"]', '-c', 'ENV FOO=bar', tar, 'spec-base'], dockerSock);
    await mustDocker(
      [
        'import',
        ...['-c', 'ENTRYPOINT ["/bin/sh", "-c"]', '-c', 'CMD ["exec sleep 1000"]', '-c', 'ENV PATH=/bin:/usr/bin HOME=/home/app FOO=img'],
        ...['-c', 'USER app', '-c', 'WORKDIR /tmp', '-c', 'LABEL a=1 b=2', '-c', 'EXPOSE 80', '-c', 'VOLUME /data'],
        tar,
        'spec-fancy',
      ],
      dockerSock,
    );
  });

  after(async () => {
    if (dir === undefined) return;
    const problems: string[] = [];
    if (dockerd !== undefined && !dockerd.exited) {
      const ps = await docker(['ps', '--all', '--quiet', '--no-trunc'], dockerSock).catch(() => undefined);
      const ids = ps?.stdout.split('\n').filter(Boolean) ?? [];
      if (ids.length > 0) await docker(['rm', '--force', ...ids], dockerSock).catch(() => undefined);
    }
    await new Promise<void>((resolve) => (proxy ? proxy.close(() => resolve()) : resolve()));
    await dockerd?.stop();
    // dockerd ran its own containerd (under the exec root); its shims should be gone with the containers
    const address = join(dir, 'exec', 'containerd', 'containerd.sock');
    const shims = await killShims(address, 10_000);
    if (shims.length > 0) problems.push(`shims left running (killed): ${shims.join(' ')}`);
    for (const id of created) rmSync(shimSocket(address, 'moby', id), { force: true });
    unmountUnder(dir);
    const cg = await removeCgroupTree(cgroupParent);
    if (cg.length > 0) problems.push(`cgroups not removed: ${cg.join(' ')}`);
    const left = traces?.remove() ?? [];
    if (left.length > 0) process.stderr.write(`engine-spec.test.ts: not removed (not empty, shared): ${left.join(' ')}\n`);
    rmSync(dir, { recursive: true, force: true });
    assert.deepEqual(problems, [], 'engine-spec.test.ts: leftovers (removed now)');
  });

  const SLEEP = ['/bin/sleep', '1000'];
  const nullStat = statSync('/dev/null');
  const cases: Case[] = [
    { name: 'default', flags: [] },
    { name: 'caps', flags: ['--cap-add', 'sys_admin', '--cap-add', 'CAP_NET_ADMIN', '--cap-drop', 'kill', '--cap-drop', 'Cap_Chown'] },
    { name: 'caps-drop-all', flags: ['--cap-drop', 'ALL', '--cap-add', 'net_bind_service'] },
    { name: 'caps-add-all', flags: ['--cap-add', 'ALL', '--cap-drop', 'MKNOD'], mayNotStart: true },
    { name: 'caps-add-default', flags: ['--cap-add', 'CHOWN'] },
    { name: 'privileged', flags: ['--privileged'], mayNotStart: true },
    { name: 'tty-env', flags: ['-t', '-e', 'A=1', '-e', 'FOO=override', '-e', 'PATH=/custom:/bin', '-e', 'UNSET_ME'] },
    { name: 'fancy-image', flags: [], image: 'fancy', cmd: [] },
    { name: 'entrypoint', flags: ['--entrypoint', '/bin/sleep'], image: 'fancy', cmd: ['1000'] },
    { name: 'entrypoint-empty', flags: ['--entrypoint', ''], image: 'fancy', cmd: SLEEP },
    { name: 'user-name', flags: ['-u', 'app', '--group-add', 'staff', '-w', '/tmp/../tmp/'] },
    { name: 'user-group', flags: ['-u', 'app:staff'] },
    { name: 'user-numeric', flags: ['-u', '4242:4343', '-w', '/'] },
    { name: 'user-root-image-user', flags: ['-u', '0'], image: 'fancy', cmd: [] },
    {
      name: 'resources',
      flags: [
        ...['--memory', '64m', '--memory-reservation', '32m', '--memory-swap', '128m', '--cpus', '1.5', '--cpu-shares', '512'],
        ...['--cpuset-cpus', '0', '--pids-limit', '50', '--oom-score-adj', '100'],
      ],
    },
    {
      name: 'resources-unlimited',
      flags: ['--memory', '32m', '--memory-swap', '-1', '--pids-limit', '-1', '--cpu-period', '50000', '--cpu-quota', '25000'],
    },
    {
      name: 'hardening',
      flags: [
        ...[
          '--read-only',
          '--security-opt',
          'no-new-privileges',
          '--shm-size',
          '32m',
          '--ulimit',
          'nofile=100:200',
          '--ulimit',
          'nproc=50:60',
        ],
        ...['--sysctl', 'net.ipv4.ip_forward=1', '--sysctl', 'kernel.shmmax=1000000', '--hostname', 'h1', '--domainname', 'example.org'],
      ],
    },
    {
      name: 'device',
      flags: ['--device', '/dev/null:/dev/mynull:rw', '--device-cgroup-rule', 'c 42:* rmw', '--device-cgroup-rule', 'b 8:1 r'],
    },
    { name: 'host-namespaces', flags: ['--pid', 'host', '--ipc', 'host', '--uts', 'host'] },
    { name: 'ipc-none', flags: ['--ipc', 'none'] },
    { name: 'tmpfs', flags: ['--tmpfs', '/run:size=1m,exec,mode=1770', '--tmpfs', '/a/b', '--read-only'] },
    {
      name: 'binds-and-mounts',
      flags: [
        ...['-v', 'DIR/bindsrc:/mnt/x:ro', '-v', 'DIR/bindsrc/../bindsrc2/:/y', '-v', 'namedvol:/v/o/l/u/named:nocopy'],
        ...['--mount', 'type=bind,source=DIR/bindsrc,target=/a/b/z,readonly,bind-nonrecursive'],
        ...['--mount', 'type=tmpfs,target=/q/r/s/t,tmpfs-size=1048576,tmpfs-mode=1770'],
      ],
    },
    { name: 'network-host', flags: [], network: 'host' },
    { name: 'cgroup-parent', flags: ['--cgroup-parent', `${cgroupParent}/sub`, '--blkio-weight', '300'], mayNotStart: true },
    {
      name: 'systempaths',
      flags: ['--security-opt', 'systempaths=unconfined', '--oom-kill-disable', '--memory', '32m', '--memory-swappiness', '10'],
    },
    {
      name: 'labels-ports-volumes',
      flags: ['-l', 'b=3', '-l', 'c=4', '--expose', '81', '-v', '/anon', '--stop-signal', 'SIGUSR1'],
      image: 'fancy',
      cmd: [],
    },
    {
      name: 'privileged-device',
      flags: ['--privileged', '--device', '/dev/null:/dev/mynull:r', '--cap-drop', 'ALL', '-u', 'app'],
      mayNotStart: true,
    },
    { name: 'seccomp-unconfined', flags: ['--security-opt', 'seccomp=unconfined'] },
    { name: 'seccomp-ours', flags: ['--security-opt', 'seccomp=PROFILE'], exactSeccomp: true },
    {
      name: 'seccomp-ours-caps',
      flags: ['--cap-add', 'SYS_ADMIN', '--cap-add', 'SYS_PTRACE', '--security-opt', 'seccomp=PROFILE'],
      exactSeccomp: true,
    },
  ];

  test('the matrix: inspect Config and the runtime spec match ours', async () => {
    const profileFile = join(dir, 'seccomp-ours.json');
    writeFileSync(profileFile, JSON.stringify(dockerDefaultSeccompProfile));
    const imageConfig = async (image: string) =>
      JSON.parse((await mustDocker(['image', 'inspect', '-f', '{{json .Config}}', image])).stdout);
    const images = { base: await imageConfig('spec-base'), fancy: await imageConfig('spec-fancy') };
    const failures: string[] = [];
    const notes: string[] = [];

    for (const k of cases) {
      const name = `spec-${k.name}-${run}`;
      const image = k.image ?? 'base';
      const flags = k.flags.map((f) => (f === 'seccomp=PROFILE' ? `seccomp=${profileFile}` : f.replaceAll('DIR', dir)));
      const cr = await mustDocker([
        'create',
        '--name',
        name,
        '--runtime',
        'capture',
        '--network',
        'none',
        ...flags,
        `spec-${image}`,
        ...(k.cmd ?? SLEEP),
      ]);
      const id = cr.stdout.trim();
      created.push(id);
      const started = await docker(['start', name]);
      if (started.code !== 0 && !k.mayNotStart) failures.push(`${k.name}: dockerd could not start it: ${started.stderr.trim()}`);
      const capturedPath = join(dir, 'captured', `${id}.json`);
      if (!existsSync(capturedPath)) {
        failures.push(`${k.name}: no config.json reached the runtime (${started.stderr.trim()})`);
        continue;
      }
      const theirs = JSON.parse(readFileSync(capturedPath, 'utf8')) as Spec;
      if (started.code === 0) {
        const bundle = join(dir, 'exec', 'containerd', 'daemon', 'io.containerd.runtime.v2.task', 'moby', id, 'config.json');
        assert.deepEqual(JSON.parse(readFileSync(bundle, 'utf8')), theirs, `${k.name}: the captured config.json is the bundle's`);
      }
      const inspected = JSON.parse((await mustDocker(['inspect', '-f', '{{json .Config}}', id])).stdout);

      // ---- ours, from the very body the CLI sent ----
      const body = createBodies.get(name);
      assert.ok(body, `${k.name}: the proxy saw the create body`);
      const req = decodeCreateBody(body);
      const blkioWeight = existsSync('/sys/fs/cgroup/blkio/blkio.weight') || existsSync('/sys/fs/cgroup/io.weight');
      validateCreate(req, { ncpu: 2, blkioWeight });
      const merged = mergeConfig({
        image: images[image],
        request: req.config,
        id,
      });
      for (const f of [
        'Hostname',
        'Domainname',
        'User',
        'Env',
        'Cmd',
        'Entrypoint',
        'WorkingDir',
        'Labels',
        'ExposedPorts',
        'Volumes',
        'StopSignal',
        'Tty',
        'Image',
      ] as const) {
        const a = inspected[f] ?? null;
        const b = (merged as any)[f] ?? null;
        const empty = (v: unknown) => v === null || v === '' || (typeof v === 'object' && Object.keys(v as object).length === 0);
        if (JSON.stringify(a) !== JSON.stringify(b) && !(empty(a) && empty(b)))
          failures.push(`${k.name}: Config.${f}: dockerd ${JSON.stringify(a)}, ours ${JSON.stringify(b)}`);
      }

      const byDest = (d: string) => theirs.mounts?.find((m) => m.destination === d)?.source ?? '';
      const deviceInfo: Record<string, HostDevice> = {
        '/dev/null': { type: 'c', major: 1, minor: 3, fileMode: nullStat.mode & 0o777, uid: nullStat.uid, gid: nullStat.gid },
      };
      // Volumes are the engine's storage layer: their host directories come from dockerd's spec.
      const volumeMounts = (theirs.mounts ?? []).filter((m) => Object.hasOwn(merged.Volumes ?? {}, m.destination));
      assert.equal(volumeMounts.length, Object.keys(merged.Volumes ?? {}).length, `${k.name}: dockerd mounted every volume`);
      // -v and --mount: parsed by ours; a named volume's directory is the volume layer's (dockerd's here).
      const points = mountPoints(req.hostConfig.Binds ?? [], req.hostConfig.Mounts ?? [], existsSync);
      const bindsAndMounts = specMounts(points, (mp) => theirs.mounts?.find((m) => m.destination === mp.destination)?.source ?? '');
      const ours = buildSpec({
        extraMounts: [...volumeMounts, ...bindsAndMounts],
        id,
        config: merged,
        hostConfig: req.hostConfig,
        rootfs: theirs.root?.path ?? '', // dockerd's vfs directory: its host path by design
        hostsPath: byDest('/etc/hosts'),
        hostnamePath: byDest('/etc/hostname'),
        resolvConfPath: byDest('/etc/resolv.conf'),
        passwd: PASSWD,
        group: GROUP,
        host: {
          arch: nativeSeccompArch(),
          kernel: release(),
          // dockerd 20.10's capability table ends at CAP_AUDIT_READ (37); ours knows up to 40
          lastCap: 37,
          // the host's /dev walk is the engine's effect; taken from dockerd's enumeration
          devices: (theirs.linux?.devices ?? [])
            .filter((d) => !(req.hostConfig.Devices ?? []).some((m) => m.PathInContainer === d.path && m.PathOnHost !== d.path))
            .map((d) => ({
              path: d.path,
              device: {
                type: d.type as 'c',
                major: d.major ?? 0,
                minor: d.minor ?? 0,
                fileMode: d.fileMode ?? 0,
                uid: d.uid ?? 0,
                gid: d.gid ?? 0,
              },
            })),
          deviceInfo,
          cgroupParent,
          blkioWeight,
        },
      });

      // ---- compare ----
      const a = structuredClone(theirs) as any;
      const b = structuredClone(ours) as any;
      for (const f of Object.keys(IGNORED)) {
        delete a[f];
        delete b[f];
      }
      if (b.linux?.maskedPaths) {
        for (const p of EXTRA_MASKED) assert.ok(b.linux.maskedPaths.includes(p), `${k.name}: ours masks ${p}`);
        b.linux.maskedPaths = b.linux.maskedPaths.filter((p: string) => !EXTRA_MASKED.includes(p));
      }
      const sa = a.linux?.seccomp;
      const sb = b.linux?.seccomp;
      if (a.linux) delete a.linux.seccomp;
      if (b.linux) delete b.linux.seccomp;
      if (k.exactSeccomp) {
        // dockerd 20.10 does not know defaultErrnoRet and drops it (its default is EPERM anyway)
        assert.equal(sb?.defaultErrnoRet, 1, `${k.name}: ours states EPERM as the default errno`);
        for (const d of diff(sa, { ...sb, defaultErrnoRet: undefined }, 'linux.seccomp')) failures.push(`${k.name}: ${d}`);
      } else if (sa || sb) {
        if (!sa || !sb) failures.push(`${k.name}: linux.seccomp present on one side only (dockerd ${!!sa}, ours ${!!sb})`);
        else {
          const fa = flattenSeccomp(sa);
          const fb = flattenSeccomp(sb);
          const delta = [...fa].filter((x) => !fb.has(x)).concat([...fb].filter((x) => !fa.has(x)));
          for (const d of delta) if (!(d in SECCOMP_DELTA)) failures.push(`${k.name}: seccomp rule differs: ${d}`);
          for (const d of diff({ ...sa, syscalls: undefined }, { ...sb, syscalls: undefined, defaultErrnoRet: undefined }, 'linux.seccomp'))
            failures.push(`${k.name}: ${d}`);
          if (sb.defaultErrnoRet !== undefined) notes.push(SECCOMP_TOP_DELTA);
        }
      }
      for (const d of diff(a, b)) failures.push(`${k.name}: ${d}`);
    }
    if (notes.length > 0) process.stderr.write(`engine-spec: accepted: ${[...new Set(notes)].join('; ')}\n`);
    assert.deepEqual(failures, [], `differences from dockerd (path: dockerd → ours):\n${failures.join('\n')}`);
  });

  test('refusals: dockerd and ours refuse the same bodies with the same text', async () => {
    const refused: { name: string; flags: string[]; cmd?: string[] }[] = [
      { name: 'memory-too-small', flags: ['--memory', '4m'] },
      { name: 'swap-below-memory', flags: ['--memory', '64m', '--memory-swap', '32m'] },
      { name: 'reservation-above-memory', flags: ['--memory', '64m', '--memory-reservation', '128m'] },
      { name: 'cpus-range', flags: ['--cpus', '64'] },
      { name: 'oom-score', flags: ['--oom-score-adj', '1001'] },
      { name: 'workdir-relative', flags: ['-w', 'rel'] },
      { name: 'no-command', flags: ['--entrypoint', ''], cmd: [] },
      { name: 'cap-unknown', flags: ['--cap-add', 'NOT_A_CAP'] },
      { name: 'cap-drop-unknown', flags: ['--cap-drop', 'cap_nope'] },
      { name: 'cpu-period', flags: ['--cpu-period', '999'] },
      { name: 'cpu-quota', flags: ['--cpu-quota', '999'] },
      { name: 'cpus-and-period', flags: ['--cpus', '1', '--cpu-period', '100000'] },
      { name: 'security-opt', flags: ['--security-opt', 'foo=bar'] },
      { name: 'restart-unknown', flags: ['--restart', 'sometimes'] },
      { name: 'restart-count', flags: ['--restart', 'always:3'] },
      { name: 'health-interval', flags: ['--health-cmd', 'true', '--health-interval', '1us'] },
      { name: 'cpuset-bad', flags: ['--cpuset-cpus', 'abc'] },
      { name: 'cpuset-unavailable', flags: ['--cpuset-cpus', '0-63'] },
      { name: 'security-opt-nnp', flags: ['--security-opt', 'no-new-privileges=maybe'] },
    ];
    const mismatches: string[] = [];
    for (const r of refused) {
      const name = `spec-bad-${r.name}-${run}`;
      const res = await docker(['create', '--name', name, '--network', 'none', ...r.flags, 'spec-base', ...(r.cmd ?? SLEEP)]);
      const theirs = /Error response from daemon: (.*)$/m.exec(res.stderr)?.[1]?.trim();
      const body = createBodies.get(name);
      let ours: string | undefined;
      try {
        const req = decodeCreateBody(body);
        validateCreate(req, { ncpu: availableParallelism(), cpus: readFileSync('/sys/devices/system/cpu/online', 'utf8').trim() });
        const merged = mergeConfig({ image: undefined, request: req.config, id: 'x'.repeat(64) });
        buildSpec({
          id: 'x'.repeat(64),
          config: merged,
          hostConfig: req.hostConfig,
          rootfs: '/r',
          hostsPath: '/h',
          hostnamePath: '/n',
          resolvConfPath: '/c',
          host: { arch: nativeSeccompArch(), kernel: release() },
        });
      } catch (e) {
        ours = (e as Error).message;
      }
      if (res.code === 0) mismatches.push(`${r.name}: dockerd accepted it`);
      else if (body === undefined) mismatches.push(`${r.name}: the CLI refused it itself: ${res.stderr.trim()}`);
      if (theirs !== ours) mismatches.push(`${r.name}: dockerd "${theirs}", ours "${ours}"`);
    }
    assert.deepEqual(mismatches, []);
  });
});

const PASSWD = [
  'root:x:0:0:root:/root:/bin/sh',
  'app:x:1000:1000:app:/home/app:/bin/sh',
  'nobody:x:65534:65534:nobody:/nonexistent:/bin/false',
  '',
].join('\n');
const GROUP = ['root:x:0:', 'audio:x:29:app,root', 'staff:x:50:', 'app:x:1000:app', 'nogroup:x:65534:', ''].join('\n');
