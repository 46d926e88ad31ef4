import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { summary, verboseText } from './df.js';
import { apiTimestamp, eventJson, eventLine } from './events.js';
import { clientText, serverText } from './info.js';
import { pruneWarning } from './prune.js';
import { parseTemplate, writeList } from './render.js';
import { bytesSize, filtersJson, humanDuration, humanSize, humanSize3, kvMap } from './shared.js';

describe('sizes and durations as go-units writes them', () => {
  test('HumanSize: decimal, 4 significant digits', () => {
    assert.equal(humanSize(0), '0B');
    assert.equal(humanSize(999), '999B');
    assert.equal(humanSize(1000), '1kB');
    assert.equal(humanSize(3112960), '3.113MB');
    assert.equal(humanSize(2862592), '2.863MB');
    assert.equal(humanSize(999_950), '1000kB');
    assert.equal(humanSize3(3112960), '3.11MB');
  });
  test('BytesSize: binary', () => {
    assert.equal(bytesSize(25276190720), '23.54GiB');
    assert.equal(bytesSize(1024), '1KiB');
  });
  test('HumanDuration', () => {
    assert.equal(humanDuration(500), 'Less than a second');
    assert.equal(humanDuration(1000), '1 second');
    assert.equal(humanDuration(59_000), '59 seconds');
    assert.equal(humanDuration(61_000), 'About a minute');
    assert.equal(humanDuration(17 * 60_000), '17 minutes');
    assert.equal(humanDuration(90 * 60_000), '2 hours');
    assert.equal(humanDuration(3 * 86_400_000), '3 days');
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

describe('df', () => {
  const du = {
    LayersSize: 3112960,
    Images: [
      {
        Id: 'sha256:913ed11511f888cd',
        RepoTags: ['busybox:latest'],
        RepoDigests: [],
        Created: 1_700_000_000,
        Size: 3112960,
        SharedSize: 0,
        Containers: 1,
      },
    ],
    Containers: [
      {
        Id: 'a'.repeat(64),
        Names: ['/c1'],
        Image: 'busybox',
        Command: 'sh',
        Created: 1_700_000_000,
        State: 'exited',
        Status: 'Exited (0)',
        SizeRw: 100,
      },
      {
        Id: 'b'.repeat(64),
        Names: ['/c2'],
        Image: 'busybox',
        Command: 'sleep 1000',
        Created: 1_700_000_000,
        State: 'running',
        Status: 'Up',
        SizeRw: 300,
      },
    ],
    Volumes: [{ Name: 'v1', Driver: 'local', Mountpoint: '/x', Scope: 'local', UsageData: { Size: 50, RefCount: 0 } }],
    BuildCache: [],
  };
  test('the summary rows as Docker computes them (integer shares)', () => {
    assert.deepEqual(
      summary(du).map((r) => ({ ...r })),
      [
        { Active: '1', Reclaimable: '0B (0%)', Size: '3.113MB', TotalCount: '1', Type: 'Images' },
        { Active: '1', Reclaimable: '100B (25%)', Size: '400B', TotalCount: '2', Type: 'Containers' },
        { Active: '0', Reclaimable: '50B (100%)', Size: '50B', TotalCount: '1', Type: 'Local Volumes' },
        { Active: '0', Reclaimable: '0B', Size: '0B', TotalCount: '0', Type: 'Build Cache' },
      ],
    );
  });
  test('-v: the four sections', () => {
    const t = verboseText(du, 1_700_000_000_000 + 120_000);
    assert.match(t, /^Images space usage:\n\nREPOSITORY {3}TAG {7}IMAGE ID {7}CREATED {9}SIZE/);
    assert.match(t, /busybox {6}latest {4}913ed11511f8 {3}2 minutes ago {3}3.11MB/);
    assert.match(t, /\nContainers space usage:\n\nCONTAINER ID +IMAGE +COMMAND +LOCAL VOLUMES/);
    assert.match(t, /aaaaaaaaaaaa +busybox +"sh" +0 +100B +2 minutes ago +Exited \(0\) +c1\n/);
    assert.match(t, /\nLocal Volumes space usage:\n\nVOLUME NAME +LINKS +SIZE\nv1 +0 +50B\n\nBuild cache usage: 0B\n/);
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
