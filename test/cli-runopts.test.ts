/**
 * Golden tests of containerCreateRequest against the real v28 client: each case runs
 * `/usr/local/bin/docker create <args>` against a recorder that answers the ping and records the
 * body of POST /containers/create (test/helpers/create-recorder.ts), then compares that body and
 * the name/platform query parameters with what berth builds from the same arguments. Refusals
 * compare the text and exit status the CLI prints with berth's error.
 *
 * Two normalizations, both because the docker CLI itself is not deterministic there: -e values
 * pass through a Go map (ParseProxyConfig) and -v values through another (GetMap), so Env and
 * HostConfig.Binds are compared as sorted lists.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ContainerOptionsError, containerCreateRequest, createFlags, runFlags } from '../src/cli/commands/containers/options.js';
import { parseTestFlags } from '../src/cli/commands/containers/options-testflags.js';
import { CliError, UsageError } from '../src/cli/types.js';
import { type CreateRecorder, startCreateRecorder } from './helpers/create-recorder.js';

const DOCKER = '/usr/local/bin/docker';
const skip = existsSync(DOCKER) ? false : `${DOCKER} (the v28 client) is not installed`;

let rec: CreateRecorder;
let files: string;
const ENV = { FOO: 'fromenv', BAR: 'b a r' };

function normalize(body: unknown): unknown {
  const b = structuredClone(body) as { Env: string[] | null; HostConfig: { Binds: string[] | null } };
  if (b.Env) b.Env.sort();
  if (b.HostConfig.Binds) b.HostConfig.Binds.sort();
  return b;
}

function ours(args: string[], cwd: string) {
  const { flags, args: rest } = parseTestFlags(createFlags, args);
  return containerCreateRequest(flags, rest, {
    readFile: (p) => readFileSync(p),
    env: ENV,
    cwd,
    command: 'create',
    prog: 'docker',
    apiSocket: rec.socket,
  });
}

async function golden(args: string[]) {
  const got = await rec.create([...args], ENV);
  const cwd = dirname(rec.socket);
  let mine: ReturnType<typeof ours> | undefined;
  let err: unknown;
  try {
    mine = ours(args, cwd);
  } catch (e) {
    err = e;
  }
  if (got.code !== 0) {
    assert.ok(err, `docker refused (${got.code}: ${got.stderr.trim()}) but berth accepted`);
    const e = err as CliError;
    assert.ok(e instanceof CliError, `not a CliError: ${String(err)}`);
    assert.equal(e.exitCode, got.code, `exit status for ${args.join(' ')}`);
    if (e instanceof UsageError) {
      assert.equal(got.stderr.split('\n')[0], e.message);
      assert.match(got.stderr, /\nUsage: {2}docker create/);
    } else {
      assert.equal(got.stderr.trimEnd(), e.message.trimEnd());
    }
    return;
  }
  if (err) throw err;
  assert.ok(got.request, 'docker sent no create');
  assert.ok(mine);
  assert.deepEqual(normalize(mine.body), normalize(got.request.body));
  assert.equal(mine.name, got.request.query.name);
  assert.equal(mine.platform, got.request.query.platform);
}

const cases: [string, string[]][] = [
  ['just an image', ['busybox']],
  ['command and args', ['busybox', 'sh', '-c', 'echo hi; exit 3']],
  ['name and platform', ['--name', 'c1', '--platform', 'linux/amd64', 'busybox']],
  ['platform normalized', ['--platform', 'linux/x86_64', 'busybox']],
  ['platform arm', ['--platform', 'linux/arm', 'busybox']],
  ['platform arch only', ['--platform', 'arm64', 'busybox']],
  ['platform arm variant', ['--platform', 'linux/arm/7', 'busybox']],
  ['platform upper case', ['--platform', 'Linux/AMD64', 'busybox']],
  ['platform arm64/v8', ['--platform', 'linux/arm64/v8', 'busybox']],
  ['platform too many parts', ['--platform', 'x/y/z/w', 'busybox']],
  ['platform unknown', ['--platform', 'bogus', 'busybox']],
  ['-it', ['-it', 'busybox', 'sh']],
  ['-i with -a stdout', ['-i', '-a', 'stdout', 'busybox']],
  ['-a stdin -a STDERR', ['-a', 'stdin', '-a', 'STDERR', 'busybox']],
  ['-a bogus', ['-a', 'bogus', 'busybox']],
  ['env', ['-e', 'A=1', '-e', 'FOO', '-e', 'NOPE', '-e', 'D=', '-e', 'A=2', 'busybox']],
  ['env empty name', ['-e', '=x', 'busybox']],
  ['env-file', ['--env-file', 'ENVFILE', '-e', 'Z=2', 'busybox']],
  ['env-file missing', ['--env-file', '/nonexistent/env', 'busybox']],
  ['env-file bad key', ['--env-file', 'BADENV', 'busybox']],
  ['env-file not utf-8', ['--env-file', 'BADUTF8', 'busybox']],
  ['env-file is a directory', ['--env-file', 'FILESDIR', 'busybox']],
  ['label-file bad key', ['--label-file', 'BADENV', 'busybox']],
  ['labels', ['-l', 'a=b', '-l', 'c', '--label-file', 'LABELFILE', '-l', 'l1=over', 'busybox']],
  ['label empty', ['-l', ' ', 'busybox']],
  ['label with space', ['-l', 'a b=c', 'busybox']],
  ['volumes', ['-v', '/tmp:/data:ro', '-v', '/anon', '-v', 'named:/n', '-v', './rel:/r', 'busybox']],
  ['volume too many colons', ['-v', '/a:/b:ro:x', 'busybox']],
  [
    'mounts',
    [
      '--mount',
      'type=bind,src=/tmp,dst=/x,readonly,bind-propagation=rshared',
      '--mount',
      'type=volume,source=v1,target=/v,volume-opt=a=b,volume-nocopy',
      '--mount',
      'type=tmpfs,dst=/t,tmpfs-size=64m,tmpfs-mode=1770',
      '--mount',
      'type=bind,source=./here,target=/h,ro=true',
      'busybox',
    ],
  ],
  ['mount volume-nocopy alone', ['--mount', 'type=volume,dst=/v,volume-nocopy', 'busybox']],
  ['mount no target', ['--mount', 'type=bind,src=/tmp', 'busybox']],
  ['mount mixed options', ['--mount', 'type=bind,src=/tmp,dst=/x,volume-nocopy', 'busybox']],
  ['mount bad key', ['--mount', 'type=bind,src=/tmp,dst=/x,bogus=1', 'busybox']],
  ['tmpfs', ['--tmpfs', '/run:rw,size=1m', '--tmpfs', '/x', 'busybox']],
  ['ports', ['-p', '8080:80', '-p', '127.0.0.1:53:53/udp', '-p', '9000', '-P', '--expose', '7000-7002', '--expose', '5/udp', 'busybox']],
  ['port ranges', ['-p', '8000-8001:80-81', '-p', '[::1]:90:90', '-p', '9000-9010:90/sctp', 'busybox']],
  ['port long syntax', ['-p', 'published=8080,target=80', 'busybox']],
  ['port bad', ['-p', 'x:80', 'busybox']],
  ['port bad proto', ['-p', '80/xyz', 'busybox']],
  ['expose with colon', ['--expose', '1:2', 'busybox']],
  [
    'resources',
    [
      '-m',
      '512m',
      '--memory-swap',
      '1g',
      '--memory-reservation',
      '100k',
      '--kernel-memory',
      '10m',
      '--shm-size',
      '64M',
      '--cpus',
      '1.5',
      '-c',
      '512',
      '--cpuset-cpus',
      '0-1',
      '--cpuset-mems',
      '0',
      '--cpu-period',
      '100000',
      '--cpu-quota',
      '50000',
      '--pids-limit',
      '100',
      '--memory-swappiness',
      '10',
      '--oom-kill-disable',
      '--oom-score-adj',
      '500',
      '--blkio-weight',
      '300',
      '--cpu-rt-period',
      '1000',
      '--cpu-rt-runtime',
      '500',
      'busybox',
    ],
  ],
  ['memory-swap -1 and sizes', ['--memory-swap', '-1', '-m', '1.5g', '--shm-size', '1KiB', 'busybox']],
  ['memory bad', ['-m', 'x', 'busybox']],
  ['memory bad suffix', ['-m', '1x', 'busybox']],
  ['memory negative', ['-m', '-5', 'busybox']],
  ['cpus fraction and exponent', ['--cpus', '1e-1', 'busybox']],
  ['cpus too precise', ['--cpus', '0.0000000001', 'busybox']],
  ['cpus junk', ['--cpus', 'x', 'busybox']],
  ['swappiness out of range', ['--memory-swappiness', '101', 'busybox']],
  ['restart on-failure:3', ['--restart', 'on-failure:3', 'busybox']],
  ['restart unless-stopped', ['--restart', 'unless-stopped', 'busybox']],
  ['restart empty', ['--restart', '', 'busybox']],
  ['restart no colon policy', ['--restart', ':3', 'busybox']],
  ['restart bad count', ['--restart', 'always:x', 'busybox']],
  ['restart with rm', ['--restart', 'always', '--rm', 'busybox']],
  ['rm', ['--rm', 'busybox']],
  [
    'security and identity',
    [
      '--cap-add',
      'NET_ADMIN',
      '--cap-add',
      'sys_time',
      '--cap-drop',
      'ALL',
      '--cap-drop',
      'net_admin',
      '--security-opt',
      'no-new-privileges',
      '--security-opt',
      'label:disable',
      '--privileged',
      '--read-only',
      '--init',
      '-w',
      '/w',
      '-u',
      '1:2',
      '-h',
      'hn',
      '--domainname',
      'dn',
      'busybox',
    ],
  ],
  [
    'caps: ALL is not collapsed',
    ['--cap-drop', 'net_admin', '--cap-drop', 'ALL', '--cap-add', 'all', '--cap-add', 'x', '--cap-add', 'CAP_X', 'busybox'],
  ],
  ['systempaths=unconfined alone', ['--security-opt', 'systempaths=unconfined', 'busybox']],
  ['security-opt bad', ['--security-opt', 'foo', 'busybox']],
  ['seccomp profile file', ['--security-opt', 'seccomp=SECCOMP', 'busybox']],
  ['entrypoint reset', ['--entrypoint', '', '--init=false', 'busybox', 'x']],
  ['entrypoint', ['--entrypoint', '/bin/sh -c', 'busybox']],
  [
    'ulimits and devices',
    [
      '--ulimit',
      'nproc=10',
      '--ulimit',
      'nofile=1024:2048',
      '--device',
      '/dev/null',
      '--device',
      '/dev/zero:/dev/z:r',
      '--device',
      '/dev/fuse:rw',
      '--device-cgroup-rule',
      'c 1:3 rwm',
      'busybox',
    ],
  ],
  ['ulimit soft > hard', ['--ulimit', 'nofile=3:2', 'busybox']],
  ['ulimit bad type', ['--ulimit', 'bogus=1', 'busybox']],
  ['device relative', ['--device', 'rel', 'busybox']],
  ['device bad mode', ['--device', '/a:/b:xyz', 'busybox']],
  ['cdi device', ['--device', 'vendor.com/class=name', 'busybox']],
  ['gpus', ['--gpus', 'all', '--gpus', '"device=0,1",capabilities=compute', 'busybox']],
  [
    'blkio devices',
    ['--blkio-weight-device', '/dev/sda:200', '--device-read-bps', '/dev/sda:1mb', '--device-write-iops', '/dev/sda:100', 'busybox'],
  ],
  ['blkio weight device bad', ['--blkio-weight-device', '/dev/sda:5', 'busybox']],
  ['network none', ['--network', 'none', 'busybox']],
  ['network host', ['--net', 'host', 'busybox']],
  ['network bridge', ['--network', 'bridge', 'busybox']],
  ['network default', ['--network', 'default', 'busybox']],
  ['network container', ['--network', 'container:abc', 'busybox']],
  ['user network with options', ['--network', 'mynet', '--network-alias', 'a1', '--ip', '10.0.0.5', '--link', 'a:b', 'busybox']],
  ['network long syntax', ['--network', 'name=mynet,alias=x,driver-opt=a=b', 'busybox']],
  ['two networks', ['--network', 'n1', '--network', 'n2', 'busybox']],
  ['alias on default network', ['--network-alias', 'a1', 'busybox']],
  ['user-defined and host', ['--network', 'host', '--network', 'n2', 'busybox']],
  ['ipv6 and link-local', ['--link-local-ip', '169.254.1.1', '--ip6', 'fe80::1', 'busybox']],
  ['mac address at 1.41', ['--mac-address', '02:42:ac:11:00:02', 'busybox']],
  ['mac address bad', ['--mac-address', 'zz', 'busybox']],
  [
    'dns and hosts',
    [
      '--dns',
      '8.8.8.8',
      '--dns',
      '0:0::1',
      '--dns-search',
      'example.com',
      '--dns-option',
      'ndots:2',
      '--dns-opt',
      'x',
      '--add-host',
      'h:1.2.3.4',
      '--add-host',
      'g=::1',
      '--add-host',
      'gw:host-gateway',
      '--add-host',
      'v6=[::2]',
      'busybox',
    ],
  ],
  ['dns bad', ['--dns', 'x', 'busybox']],
  ['add-host bad', ['--add-host', 'bad', 'busybox']],
  [
    'health',
    [
      '--health-cmd',
      'true',
      '--health-interval',
      '1m30s',
      '--health-timeout',
      '500ms',
      '--health-retries',
      '3',
      '--health-start-period',
      '1.5s',
      'busybox',
    ],
  ],
  ['no-healthcheck', ['--no-healthcheck', 'busybox']],
  ['no-healthcheck conflict', ['--no-healthcheck', '--health-retries', '1', 'busybox']],
  ['health negative', ['--health-interval', '-1s', 'busybox']],
  ['health bad duration', ['--health-timeout', 'x', 'busybox']],
  ['health start interval at 1.41', ['--health-start-interval', '2s', 'busybox']],
  ['logging', ['--log-driver', 'json-file', '--log-opt', 'max-size=1m', '--log-opt', 'x', 'busybox']],
  ['logging none with opts', ['--log-driver', 'none', '--log-opt', 'a=b', 'busybox']],
  ['namespaces', ['--pid', 'host', '--ipc', 'shareable', '--uts', 'host', '--userns', 'host', '--cgroupns', 'private', 'busybox']],
  ['pid container', ['--pid', 'container:x', 'busybox']],
  ['pid bad', ['--pid', 'bogus', 'busybox']],
  ['uts bad', ['--uts', 'bogus', 'busybox']],
  ['userns bad', ['--userns', 'bogus', 'busybox']],
  ['cgroupns bad', ['--cgroupns', 'bogus', 'busybox']],
  ['sysctls', ['--sysctl', 'net.ipv4.ip_forward=1', '--sysctl', 'kernel.shmmax=1', 'busybox']],
  ['sysctl refused', ['--sysctl', 'kernel.bad=1', 'busybox']],
  ['stop signal and timeout', ['--stop-signal', 'SIGUSR1', '--stop-timeout', '0', 'busybox']],
  ['group-add', ['--group-add', 'audio', '--group-add', '1,2', 'busybox']],
  ['annotation at 1.41', ['--annotation', 'a=b', 'busybox']],
  ['pull never', ['--pull', 'never', '-q', 'busybox']],
  ['pull bad', ['--pull', 'bogus', 'busybox']],
  [
    'misc host config',
    [
      '--volumes-from',
      'c1:ro',
      '--storage-opt',
      'size=1G',
      '--runtime',
      'runc',
      '--isolation',
      'default',
      '--cgroup-parent',
      '/x',
      '--volume-driver',
      'local',
      '--link',
      'c2:al',
      'busybox',
    ],
  ],
  ['storage-opt bad', ['--storage-opt', 'bad', 'busybox']],
  ['use-api-socket', ['--use-api-socket', 'busybox']],
  [
    'hostile keys stay data',
    [
      '-l',
      '__proto__=x',
      '-l',
      'constructor=y',
      '--log-opt',
      '__proto__=1',
      '--tmpfs',
      '__proto__',
      '--sysctl',
      'net.__proto__=1',
      '-v',
      '__proto__',
      '--storage-opt',
      '__proto__=1',
      '--mount',
      'type=volume,dst=/v,volume-opt=__proto__=z',
      'busybox',
    ],
  ],
  ['network named __proto__', ['--network', '__proto__', '--network-alias', 'a', 'busybox']],
  ['unicode env and labels', ['-e', 'É=ü', '-l', 'k=日本', 'busybox', 'echo', 'ß']],
  ['sizes with space and exponent', ['-m', '1 m', '--shm-size', '1e3', '--memory-reservation', '2GB', 'busybox']],
  ['size out of float range', ['-m', '9'.repeat(400), 'busybox']],
  ['size beyond int64', ['--shm-size', '10000000000000000000', 'busybox']],
  ['size with two dots', ['-m', '1.2.3', 'busybox']],
  ['size with long suffix', ['-m', '1kibb', 'busybox']],
  ['gpus count', ['--gpus', 'count=2,driver=nvidia', 'busybox']],
  ['gpus bad key', ['--gpus', 'bogus=1', 'busybox']],
  ['volume sources that look like paths', ['-v', '~/x:/y', '-v', 'c:/foo:/bar', '-v', 'ab', 'busybox']],
  ['volume empty section', ['-v', '/a::/b', 'busybox']],
  ['expose reversed range', ['--expose', '9-1', 'busybox']],
  ['port with ip and no host port', ['-p', '1.2.3.4::80', '-p', '0.0.0.0:7000-7002:7000-7002/udp', 'busybox']],
  ['port range mismatch', ['-p', '8000-8002:80-81', 'busybox']],
  ['port bad ip', ['-p', '1.2.3:80:80', 'busybox']],
  ['ulimit too many values', ['--ulimit', 'nofile=1:2:3', 'busybox']],
  ['ulimit unlimited hard', ['--ulimit', 'memlock=-1:-1', '--ulimit', 'core=0', 'busybox']],
  ['cpus fraction', ['--cpus', '3/2', 'busybox']],
  ['cpus 1/3', ['--cpus', '1/3', 'busybox']],
  ['blkio weight out of range', ['--blkio-weight', '70000', 'busybox']],
  ['device read bps bad rate', ['--device-read-bps', '/dev/sda:x', 'busybox']],
  ['device read bps bad path', ['--device-read-bps', 'sda:1', 'busybox']],
  ['device write iops bad', ['--device-write-iops', '/dev/sda:1k', 'busybox']],
  ['init alone', ['--init', 'busybox']],
  ['restart on-failure:-1', ['--restart', 'on-failure:-1', 'busybox']],
  ['mount tmpfs bad mode', ['--mount', 'type=tmpfs,dst=/t,tmpfs-mode=9', 'busybox']],
  [
    'mount bind-recursive readonly',
    ['--mount', 'type=bind,src=/a,dst=/b,bind-recursive=readonly,readonly,bind-propagation=rprivate', 'busybox'],
  ],
  ['mount bind-recursive writable', ['--mount', 'type=bind,src=/a,dst=/b,bind-recursive=writable,ro', 'busybox']],
  ['mount bind-recursive disabled', ['--mount', 'type=bind,src=/a,dst=/b,bind-recursive=disabled', 'busybox']],
  ['mount bind-recursive without readonly', ['--mount', 'type=bind,src=/a,dst=/b,bind-recursive=writable', 'busybox']],
  ['mount bind-recursive bogus', ['--mount', 'type=bind,src=/a,dst=/b,bind-recursive=bogus', 'busybox']],
  ['mount quoted csv', ['--mount', '"type=volume","dst=/a,b",volume-label=x=y', 'busybox']],
  ['mount bad csv quote', ['--mount', 'type=volume,dst=/a"b', 'busybox']],
  ['health duration units', ['--health-interval', '1h2m3.5s', '--health-timeout', '250us', 'busybox']],
  ['health duration missing unit', ['--health-interval', '10', 'busybox']],
  ['-t with -a stdout', ['-t', '-a', 'stdout', 'busybox']],
  ['ipc and oom', ['--ipc', 'private', '--oom-score-adj', '-500', 'busybox']],
  ['expose junk', ['--expose', 'x', 'busybox']],
  ['expose half range', ['--expose', '1-x/udp', 'busybox']],
  ['link bad', ['--link', 'a:b:c', 'busybox']],
  ['dns-search bad', ['--dns-search', '1.2', 'busybox']],
  ['dns-search dot and trailing dot', ['--dns-search', '.', '--dns-search', 'example.com.', 'busybox']],
  ['network long syntax without name', ['--network', 'alias=x', 'busybox']],
  ['network long syntax bad key', ['--network', 'name=n,bogus=1', 'busybox']],
  ['network long syntax ip and mac', ['--network', 'name=n,ip=10.1.1.1,ip6=fe80::2,link-local-ip=169.254.0.9', 'busybox']],
  ['network same twice', ['--network', 'n1', '--network', 'n1', 'busybox']],
  ['ip accepted as text', ['--ip', 'not-an-ip', '--ip6', 'also-not', 'busybox']],
  ['pids-limit unlimited', ['--pids-limit', '-1', 'busybox']],
  ['cpus huge', ['--cpus', '1e30', 'busybox']],
  ['gpus bad count', ['--gpus', 'count=x', 'busybox']],
  ['gpus repeated key', ['--gpus', 'count=1,count=2', 'busybox']],
  ['health-cmd alone', ['--health-cmd', 'curl -f http://localhost/ || exit 1', 'busybox']],
  ['userns private', ['--userns', 'private', 'busybox']],
  ['userns with suffix', ['--userns', 'host:x', 'busybox']],
  ['port empty container port', ['-p', '80:', 'busybox']],
  ['port long syntax bad param', ['-p', 'published=1,target', 'busybox']],
  ['mount image', ['--mount', 'type=image,src=busybox,dst=/img,image-subpath=/bin', 'busybox']],
  [
    'mount volume options',
    ['--mount', 'type=volume,src=v,dst=/v,volume-driver=local,volume-label=a=b,volume-subpath=sub,consistency=Cached', 'busybox'],
  ],
  ['mount readonly bad', ['--mount', 'type=volume,dst=/v,readonly=maybe', 'busybox']],
  ['mount bare field', ['--mount', 'type=volume,dst=/v,weird', 'busybox']],
  ['tmpfs duplicate', ['--tmpfs', '/t:size=1m', '--tmpfs', '/t:size=2m', 'busybox']],
  ['sysctl duplicate', ['--sysctl', 'net.a=1', '--sysctl', 'net.a=2', 'busybox']],
  ['volumes duplicate', ['-v', '/a:/b', '-v', '/a:/b', '-v', '/anon', '-v', '/anon', 'busybox']],
  ['ulimit duplicate', ['--ulimit', 'nofile=1:2', '--ulimit', 'nofile=3:4', 'busybox']],
  ['device three parts', ['--device', '/dev/a:/dev/b:rw', '--device', '/dev/c:/dev/d', 'busybox']],
  ['device bad mode in two parts', ['--device', '/dev/a:rwx', 'busybox']],
];

describe('docker create golden bodies (v28 client)', { skip }, () => {
  before(async () => {
    rec = await startCreateRecorder(DOCKER);
    files = mkdtempSync(join(tmpdir(), 'berth-runopts-'));
    writeFileSync(join(files, 'env'), 'Z=1\n# c\n  FOO\nNOPE\nY= sp ace \n\uFEFFQ=2\r\n');
    writeFileSync(join(files, 'badenv'), 'A B=1\n');
    writeFileSync(join(files, 'badutf8'), Buffer.from([0x41, 0x3d, 0x31, 0x0a, 0xff, 0x3d, 0x31, 0x0a]));
    writeFileSync(join(files, 'labels'), 'l1=a\nl2\n\n');
    writeFileSync(join(files, 'seccomp.json'), '{\n  "defaultAction": "SCMP_ACT_ALLOW",\n  "syscalls": []\n}\n');
  });
  after(async () => {
    await rec?.close();
    if (files) rmSync(files, { recursive: true, force: true });
  });
  for (const [title, argv] of cases) {
    it(title, async () => {
      const subst: Record<string, string> = {
        ENVFILE: join(files, 'env'),
        BADENV: join(files, 'badenv'),
        BADUTF8: join(files, 'badutf8'),
        FILESDIR: files,
        LABELFILE: join(files, 'labels'),
      };
      const args = argv.map((a) =>
        a === 'seccomp=SECCOMP' ? `seccomp=${join(files, 'seccomp.json')}` : Object.hasOwn(subst, a) ? (subst[a] as string) : a,
      );
      await golden(args);
    });
  }
  it('refusals are the classes the run command prints', () => {
    const cwd = '/';
    assert.throws(() => ours(['--restart', ':1', 'busybox'], cwd), ContainerOptionsError);
    assert.throws(() => ours(['-m', 'x', 'busybox'], cwd), UsageError);
  });
});

/** `docker <cmd> --help`'s Options section → name, short, value name and usage (spaces collapsed). */
function helpFlags(text: string): Map<string, { short?: string; valueName?: string; usage: string }> {
  const out = new Map<string, { short?: string; valueName?: string; usage: string }>();
  const lines = text.split('\n');
  const start = lines.findIndex((l) => l.startsWith('Options:'));
  let current: { short?: string; valueName?: string; usage: string } | undefined;
  for (const line of lines.slice(start + 1)) {
    const m = /^ {2}(?:-(\w), | {4})--([\w-]+)(?: (\S+))?\s{2,}(.*)$/.exec(line);
    if (m) {
      current = { usage: m[4] as string };
      if (m[1]) current.short = m[1];
      if (m[3]) current.valueName = m[3];
      out.set(m[2] as string, current);
    } else if (current && line.trim() !== '') {
      current.usage += ` ${line.trim()}`;
    }
  }
  return out;
}

