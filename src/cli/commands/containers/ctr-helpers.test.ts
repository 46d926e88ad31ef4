/** The pure parts of the container commands: JSON re-spacing, ports, update's body, stats' arithmetic. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseFilters } from '../../filters.js';
import { formatStats } from '../../format/index.js';
import type { Flags } from '../../types.js';
import { commitTarget } from './commit.js';
import { diffLines } from './diff.js';
import { compactJson, indentJson } from './json-text.js';
import { naturalCompare, portLines } from './port.js';
import { withConfigPruneFilters } from './prune.js';
import { cpuPercent, memUsageNoCache, statsEntry } from './stats-calc.js';
import { parseNanoCpus, parseRestartPolicy, updateBody } from './update.js';

function flags(values: Record<string, string | number | boolean | string[]>): Flags {
  return {
    bool: (n) => values[n] === true,
    string: (n) => String(values[n] ?? ''),
    int: (n) => Number(values[n] ?? 0),
    float: (n) => Number(values[n] ?? 0),
    list: (n) => (values[n] as string[] | undefined) ?? [],
    changed: (n) => n in values,
  };
}

describe('json text (Go json.Indent / Compact)', () => {
  it('keeps the daemon spelling of numbers, escapes and key order', () => {
    const src = '{"b":1e5,"a":"\\u003c\\"]","9":[],"e":{},"l":[1,{"x":null}]}';
    assert.equal(compactJson(` ${src} `), src);
    assert.equal(
      indentJson(src),
      '{\n    "b": 1e5,\n    "a": "\\u003c\\"]",\n    "9": [],\n    "e": {},\n    "l": [\n        1,\n        {\n            "x": null\n        }\n    ]\n}',
    );
  });
  it('agrees with JSON.stringify on plain data', () => {
    const v = { Id: 'x', Args: ['a', 'b'], State: { Running: true, Pid: 12 }, Mounts: [] };
    assert.equal(indentJson(JSON.stringify(v)), JSON.stringify(v, null, 4));
  });
});

describe('port', () => {
  const ports = {
    '80/tcp': [
      { HostIp: '0.0.0.0', HostPort: '8080' },
      { HostIp: '::', HostPort: '8080' },
    ],
    '9/udp': [{ HostIp: '127.0.0.1', HostPort: '9' }],
    '443/tcp': null,
  };
  it('lists every mapping in natural order, IPv6 in brackets', () => {
    assert.deepEqual(portLines(ports, 'c'), ['80/tcp -> 0.0.0.0:8080', '80/tcp -> [::]:8080', '9/udp -> 127.0.0.1:9'].sort(naturalCompare));
    assert.deepEqual(portLines(ports, 'c', '80'), ['0.0.0.0:8080', '[::]:8080']);
    assert.ok(naturalCompare('9/udp', '80/tcp') < 0);
  });
  it("answers docker's errors", () => {
    assert.throws(() => portLines(ports, 'c', '443'), { message: "Error: No public port '443' published for c" });
    assert.throws(() => portLines(ports, 'c', '9'), { message: "Error: No public port '9' published for c" });
    assert.throws(() => portLines(ports, 'c', 'x/tcp'), {
      message: 'Error: invalid port (x): strconv.ParseUint: parsing "x": invalid syntax',
    });
    assert.throws(() => portLines(ports, 'c', '70000'), {
      message: 'Error: invalid port (70000): strconv.ParseUint: parsing "70000": value out of range',
    });
  });
});

describe('update', () => {
  it('sends only the flags given', () => {
    assert.deepEqual(updateBody(flags({ memory: '30m', cpus: '1.5', 'pids-limit': 0, restart: 'on-failure:3' })), {
      Memory: 31457280,
      NanoCpus: 1500000000,
      RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 3 },
    });
    assert.deepEqual(updateBody(flags({ 'memory-swap': '-1', 'cpu-shares': 512 })), { MemorySwap: -1, CpuShares: 512 });
  });
  it("refuses values as docker's flags do", () => {
    assert.throws(() => updateBody(flags({ memory: 'x' })), {
      message: /^invalid argument "x" for "-m, --memory" flag: invalid size: 'x'$/,
    });
    assert.equal(parseNanoCpus('0.0000000001'), 'too-precise');
    assert.equal(parseNanoCpus('abc'), 'invalid');
    assert.equal(parseNanoCpus('2'), 2e9);
    assert.throws(() => parseRestartPolicy(':3'), { message: 'invalid restart policy format: no policy provided before colon' });
    assert.throws(() => parseRestartPolicy('on-failure:x'), {
      message: 'invalid restart policy format: maximum retry count must be an integer',
    });
  });
});

describe('stats arithmetic (docker stats_helpers.go)', () => {
  it('CPU % from the two samples of one object', () => {
    const pre = { cpu_usage: { total_usage: 1_000_000_000 }, system_cpu_usage: 100_000_000_000, online_cpus: 2 };
    const cur = { cpu_usage: { total_usage: 1_500_000_000 }, system_cpu_usage: 102_000_000_000, online_cpus: 2 };
    // 0.5 s of CPU over 2 s of system time on 2 CPUs: 50 %
    assert.equal(cpuPercent(pre, cur), 50);
    assert.equal(cpuPercent(cur, cur), 0);
    assert.equal(cpuPercent(pre, { ...cur, online_cpus: 0, cpu_usage: { total_usage: 1_500_000_000, percpu_usage: [1, 2, 3, 4] } }), 100);
  });
  it('memory without the inactive file cache (v1, then v2)', () => {
    assert.equal(memUsageNoCache({ usage: 1000, stats: { total_inactive_file: 300, inactive_file: 100 } }), 700);
    assert.equal(memUsageNoCache({ usage: 1000, stats: { inactive_file: 100 } }), 900);
    assert.equal(memUsageNoCache({ usage: 1000, stats: { total_inactive_file: 5000 } }), 1000);
  });
  it('the row as docker prints it', () => {
    const e = statsEntry('c2', {
      name: '/c2',
      id: '49d205185a35dc00f5a6060aa0892f8cbe481789c2703e2123b8a7d7c7947ff3',
      memory_stats: { usage: 200704, limit: 20971520, stats: { total_inactive_file: 0 } },
      blkio_stats: {
        io_service_bytes_recursive: [
          { op: 'Read', value: 8192 },
          { op: 'write', value: 0 },
        ],
      },
      pids_stats: { current: 1 },
      networks: { eth0: { rx_bytes: 1500, tx_bytes: 0 } },
    });
    assert.equal(
      formatStats([e], { format: 'json' }),
      '{"BlockIO":"8.19kB / 0B","CPUPerc":"0.00%","Container":"c2","ID":"49d205185a35","MemPerc":"0.96%","MemUsage":"196KiB / 20MiB","Name":"c2","NetIO":"1.5kB / 0B","PIDs":"1"}\n',
    );
    assert.equal(formatStats([{ ...e, IsInvalid: true }], { format: '{{.MemUsage}} {{.CPUPerc}}' }), '-- / -- --\n');
  });
});

describe('small parsers', () => {
  it('filters and config.json pruneFilters', () => {
    assert.deepEqual(parseFilters(['Status=exited', 'status=created', 'label=a=b']), {
      status: { exited: true, created: true },
      label: { 'a=b': true },
    });
    assert.throws(() => parseFilters(['x']), {
      message: 'invalid argument "x" for "-f, --filter" flag: bad format of filter (expected name=value)',
    });
    assert.deepEqual(withConfigPruneFilters({ until: { '1h': true } }, ['label=keep', 'until=2h', 'other=1']), {
      until: { '1h': true },
      label: { keep: true },
    });
  });
  it('commit references', () => {
    assert.deepEqual(commitTarget('img:v1'), { repo: 'img', tag: 'v1' });
    assert.deepEqual(commitTarget('docker.io/library/img'), { repo: 'img', tag: '' });
    assert.deepEqual(commitTarget('localhost:5000/a/b:2'), { repo: 'localhost:5000/a/b', tag: '2' });
    assert.throws(() => commitTarget('Foo'), { message: 'invalid reference format: repository name (library/Foo) must be lowercase' });
    assert.throws(() => commitTarget(`a@sha256:${'1'.repeat(64)}`), { message: 'refusing to create a tag with a digest reference' });
    assert.throws(() => commitTarget(':x'), { message: 'invalid reference format' });
  });
  it('diff kinds', () => {
    assert.equal(
      diffLines([
        { Path: '/etc', Kind: 0 },
        { Path: '/new', Kind: 1 },
        { Path: '/gone', Kind: 2 },
      ]),
      'C /etc\nA /new\nD /gone\n',
    );
    assert.equal(diffLines(null), '');
  });
});
