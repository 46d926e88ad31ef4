import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { apiTimestamp, eventJson, eventLine } from './events.js';
import { clientText, serverText } from './info.js';
import { pruneWarning } from './prune.js';
import { parseTemplate, writeList } from './render.js';
import { bytesSize, filtersJson, humanSize, kvMap } from './shared.js';

describe('sizes as go-units writes them', () => {
  test('HumanSize: decimal, 4 significant digits; BytesSize: binary', () => {
    assert.equal(humanSize(3112960), '3.113MB');
    assert.equal(bytesSize(25276190720), '23.54GiB');
  });
});

describe('flags', () => {
  test('--filter values become the API filters, a value without = is a flag error (125)', () => {
    assert.equal(filtersJson([]), undefined);
    assert.equal(filtersJson(['label=a=b', 'label=c', 'dangling=true']), '{"label":{"a=b":true,"c":true},"dangling":{"true":true}}');
    assert.throws(() => filtersJson(['foo']), {
      message: 'invalid argument "foo" for "-f, --filter" flag: bad format of filter (expected name=value)',
      exitCode: 125,
    });
  });
  test('k=v lists become maps; a key alone maps to ""', () => {
    assert.deepEqual(kvMap(['a=1', 'b', 'c=x=y']), { a: '1', b: '', c: 'x=y' });
  });
});

describe('output', () => {
  test('a table has its header row even when empty; json has sorted keys; templates print a line per item', () => {
    let out = '';
    const w = { write: (s: string) => (out += s) };
    const f = {
      defaultTable: 'table {{.B}}\t{{.A}}',
      headers: { A: 'AA', B: 'BB' },
      context: (x: { a: string; b: string }) => ({ B: x.b, A: x.a }),
    };
    writeList(w, '', [], f);
    assert.equal(out, 'BB        AA\n');
    out = '';
    writeList(w, 'json', [{ a: '1', b: '2' }], f);
    assert.equal(out, '{"A":"1","B":"2"}\n');
    out = '';
    writeList(
      w,
      '{{.A}}-{{.B}}',
      [
        { a: '1', b: '2' },
        { a: '3', b: '4' },
      ],
      f,
    );
    assert.equal(out, '1-2\n3-4\n');
  });
  test('template errors are the CLI texts', () => {
    assert.throws(() => parseTemplate('{{.Name'), { message: 'template parsing error: template: :1: unclosed action' });
    assert.throws(() => parseTemplate('{{.Name', 'Error parsing format: ', 64), { exitCode: 64 });
    assert.equal(parseTemplate('{{json .L}} {{.N}}')({ L: { a: 'b' }, N: 3 }), '{"a":"b"} 3');
  });
});

describe('info', () => {
  test("the Client section, and Go's Println spacing before empty values", () => {
    assert.equal(
      clientText({ Debug: false, Version: '0.1.0', Context: 'default', Plugins: [], Warnings: null }),
      'Client:\n Version:    0.1.0\n Context:    default\n Debug Mode: false\n',
    );
    const s = serverText({
      Containers: 1,
      ContainersRunning: 1,
      Images: 2,
      Driver: 'overlay2',
      Plugins: { Volume: ['local'], Network: ['host', 'null'], Log: ['json-file'] },
      Swarm: { LocalNodeState: 'inactive' },
      Runtimes: { berth: {}, runc: {} },
      DefaultRuntime: 'berth',
      OSType: 'linux',
      InitBinary: '',
      SecurityOptions: ['name=seccomp,profile=default', 'name=cgroupns'],
      MemTotal: 25276190720,
      NCPU: 2,
      RegistryConfig: { InsecureRegistryCIDRs: ['127.0.0.0/8'], IndexConfigs: { 'docker.io': { Name: 'docker.io', Secure: true } } },
      LiveRestoreEnabled: true,
    });
    assert.match(s, /^ Containers: 1\n {2}Running: 1\n {2}Paused: 0\n {2}Stopped: 0\n Images: 2\n Storage Driver: overlay2\n/);
    assert.match(s, / Runtimes: berth runc\n Default Runtime: berth\n Init Binary: \n/);
    assert.match(s, / Security Options:\n {2}seccomp\n {3}Profile: default\n {2}cgroupns\n/);
    assert.match(s, / Total Memory: 23.54GiB\n/);
    assert.match(s, / Insecure Registries:\n {2}127.0.0.0\/8\n Live Restore Enabled: true\n\n$/);
  });
});

describe('events', () => {
  const ev = {
    Type: 'container',
    Action: 'create',
    Actor: { ID: 'abc', Attributes: { name: 'x', image: 'busybox' } },
    scope: 'local',
    time: 1_700_000_000,
    timeNano: '1700000000123456789' as unknown as number,
    status: 'create',
    id: 'abc',
    from: 'busybox',
  };
  test('the default line: exact nanoseconds, sorted attributes', () => {
    assert.equal(eventLine(ev), '2023-11-14T22:13:20.123456789Z container create abc (image=busybox, name=x)\n');
  });
  test("json: Go's field order, timeNano exact", () => {
    assert.equal(
      eventJson(ev),
      '{"status":"create","id":"abc","from":"busybox","Type":"container","Action":"create","Actor":{"ID":"abc","Attributes":{"image":"busybox","name":"x"}},"scope":"local","time":1700000000,"timeNano":1700000000123456789}',
    );
  });
  test('--since/--until: Unix times as given, durations before now, dates', () => {
    assert.equal(apiTimestamp('1700000000'), '1700000000');
    assert.equal(apiTimestamp('10m', 1_700_000_600_000), '1700000000.000000000');
    assert.equal(apiTimestamp('1h30m', 1_700_005_400_500), '1700000000.500000000');
    assert.equal(apiTimestamp('2023-11-14T22:13:20Z'), '1700000000.000000000');
    assert.throws(() => apiTimestamp('yesterday'), /failed to parse value as time or duration/);
  });
});

describe('system prune', () => {
  test("Docker's warning, with the filters it shows", () => {
    assert.equal(
      pruneWarning({ all: false, volumes: false, filters: [] }),
      'WARNING! This will remove:\n  - all stopped containers\n  - all networks not used by at least one container\n  - all dangling images\n  - unused build cache\n\nAre you sure you want to continue?',
    );
    assert.equal(
      pruneWarning({ all: true, volumes: true, filters: ['until=1h', 'label=x', 'other=1'] }),
      'WARNING! This will remove:\n  - all stopped containers\n  - all networks not used by at least one container\n  - all anonymous volumes not used by at least one container\n  - all images without at least one container associated to them\n  - all build cache\n\n  Items to be pruned will be filtered with:\n  - label=x\n  - until=1h\n\nAre you sure you want to continue?',
    );
  });
});