function renderedUsage(f: { usage: string; kind: string; default?: unknown }): string {
  let u = f.usage;
  if (f.default !== undefined && f.default !== false && f.default !== '' && f.default !== 0) {
    u += ` (default ${f.kind === 'string' ? JSON.stringify(f.default) : String(f.default)})`;
  }
  return u.replace(/\s+/g, ' ');
}

describe('docker run golden bodies (v28 client)', { skip }, () => {
  before(async () => {
    rec = await startCreateRecorder(DOCKER);
  });
  after(async () => {
    await rec?.close();
  });
  const runCases: [string, string[]][] = [
    ['run -d', ['-d', 'busybox', 'true']],
    ['run -d -i --rm', ['-d', '-i', '--rm', '--name', 'x', 'busybox']],
    ['run attached', ['busybox', 'echo', 'hi']],
    ['run -i attached', ['-i', '-e', 'A=1', 'busybox']],
    ['run -d -a', ['-d', '-a', 'stdout', 'busybox']],
    ['run --restart with --rm', ['--rm', '--restart', 'always', 'busybox']],
  ];
  for (const [title, args] of runCases) {
    it(title, async () => {
      const got = await rec.create(args, ENV, dirname(rec.socket), 'run');
      const { flags, args: rest } = parseTestFlags(runFlags, args);
      let mine: ReturnType<typeof containerCreateRequest> | undefined;
      let err: unknown;
      try {
        mine = containerCreateRequest(flags, rest, {
          readFile: (p) => readFileSync(p),
          env: ENV,
          command: 'run',
          prog: 'docker',
        });
      } catch (e) {
        err = e;
      }
      if (!got.request) {
        assert.ok(err instanceof CliError, `docker refused (${got.stderr.trim()}) but berth accepted`);
        assert.equal(err.exitCode, got.code);
        assert.equal(got.stderr.trimEnd(), err.message.trimEnd());
        return;
      }
      if (err) throw err;
      assert.ok(mine);
      assert.deepEqual(normalize(mine.body), normalize(got.request.body));
      assert.equal(mine.name, got.request.query.name);
    });
  }
});

describe('the flag tables equal `docker run|create --help`', { skip }, () => {
  for (const [cmd, specs] of [
    ['run', runFlags],
    ['create', createFlags],
  ] as const) {
    it(cmd, () => {
      const help = execFileSync(DOCKER, [cmd, '--help'], { encoding: 'utf8' });
      const theirs = helpFlags(help);
      theirs.delete('help'); // core's
      assert.ok(theirs.size > 90, 'the help text was read');
      const visible = specs.filter((f) => !f.hidden);
      assert.deepEqual(visible.map((f) => f.name).sort(), [...theirs.keys()].sort());
      for (const f of visible) {
        const t = theirs.get(f.name);
        assert.ok(t);
        assert.equal(f.short, t.short, `${f.name} short`);
        const valueName = f.valueName ?? (f.kind === 'bool' ? undefined : f.kind === 'list' ? 'list' : f.kind);
        assert.equal(valueName, t.valueName, `${f.name} value name`);
        assert.equal(renderedUsage(f), t.usage.replace(/\s+/g, ' '), `${f.name} usage`);
      }
    });
  }
});
