import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CliError, UsageError } from '../../types.js';
import {
  ContainerOptionsError,
  containerCreateRequest,
  createFlags,
  localhostDNSWarning,
  normalizePlatform,
  parseKeyValueFile,
  runFlags,
  runOnlyFlags,
} from './options.js';
import { parseTestFlags } from './options-testflags.js';
import {
  canonicalIP,
  parseCPUs,
  parseGoDuration,
  parsePortSpec,
  parseUlimit,
  parseVolumeSpec,
  ramInBytes,
  readCsvRecord,
} from './options-values.js';

type Ctx = Partial<Parameters<typeof containerCreateRequest>[2]>;

function build(argv: string[], ctx: Ctx = {}, command: 'run' | 'create' = 'create') {
  const { flags, args } = parseTestFlags(command === 'run' ? runFlags : createFlags, argv);
  return containerCreateRequest(flags, args, {
    readFile: () => {
      throw Object.assign(new Error('nope'), { code: 'ENOENT' });
    },
    env: {},
    command,
    ...ctx,
  });
}

describe('value syntaxes', () => {
  it('ramInBytes is go-units RAMInBytes', () => {
    assert.equal(ramInBytes('512m'), 512 * 1024 ** 2);
    assert.equal(ramInBytes('1.5g'), 1.5 * 1024 ** 3);
    assert.equal(ramInBytes('10'), 10);
    assert.equal(ramInBytes('1KiB'), 1024);
    assert.equal(ramInBytes('1 kb'), 1024);
    assert.equal(ramInBytes('7b'), 7);
    assert.throws(() => ramInBytes('x'), /^Error: invalid size: 'x'$/);
    assert.throws(() => ramInBytes('-1'), /invalid size: '-1'/);
    assert.throws(() => ramInBytes('1x'), /invalid suffix: 'x'/);
    assert.throws(() => ramInBytes('1kibb'), /invalid suffix: 'kibb'/);
    assert.throws(() => ramInBytes('1.2.3'), /strconv.ParseFloat: parsing "1.2.3": invalid syntax/);
  });
  it('--cpus is exact rational arithmetic', () => {
    assert.equal(parseCPUs('1.5'), 1_500_000_000);
    assert.equal(parseCPUs('3/2'), 1_500_000_000);
    assert.equal(parseCPUs('1e-9'), 1);
    assert.equal(parseCPUs('-1'), -1_000_000_000);
    assert.throws(() => parseCPUs('1/3'), /value is too precise/);
    assert.throws(() => parseCPUs('1/0'), /failed to parse 1\/0 as a rational number/);
    assert.throws(() => parseCPUs('1e999999'), /rational number/);
  });
  it('durations are time.ParseDuration, in nanoseconds', () => {
    assert.equal(parseGoDuration('1h2m3.5s'), 3723.5e9);
    assert.equal(parseGoDuration('250us'), 250e3);
    assert.equal(parseGoDuration('-1s'), -1e9);
    assert.equal(parseGoDuration('0'), 0);
    assert.throws(() => parseGoDuration('10'), /time: missing unit in duration "10"/);
    assert.throws(() => parseGoDuration('1x'), /time: unknown unit "x" in duration "1x"/);
    assert.throws(() => parseGoDuration(''), /time: invalid duration ""/);
    assert.throws(() => parseGoDuration('.s'), /time: invalid duration/);
  });
  it('IP addresses print as Go prints them', () => {
    assert.equal(canonicalIP('0:0::1'), '::1');
    assert.equal(canonicalIP('2001:db8:0:0:1:0:0:1'), '2001:db8::1:0:0:1');
    assert.equal(canonicalIP('::ffff:1.2.3.4'), '1.2.3.4');
    assert.equal(canonicalIP('1.2.3.4'), '1.2.3.4');
    assert.equal(canonicalIP('01.2.3.4'), undefined);
    assert.equal(canonicalIP('1.2.3.256'), undefined);
    assert.equal(canonicalIP('1::2::3'), undefined);
    assert.equal(canonicalIP('x'), undefined);
  });
  it('port specs expand ranges', () => {
    assert.deepEqual(parsePortSpec('127.0.0.1:8000-8001:80-81/UDP'), [
      { port: '80/udp', hostIp: '127.0.0.1', hostPort: '8000' },
      { port: '81/udp', hostIp: '127.0.0.1', hostPort: '8001' },
    ]);
    assert.deepEqual(parsePortSpec('9000-9010:90'), [{ port: '90/tcp', hostIp: '', hostPort: '9000-9010' }]);
    assert.throws(() => parsePortSpec('80/xyz'), /invalid proto: xyz/);
    assert.throws(() => parsePortSpec('70000'), /invalid containerPort: 70000/);
  });
  it('volume specs tell binds from volumes', () => {
    assert.deepEqual(parseVolumeSpec('/a:/b:ro'), { type: 'bind', source: '/a', target: '/b' });
    assert.deepEqual(parseVolumeSpec('named:/n'), { type: 'volume', source: 'named', target: '/n' });
    assert.deepEqual(parseVolumeSpec('/anon'), { type: 'volume', source: '', target: '/anon' });
    assert.throws(() => parseVolumeSpec('/a:/b:ro:x'), /invalid spec: \/a:\/b:ro:x: too many colons/);
    assert.throws(() => parseVolumeSpec(''), /invalid empty volume spec/);
  });
  it('csv records and ulimits', () => {
    assert.deepEqual(readCsvRecord('a,"b,c","d""e",'), ['a', 'b,c', 'd"e', '']);
    assert.throws(() => readCsvRecord('a"b'), /bare " in non-quoted-field/);
    assert.deepEqual(parseUlimit('nofile=1024:2048'), { Name: 'nofile', Soft: 1024, Hard: 2048 });
    assert.throws(() => parseUlimit('nofile=x:1'), /parsing "1"|parsing "x"/);
  });
  it('platforms are normalized as containerd does', () => {
    assert.equal(normalizePlatform('linux/x86_64'), 'linux/amd64');
    assert.equal(normalizePlatform('arm64'), 'linux/arm64');
    assert.equal(normalizePlatform('linux/arm/7'), 'linux/arm/v7');
    assert.throws(() => normalizePlatform('a/b/c/d'), /cannot parse platform specifier/);
  });
  it('key=value files', () => {
    const text = '\uFEFFA=1\n # comment\n\n  B\nC\r\nD= x \n';
    assert.deepEqual(
      parseKeyValueFile(text, (k) => (k === 'B' ? 'from-env' : undefined)),
      ['A=1', 'B=from-env', 'D= x '],
    );
    assert.throws(() => parseKeyValueFile(Buffer.from([0xff, 0x0a])), /invalid utf8 bytes at line 1: \[255\]/);
    assert.throws(() => parseKeyValueFile('=x\n'), /no variable name on line '=x'/);
  });
});

describe('containerCreateRequest', () => {
  it('builds the default body, name and pull policy', () => {
    const r = build(['--name', 'c1', '--pull', 'never', 'busybox', 'sh', '-c', 'x']);
    assert.equal(r.name, 'c1');
    assert.equal(r.pull, 'never');
    assert.equal(r.platform, undefined);
    assert.deepEqual(r.body.Cmd, ['sh', '-c', 'x']);
    assert.equal(r.body.Image, 'busybox');
    assert.equal(r.body.HostConfig.NetworkMode, 'default');
    assert.deepEqual(Object.keys(r.body.NetworkingConfig.EndpointsConfig), ['default']);
  });
  it('run -d attaches nothing; -a with -d is refused', () => {
    const r = build(['-d', '-i', 'busybox'], {}, 'run');
    assert.equal(r.body.AttachStdin, false);
    assert.equal(r.body.AttachStdout, false);
    assert.equal(r.body.StdinOnce, false);
    assert.equal(r.body.OpenStdin, true);
    assert.throws(
      () => build(['-d', '-a', 'stdout', 'busybox'], {}, 'run'),
      /: conflicting options: cannot specify both --attach and --detach$/,
    );
    assert.equal(runOnlyFlags.length, 3);
    assert.ok(!createFlags.some((f) => f.name === 'detach'));
  });
  it('bare -e and env-file names come from the injected environment; proxies are added', () => {
    const r = build(['-e', 'FOO', '-e', 'UNSET', '-e', 'http_proxy=mine', '--env-file', '/f', 'busybox'], {
      env: { FOO: 'bar', FROMFILE: 'ff' },
      readFile: (p) => (p === '/f' ? 'FROMFILE\nX=1\n' : ''),
      proxy: { httpProxy: 'http://proxy:3128' },
    });
    assert.deepEqual(r.body.Env, ['FROMFILE=ff', 'X=1', 'FOO=bar', 'UNSET', 'http_proxy=mine', 'HTTP_PROXY=http://proxy:3128']);
  });
  it('reader failures read like Go os errors', () => {
    assert.throws(
      () =>
        build(['--env-file', '/secret', 'busybox'], {
          readFile: () => {
            throw Object.assign(new Error('x'), { code: 'EACCES' });
          },
        }),
      (e: unknown) => e instanceof ContainerOptionsError && e.reason === 'open /secret: permission denied' && e.exitCode === 125,
    );
    assert.throws(
      () => build(['--label-file', '/nope', 'busybox'], { prog: 'berth' }),
      (e: unknown) =>
        e instanceof ContainerOptionsError &&
        e.message === "berth: open /nope: no such file or directory\n\nRun 'berth create --help' for more information",
    );
  });
  it('a bad flag value is a usage error naming the flag as pflag does', () => {
    assert.throws(
      () => build(['-m', 'lots', 'busybox']),
      (e: unknown) =>
        e instanceof UsageError &&
        e.exitCode === 125 &&
        e.message === `invalid argument "lots" for "-m, --memory" flag: invalid size: 'lots'`,
    );
  });
  it('newer API versions unlock annotations and per-network MAC addresses', () => {
    assert.throws(
      () => build(['--annotation', 'a=b', 'busybox']),
      (e: unknown) => e instanceof CliError && e.exitCode === 1,
    );
    const r = build(['--annotation', 'a=b', '--mac-address', '02:42:ac:11:00:02', 'busybox'], { apiVersion: '1.44' });
    assert.deepEqual(r.body.HostConfig.Annotations, { a: 'b' });
    assert.equal(r.body.NetworkingConfig.EndpointsConfig.default?.MacAddress, '02:42:ac:11:00:02');
  });
  it('DOCKER_DEFAULT_PLATFORM is the default platform', () => {
    assert.equal(build(['busybox'], { env: { DOCKER_DEFAULT_PLATFORM: 'linux/arm64' } }).platform, 'linux/arm64');
    assert.equal(
      build(['--platform', 'linux/amd64', 'busybox'], { env: { DOCKER_DEFAULT_PLATFORM: 'linux/arm64' } }).platform,
      'linux/amd64',
    );
  });
  it('relative binds resolve against the given directory', () => {
    const r = build(['-v', './data:/d', '--mount', 'type=bind,src=.,dst=/e', 'busybox'], { cwd: '/home/u' });
    assert.deepEqual(r.body.HostConfig.Binds, ['/home/u/data:/d']);
    assert.equal(r.body.HostConfig.Mounts?.[0]?.Source, '/home/u');
  });
  it('hostile keys never touch a prototype', () => {
    const r = build(['-l', '__proto__=x', '--log-opt', '__proto__=y', '-v', '__proto__', 'busybox']);
    assert.equal(Object.getPrototypeOf(r.body.Labels), Object.prototype);
    assert.equal(r.body.Labels.__proto__ as unknown, 'x');
    assert.ok(Object.hasOwn(r.body.Volumes, '__proto__'));
    assert.equal(JSON.parse(JSON.stringify(r.body)).Labels.__proto__, 'x');
    assert.equal(({} as Record<string, unknown>).x, undefined);
  });
  it('huge values pass through without blowing up', () => {
    const big = 'v'.repeat(1 << 20);
    const r = build(['-l', `k=${big}`, '-e', `E=${big}`, '--tmpfs', `/t:${big}`, 'busybox']);
    assert.equal(r.body.Labels.k?.length, 1 << 20);
    assert.throws(
      () => build(['-m', '9'.repeat(400), 'busybox']),
      /for "-m, --memory" flag: strconv.ParseFloat: parsing "9+": value out of range/,
    );
  });
  it('--use-api-socket needs a socket to mount; localhost DNS is warned about', () => {
    assert.throws(() => build(['--use-api-socket', 'busybox']), CliError);
    const r = build(['--use-api-socket', '--dns', '127.0.0.53', 'busybox'], { apiSocket: '/run/berth.sock' });
    assert.deepEqual(r.body.HostConfig.Mounts, [
      { Type: 'bind', Source: '/run/berth.sock', Target: '/var/run/docker.sock', BindOptions: {} },
    ]);
    assert.equal(localhostDNSWarning(r.body), 'Localhost DNS (127.0.0.53) may fail in containers.');
  });
});
