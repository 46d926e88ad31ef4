import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BerthError } from '../../common/errors.js';
import { daemonUsage, loadDaemonConfig, parseDaemonArgs, parseHost, parseSize } from './index.js';
import { parseJson } from './json.js';
import type { ConfigHost } from './types.js';

/** A machine with these files and groups. */
function fakeHost(files: Record<string, string> = {}, groups: string[] = []): ConfigHost {
  return {
    readFile: (p) => files[p],
    fileExists: (p) => Object.hasOwn(files, p),
    groupExists: (g) => groups.includes(g),
  };
}

const host = fakeHost();
const args = (...argv: string[]) => parseDaemonArgs(argv, host);
const load = (argv: string[], files: Record<string, string>) => loadDaemonConfig(argv, fakeHost(files));

function throwsMsg(fn: () => unknown, msg: string | RegExp) {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof BerthError, `not a BerthError: ${String(err)}`);
    assert.equal(err.kind, 'invalid-argument');
    if (typeof msg === 'string') assert.equal(err.message, msg);
    else assert.match(err.message, msg);
    return true;
  });
}

describe('berthd flags', () => {
  it('defaults: the berth socket, roots, live-restore on, json-file, overlayfs', () => {
    const c = args();
    assert.equal(c.action, 'run');
    assert.deepEqual(c.hosts, ['unix:///run/berth/berth.sock']);
    assert.equal(c.dataRoot, '/var/lib/berth');
    assert.equal(c.execRoot, '/run/berth');
    assert.equal(c.pidfile, '/run/berth/berthd.pid');
    assert.equal(c.liveRestore, true);
    assert.equal(c.logDriver, 'json-file');
    assert.equal(c.storageDriver, 'overlayfs');
    assert.equal(c.defaultRuntime, 'berth');
    assert.equal(c.logLevel, 'info');
    assert.equal(c.group, 'berth');
    assert.deepEqual(c.warnings, []);
  });

  it('the socket group is docker when that group exists', () => {
    assert.equal(parseDaemonArgs([], fakeHost({}, ['docker'])).group, 'docker');
    assert.equal(parseDaemonArgs(['--group', 'staff'], fakeHost({}, ['docker'])).group, 'staff');
  });

  it('reads pflag forms: --f v, --f=v, -H v, -Hv, repeated lists, -D, --live-restore=false', () => {
    const c = args(
      '-H',
      'unix:///tmp/a.sock',
      '-Hunix:///tmp/b.sock',
      '--host=unix:///tmp/c.sock',
      '--data-root=/d',
      '--exec-root',
      '/e',
      '-D',
    );
    assert.deepEqual(c.hosts, ['unix:///tmp/a.sock', 'unix:///tmp/b.sock', 'unix:///tmp/c.sock']);
    assert.equal(c.dataRoot, '/d');
    assert.equal(c.execRoot, '/e');
    assert.equal(c.debug, true);
    assert.equal(c.logLevel, 'debug', '--debug raises the level');
    assert.equal(args('--live-restore=false').liveRestore, false);
    assert.equal(args('--live-restore').liveRestore, true);
    assert.equal(args('-D', '--log-level', 'warn').logLevel, 'warn', 'an explicit level wins over --debug');
  });

  it('help and version', () => {
    assert.equal(args('--help').action, 'help');
    assert.equal(args('-h').action, 'help');
    assert.equal(args('--version').action, 'version');
    assert.equal(args('-v').action, 'version');
    const u = daemonUsage();
    assert.match(u, /^Usage:\tberthd \[OPTIONS\]/);
    assert.match(u, /--live-restore +Keep containers running while the daemon is down \(default true in Berth/);
    assert.match(u, /-H, --host list/);
  });

  it('errors word as pflag', () => {
    throwsMsg(() => args('--bogus'), 'unknown flag: --bogus');
    throwsMsg(() => args('--bogus=1'), 'unknown flag: --bogus');
    throwsMsg(() => args('-x'), "unknown shorthand flag: 'x' in -x");
    throwsMsg(() => args('-Dx'), "unknown shorthand flag: 'x' in -Dx");
    throwsMsg(() => args('--data-root'), 'flag needs an argument: --data-root');
    throwsMsg(() => args('-H'), "flag needs an argument: 'H' in -H");
    throwsMsg(() => args('--tls=maybe'), 'invalid argument "maybe" for "--tls" flag: strconv.ParseBool: parsing "maybe": invalid syntax');
    throwsMsg(() => args('run'), '"berthd" accepts no arguments');
    throwsMsg(() => args('--log-level', 'loud'), 'invalid logging level: loud');
  });

  it('storage driver aliases', () => {
    assert.equal(args('--storage-driver', 'overlay2').storageDriver, 'overlayfs');
    assert.equal(args('-s', 'vfs').storageDriver, 'native');
    assert.equal(args('--storage-driver=native').storageDriver, 'native');
    throwsMsg(() => args('--storage-driver', 'btrfs'), /^unsupported storage driver: btrfs/);
  });

  it('runtimes: --add-runtime name=path, default-runtime must name one', () => {
    const c = args('--add-runtime', 'runc=/usr/bin/runc', '--add-runtime', 'crun=/usr/bin/crun', '--default-runtime', 'runc');
    assert.deepEqual(c.runtimes, { runc: { path: '/usr/bin/runc', runtimeArgs: [] }, crun: { path: '/usr/bin/crun', runtimeArgs: [] } });
    assert.equal(c.defaultRuntime, 'runc');
    throwsMsg(() => args('--default-runtime', 'kata'), "specified default runtime 'kata' does not exist");
    throwsMsg(() => args('--add-runtime', 'runc'), 'invalid runtime argument: runc');
    throwsMsg(() => args('--add-runtime', 'berth=/x'), "runtime name 'berth' is reserved");
    throwsMsg(() => args('--add-runtime', 'a=/x', '--add-runtime', 'a=/y'), "runtime name 'a' already registered");
  });

  it('registries: hosts and CIDRs; mirrors are bare http(s) URLs', () => {
    const c = args(
      '--insecure-registry',
      'localhost:5000',
      '--insecure-registry',
      '10.0.0.0/8',
      '--registry-mirror',
      'https://mirror.example',
    );
    assert.deepEqual(c.insecureRegistries, ['localhost:5000', '10.0.0.0/8']);
    assert.deepEqual(c.registryMirrors, ['https://mirror.example/']);
    throwsMsg(() => args('--insecure-registry', 'http://x:5000'), "insecure registry http://x:5000 should not contain '://'");
    throwsMsg(() => args('--insecure-registry', '10.0.0.0/40'), /not a valid CIDR/);
    throwsMsg(() => args('--registry-mirror', 'ftp://m'), 'invalid mirror: unsupported scheme "ftp" in "ftp://m"');
    throwsMsg(
      () => args('--registry-mirror', 'https://m/v2/'),
      'invalid mirror: path, query, or fragment at end of the URI "https://m/v2/"',
    );
  });

  it('ulimits: name=soft[:hard]', () => {
    const c = args('--default-ulimit', 'nofile=1024:2048', '--default-ulimit', 'core=-1');
    assert.deepEqual(c.defaultUlimits, { nofile: { name: 'nofile', soft: 1024, hard: 2048 }, core: { name: 'core', soft: -1, hard: -1 } });
    throwsMsg(() => args('--default-ulimit', 'bogus=1'), 'invalid ulimit type: bogus');
    throwsMsg(() => args('--default-ulimit', 'nofile=20:10'), 'ulimit soft limit must be less than or equal to hard limit: 20 > 10');
    throwsMsg(() => args('--default-ulimit', 'nofile=x'), 'invalid ulimit argument: nofile=x');
  });

  it('log driver and options', () => {
    const c = args('--log-opt', 'max-size=10m', '--log-opt', 'max-file=3');
    assert.equal(c.logOpts.maxSize, 10 * 1024 * 1024);
    assert.equal(c.logOpts.maxFile, 3);
    assert.equal(args('--log-driver', 'none').logDriver, 'none');
    throwsMsg(() => args('--log-driver', 'syslog'), "log driver 'syslog' is not supported by berthd (json-file, none)");
    throwsMsg(() => args('--log-opt', 'max-size=10m', '--log-opt', 'max-file=0'), 'max-file must be an integer from 1 to 100: 0');
    throwsMsg(() => args('--log-opt', 'max-size=1m', '--log-opt', 'max-file=101'), 'max-file must be an integer from 1 to 100: 101');
    throwsMsg(() => args('--log-opt', 'max-file=2'), 'max-file cannot be greater than 1 when max-size is not set');
    throwsMsg(() => args('--log-opt', 'max-size=ten'), "invalid size: 'ten'");
    throwsMsg(() => args('--log-opt', 'colour=red'), "unknown log opt 'colour' for json-file log driver");
    throwsMsg(() => args('--log-opt', 'novalue'), 'invalid key value pair format in log-opt: novalue');
    throwsMsg(() => args('--log-driver', 'none', '--log-opt', 'max-size=1m'), /not supported by the none log driver/);
  });

  it('sizes: k/m/g binary units', () => {
    assert.equal(parseSize('100'), 100);
    assert.equal(parseSize('512k'), 512 * 1024);
    assert.equal(parseSize('10M'), 10 * 1024 ** 2);
    assert.equal(parseSize('1g'), 1024 ** 3);
    assert.equal(parseSize('1.5kb'), 1536);
    assert.throws(() => parseSize('1t'));
    assert.throws(() => parseSize('-1m'));
  });
});

describe('berthd hosts', () => {
  it('normalizes dockerd forms', () => {
    assert.deepEqual(parseHost('unix://', false), { proto: 'unix', path: '/run/berth/berth.sock', addr: 'unix:///run/berth/berth.sock' });
    assert.equal(parseHost('tcp://', false).addr, 'tcp://127.0.0.1:2375');
    assert.equal(parseHost('tcp://', true).addr, 'tcp://127.0.0.1:2376');
    assert.equal(parseHost('tcp://:4000', false).addr, 'tcp://127.0.0.1:4000');
    assert.equal(parseHost('127.0.0.1:5000', false).addr, 'tcp://127.0.0.1:5000');
    assert.equal(parseHost('tcp://[::1]:2375', false).addr, 'tcp://[::1]:2375');
    assert.equal(
      parseHost('tcp://[::1]:2375', false).proto === 'tcp' && (parseHost('tcp://[::1]:2375', false) as { loopback: boolean }).loopback,
      true,
    );
  });

  it('refuses fd://, unknown schemes, relative sockets, bad ports and paths', () => {
    throwsMsg(() => args('-H', 'fd://'), /fd:\/\/ \(systemd socket activation\) is not supported by berthd/);
    throwsMsg(() => args('-H', 'ssh://me@host'), 'Invalid bind address format: ssh://me@host');
    throwsMsg(() => args('-H', 'unix://rel.sock'), /unix socket path must be absolute/);
    throwsMsg(() => args('-H', `unix:///${'x'.repeat(107)}`), /unix socket path longer than 107 bytes/);
    throwsMsg(() => args('-H', 'tcp://127.0.0.1:99999'), /invalid port '99999'/);
    throwsMsg(() => args('-H', 'tcp://127.0.0.1:2375/x'), /should not contain a path element/);
  });

  it('tcp without TLS: loopback with a warning, elsewhere refused unless --tls=false', () => {
    const c = args('-H', 'tcp://127.0.0.1:2375');
    assert.equal(c.warnings.length, 1);
    assert.match(c.warnings[0]!, /^API is accessible on http:\/\/127\.0\.0\.1:2375 without encryption/);
    throwsMsg(
      () => args('-H', 'tcp://0.0.0.0:2375'),
      /^API is accessible on http:\/\/0\.0\.0\.0:2375 without encryption: refusing to listen/,
    );
    throwsMsg(() => args('-H', 'tcp://192.0.2.1:2375'), /refusing to listen/);
    const off = args('-H', 'tcp://0.0.0.0:2375', '--tls=false');
    assert.match(off.warnings[0]!, /without encryption or authentication \(--tls=false\)/);
  });

  it('--tlsverify needs the CA, cert and key, and the files must exist', () => {
    throwsMsg(() => args('--tlsverify', '-H', 'tcp://0.0.0.0:2376'), '--tlsverify requires --tlscacert, --tlscert, --tlskey');
    const flags = ['--tlsverify', '--tlscacert', '/ca.pem', '--tlscert', '/cert.pem', '--tlskey', '/key.pem', '-H', 'tcp://0.0.0.0:2376'];
    throwsMsg(
      () => parseDaemonArgs(flags, fakeHost({ '/ca.pem': '', '/cert.pem': '' })),
      'could not read TLS key "/key.pem": no such file or directory',
    );
    const c = parseDaemonArgs(flags, fakeHost({ '/ca.pem': '', '/cert.pem': '', '/key.pem': '' }));
    assert.deepEqual(c.tls, { enabled: true, verify: true, caCert: '/ca.pem', cert: '/cert.pem', key: '/key.pem' });
    assert.deepEqual(c.warnings, []);
    assert.equal(c.hosts[0], 'tcp://0.0.0.0:2376');
    throwsMsg(() => args('--tls'), '--tls requires --tlscert and --tlskey');
  });
});

describe('daemon.json', () => {
  const F = '/etc/berth/daemon.json';

  it('a missing default file is fine; a missing explicit one is an error', () => {
    assert.equal(load([], {}).configFile, undefined);
    throwsMsg(
      () => load(['--config-file', '/x/d.json'], {}),
      'unable to configure the Berth daemon with file /x/d.json: open /x/d.json: no such file or directory',
    );
  });

  it("takes dockerd's keys", () => {
    const c = load([], {
      [F]: JSON.stringify({
        hosts: ['unix:///tmp/b.sock'],
        'data-root': '/srv/berth',
        'insecure-registries': ['reg.local:5000'],
        runtimes: { runc: { path: '/usr/bin/runc', runtimeArgs: ['--debug'] } },
        'default-runtime': 'runc',
        'live-restore': false,
        'log-opts': { 'max-size': '1k', 'max-file': '2' },
        'default-ulimits': { nofile: { Name: 'nofile', Hard: 64000, Soft: 64000 } },
        'storage-driver': 'overlay2',
        debug: true,
      }),
    });
    assert.equal(c.configFile, F);
    assert.deepEqual(c.hosts, ['unix:///tmp/b.sock']);
    assert.equal(c.dataRoot, '/srv/berth');
    assert.deepEqual(c.runtimes.runc, { path: '/usr/bin/runc', runtimeArgs: ['--debug'] });
    assert.equal(c.defaultRuntime, 'runc');
    assert.equal(c.liveRestore, false);
    assert.equal(c.logOpts.maxSize, 1024);
    assert.equal(c.logOpts.maxFile, 2);
    assert.deepEqual(c.defaultUlimits.nofile, { name: 'nofile', soft: 64000, hard: 64000 });
    assert.equal(c.storageDriver, 'overlayfs');
    assert.equal(c.logLevel, 'debug');
  });

  it('flags and file are merged; a directive in both is an error naming each', () => {
    const c = load(['--exec-root', '/e'], { [F]: '{"data-root": "/d"}' });
    assert.equal(c.dataRoot, '/d');
    assert.equal(c.execRoot, '/e');
    throwsMsg(
      () =>
        load(['--data-root', '/a', '-H', 'unix:///x.sock', '--debug'], {
          [F]: '{"data-root": "/b", "hosts": ["unix:///y.sock"], "debug": false}',
        }),
      'the following directives are specified both as a flag and in the configuration file: data-root: (from flag: /a, from file: /b), debug: (from flag: true, from file: false), hosts: (from flag: [unix:///x.sock], from file: [unix:///y.sock])',
    );
    throwsMsg(
      () => load(['--log-opt', 'max-size=1m'], { [F]: '{"log-opts": {"max-size": "2m"}}' }),
      'the following directives are specified both as a flag and in the configuration file: log-opts: (from flag: [max-size=1m], from file: map[max-size:2m])',
    );
  });

  it("unknown keys are an error naming them all; dockerd's unimplemented ones a warning", () => {
    throwsMsg(
      () => load([], { [F]: '{"data-root": "/d", "zebra": 1, "apple": 2}' }),
      "the following directives don't match any configuration option: apple, zebra",
    );
    const c = load([], { [F]: '{"iptables": false}' });
    assert.match(c.warnings[0]!, /"iptables" is a dockerd option that berthd does not implement; ignored/);
  });

  it('malformed JSON names the file and the position', () => {
    throwsMsg(
      () => load([], { [F]: '{\n  "data-root": "/d",\n}' }),
      'unable to configure the Berth daemon with file /etc/berth/daemon.json: invalid JSON: invalid character "}" looking for beginning of object key string at line 3, column 1',
    );
    throwsMsg(
      () => load([], { [F]: '{"debug": tru}' }),
      /invalid JSON: invalid character "t" looking for beginning of value at line 1, column 11$/,
    );
    throwsMsg(() => load([], { [F]: '{"debug": true' }), /unexpected end of input after object key:value pair at line 1, column 15$/);
    throwsMsg(() => load([], { [F]: '[1]' }), /the configuration must be a JSON object$/);
    throwsMsg(() => load([], { [F]: '{"data-root": 5}' }), /"data-root" must be a string, not 5$/);
    throwsMsg(() => load([], { [F]: '{"hosts": "unix:///x"}' }), /"hosts" must be an array of strings/);
  });

  it('an empty file or a BOM is accepted; __proto__ is just an unknown key', () => {
    assert.equal(load([], { [F]: '  \n' }).dataRoot, '/var/lib/berth');
    assert.equal(load([], { [F]: '\uFEFF{"data-root": "/d"}' }).dataRoot, '/d');
    throwsMsg(
      () => load([], { [F]: '{"__proto__": {"data-root": "/evil"}}' }),
      "the following directives don't match any configuration option: __proto__",
    );
  });

  it('validation applies to the merged result', () => {
    throwsMsg(() => load([], { [F]: '{"hosts": ["tcp://0.0.0.0:2375"]}' }), /refusing to listen/);
    throwsMsg(() => load([], { [F]: '{"log-driver": "journald"}' }), /log driver 'journald' is not supported/);
    throwsMsg(() => load([], { [F]: '{"runtimes": {"x": {"path": 1}}}' }), `runtime 'x': "path" must be a non-empty string`);
    throwsMsg(
      () => load([], { [F]: '{"seccomp-profile": "/nope.json"}' }),
      'opening seccomp profile (/nope.json) failed: no such file or directory',
    );
  });
});

describe('json reader', () => {
  it('agrees with JSON.parse on valid documents', () => {
    for (const t of ['{}', '[]', '{"a":[1,-2.5e3,true,false,null,"x\\n\\u00e9"]}', ' "s" ', '0']) {
      assert.deepEqual(parseJson(t), JSON.parse(t));
    }
  });
  it('rejects what JSON.parse rejects', () => {
    for (const t of ['{', '{"a"}', '[1,]', '01', '"\\x"', "{'a':1}", '{"a":1} x', '"a\nb"', 'NaN', '']) {
      assert.throws(() => parseJson(t), /at line \d+, column \d+/, t);
      assert.throws(() => JSON.parse(t), SyntaxError, t);
    }
  });
});
