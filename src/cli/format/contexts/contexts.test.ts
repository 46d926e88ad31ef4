import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { CliError } from '../../types.js';
import { chooseFormat, writeFormatted } from '../formatter.js';
import { inspectAll } from '../inspect.js';
import { type ContainerSummary, containerTemplateNeedsSize, displayablePorts, formatContainers } from './container.js';
import { type DiskUsage, formatDiskUsage } from './disk-usage.js';
import { apiDf, apiHistory, apiImages, apiPs, apiVolumes, observed, observedDf } from './dockerd-fixtures.js';
import { formatHistory } from './history.js';
import { formatImages } from './image.js';
import { formatStats, type StatsEntry } from './stats.js';
import { formatVolumes } from './volume.js';

// The observed outputs were printed in UTC; Node reads TZ when it changes.
before(() => {
  process.env.TZ = 'UTC';
});

/** The list with the Status texts the daemon gave when that output was taken. */
function withStatus(gamma: string, beta: string): ContainerSummary[] {
  const status: Record<string, string> = { '/gamma': gamma, '/beta': beta, '/alpha': 'Created' };
  return (apiPs as ContainerSummary[]).map((c) => ({ ...c, Status: status[c.Names?.[0] ?? ''] ?? '' }));
}
const sec = (unix: number, extraMs = 500) => unix * 1000 + extraMs;
const created = 1796549306; // alpha and beta; gamma a second later

describe('docker ps output, compared with the v28 CLI’s', () => {
  it('the default table (column widths, Command ellipsis, names)', () => {
    const list = withStatus('Exited (3) Less than a second ago', 'Up Less than a second');
    assert.equal(formatContainers(list, { now: sec(created + 2) }), observed.ps);
  });
  it('--no-trunc', () => {
    const list = withStatus('Exited (3) Less than a second ago', 'Up 1 second');
    assert.equal(formatContainers(list, { noTrunc: true, now: sec(created + 2) }), observed.ps_notrunc);
  });
  it('--format json (Docker’s MarshalJSON of the context)', () => {
    // Listed without sizes, as ps asks when the template does not read .Size.
    const list = withStatus('Exited (3) Less than a second ago', 'Up 1 second').map(({ SizeRootFs, ...c }) => c);
    assert.equal(formatContainers(list, { format: 'json', now: sec(created + 2) }), observed.ps_json);
  });
  it('--size', () => {
    const list = withStatus('Exited (3) Less than a second ago', 'Up 1 second');
    assert.equal(formatContainers(list, { size: true, now: sec(created + 3) }), observed.ps_size);
  });
  it('a custom table with labels, .Label (its header too), mounts, state', () => {
    const list = withStatus('', '');
    const format = 'table {{.Names}}\\t{{.Labels}}\\t{{.Label "a"}}\\t{{.Mounts}}\\t{{.State}}';
    assert.equal(formatContainers(list, { format }), observed.ps_custom);
  });
  it('raw', () => {
    const list = withStatus('Exited (3) Less than a second ago', 'Up 1 second');
    assert.equal(formatContainers(list, { format: 'raw' }), observed.ps_raw);
  });
  it('--quiet', () => {
    assert.equal(formatContainers(apiPs as ContainerSummary[], { quiet: true }), observed.ps_q);
    assert.equal(formatContainers(apiPs as ContainerSummary[], { quiet: true, format: '{{.Names}}' }), observed.ps_q);
  });
  it('the header alone when there is nothing to list', () => {
    assert.equal(formatContainers([]), 'CONTAINER ID   IMAGE     COMMAND   CREATED   STATUS    PORTS     NAMES\n');
  });
  it('checks a template before listing, and sees .Size', () => {
    assert.equal(containerTemplateNeedsSize('{{.ID}}\t{{.Size}}'), true);
    assert.equal(containerTemplateNeedsSize('table {{.ID}}'), false);
    assert.equal(containerTemplateNeedsSize(''), false);
    assert.throws(() => containerTemplateNeedsSize('{{.Foo'), {
      message: 'failed to parse template: template: :1: unclosed action',
    });
    assert.throws(
      () => containerTemplateNeedsSize('{{.Nope}}'),
      (e: unknown) => {
        assert.ok(e instanceof CliError);
        assert.equal(
          e.message,
          'failed to execute template: template: :1:2: executing "" at <.Nope>: can\'t evaluate field Nope in type *formatter.ContainerContext',
        );
        return true;
      },
    );
  });
  it('shortens image references and IDs as Docker does', () => {
    const base = { Id: 'x'.repeat(64), Names: ['/n'], Command: '', Created: 0 };
    const image = (Image: string, ImageID = 'sha256:abcdef0123456789') =>
      formatContainers([{ ...base, Image, ImageID }], { format: '{{.Image}}' }).trim();
    assert.equal(image('docker.io/library/busybox:latest'), 'busybox:latest');
    assert.equal(image('busybox@sha256:' + 'a'.repeat(64)), 'busybox');
    assert.equal(image('busybox:1.36@sha256:' + 'a'.repeat(64)), 'busybox:1.36');
    assert.equal(image('sha256:abcdef0123456789'), 'abcdef012345');
    assert.equal(image(''), '<no image>');
    assert.equal(image('Not A Ref!'), 'Not A Ref!');
  });
  it('names: the first non-link name truncated, all with --no-trunc', () => {
    const c = { Id: 'a', Names: ['/other/link', '/web', '/web2'] };
    assert.equal(formatContainers([c], { format: '{{.Names}}' }), 'web\n');
    assert.equal(formatContainers([c], { format: '{{.Names}}', noTrunc: true }), 'other/link,web,web2\n');
  });
});

describe('Docker’s port column', () => {
  it('groups consecutive ports and lists host mappings last', () => {
    assert.equal(
      displayablePorts([
        { PrivatePort: 9002, Type: 'tcp' },
        { PrivatePort: 9000, Type: 'tcp' },
        { PrivatePort: 9001, Type: 'tcp' },
        { PrivatePort: 53, Type: 'udp' },
        { IP: '0.0.0.0', PrivatePort: 80, PublicPort: 8080, Type: 'tcp' },
        { IP: '::', PrivatePort: 80, PublicPort: 8080, Type: 'tcp' },
        { IP: '0.0.0.0', PrivatePort: 443, PublicPort: 443, Type: 'tcp' },
        { IP: '0.0.0.0', PrivatePort: 444, PublicPort: 444, Type: 'tcp' },
      ]),
      '53/udp, 0.0.0.0:443-444->443-444/tcp, 9000-9002/tcp, 0.0.0.0:8080->80/tcp, [::]:8080->80/tcp',
    );
    assert.equal(displayablePorts([]), '');
    assert.equal(
      displayablePorts([
        { PrivatePort: 1, Type: 'tcp' },
        { PrivatePort: 3, Type: 'tcp' },
      ]),
      '1/tcp, 3/tcp',
    );
  });
});

describe('docker images, volume ls, history, stats output, compared with the v28 CLI’s', () => {
  const now = sec(created + 3);
  it('images', () => assert.equal(formatImages(apiImages, { now }), observed.images));
  it('images --digests', () => assert.equal(formatImages(apiImages, { digests: true, now }), observed.images_digests));
  it('images --format json (HTML-escaped by the context’s MarshalJSON)', () =>
    assert.equal(formatImages(apiImages, { format: 'json', now }), observed.images_json));
  it('images, a custom table', () =>
    assert.equal(
      formatImages(apiImages, { format: 'table {{.Repository}}:{{.Tag}}\\t{{.Containers}}\\t{{.VirtualSize}}\\t{{.CreatedAt}}', now }),
      observed.images_custom,
    ));
  it('images: dangling and digest-only rows', () => {
    const img = { Id: 'sha256:' + 'b'.repeat(64), Created: created, Size: 1000 };
    const out = formatImages(
      [
        { ...img, RepoTags: [], RepoDigests: [] },
        { ...img, RepoTags: [], RepoDigests: ['busybox@sha256:' + 'c'.repeat(64)] },
      ],
      { format: '{{.Repository}} {{.Tag}} {{.Digest}}', now },
    );
    assert.equal(out, '<none> <none> <none>\nbusybox <none> \n');
  });
  it('volume ls', () => assert.equal(formatVolumes(apiVolumes), observed.volumes));
  it('volume ls --format json', () => assert.equal(formatVolumes(apiVolumes, { format: 'json' }), observed.volumes_json));
  it('volume ls -q', () => assert.equal(formatVolumes(apiVolumes, { quiet: true }), 'vol1\nvol2\n'));
  it('history', () => assert.equal(formatHistory(apiHistory, { now }), observed.history));
  it('history --human=false --no-trunc', () =>
    assert.equal(formatHistory(apiHistory, { human: false, noTrunc: true, now }), observed.history_nohuman));
  it('history --format json', () => assert.equal(formatHistory(apiHistory, { format: 'json', now }), observed.history_json));
  it('stats', () => {
    const entry = (name: string, id: string, extra: Partial<StatsEntry> = {}): StatsEntry => ({
      Container: id,
      Name: `/${name}`,
      ID: id,
      CPUPercentage: 0,
      Memory: 0,
      MemoryLimit: 0,
      MemoryPercentage: 0,
      NetworkRx: 0,
      NetworkTx: 0,
      BlockRead: 0,
      BlockWrite: 0,
      PidsCurrent: 0,
      ...extra,
    });
    const ids = (apiPs as ContainerSummary[]).map((c) => c.Id);
    const out = formatStats([
      entry('gamma', ids[0] as string),
      entry('beta', ids[1] as string, { Memory: 304 * 1024, MemoryLimit: 25_275_000_000, PidsCurrent: 1, MemoryPercentage: 0.001 }),
      entry('alpha', ids[2] as string),
    ]);
    assert.equal(out, observed.stats);
    assert.equal(
      formatStats([entry('x', 'y', { IsInvalid: true })]).split('\n')[1],
      'y              x         --        -- / --             --        --        --          --',
    );
  });
});

describe('format selection', () => {
  it('chooses the flag, else the config default unless quiet, else table', () => {
    assert.equal(chooseFormat('{{.ID}}', 'table {{.Names}}'), '{{.ID}}');
    assert.equal(chooseFormat('', 'table {{.Names}}'), 'table {{.Names}}');
    assert.equal(chooseFormat('', 'table {{.Names}}', true), 'table');
    assert.equal(chooseFormat('', undefined), 'table');
  });
  it('reports template errors as Docker does, printing nothing', () => {
    assert.throws(() => writeFormatted('{{.Nope', [], {}), { message: 'template parsing error: template: :1: unclosed action' });
    assert.throws(() => formatVolumes(apiVolumes, { format: '{{.Nope}}' }), {
      message:
        'template parsing error: template: :1:2: executing "" at <.Nope>: can\'t evaluate field Nope in type *formatter.volumeContext',
    });
  });
  it('expands \\t and \\n and trims spaces around the format', () => {
    assert.equal(formatVolumes(apiVolumes, { format: '  {{.Name}}\\t{{.Driver}}\\n ' }), 'vol1\tlocal\n\nvol2\tlocal\n\n');
  });
  it('keeps the header of a failing header template up to the failure', () => {
    assert.equal(formatVolumes(apiVolumes, { format: 'table {{.Name}} {{json .}}' }).split('\n')[0], 'VOLUME NAME ');
  });
});

describe('docker inspect output', () => {
  const alpha = {
    Id: 'abc',
    State: { Status: 'created', Pid: 0 },
    Config: { Labels: { a: '1', b: '2' }, Cmd: ['sh', '-c', 'echo a very long command line here'] },
  };
  const beta = { Id: 'def', State: { Status: 'running', Pid: 5552 }, Config: { Labels: {}, Cmd: ['sleep', '300'] } };
  it('a template, one line per object (as observed)', () => {
    const r = inspectAll(
      '{{.State.Status}} {{.State.Pid}} {{.Config.Labels}} {{json .Config.Cmd}} [{{index .Config.Labels "zz"}}] {{.Config.Labels.zz}}',
      [{ value: alpha }, { value: beta }],
    );
    assert.equal(r.out, observed.inspect_f);
    assert.equal(r.error, undefined);
  });
  it('a missing field is the raw pass’s error; the output keeps the others', () => {
    const r = inspectAll('{{.State.Nope}}', [{ value: alpha }]);
    assert.equal(r.out, '\n');
    assert.equal(
      r.error?.message,
      'template parsing error: template: :1:8: executing "" at <.State.Nope>: map has no entry for key "Nope"',
    );
    const r2 = inspectAll('{{.Id}}', [{ value: alpha }, { error: 'Error: No such object: nosuch' }]);
    assert.equal(r2.out, 'abc\n');
    assert.equal(r2.error?.message, 'Error: No such object: nosuch');
  });
  it('reads the Engine’s nulls and durations as Docker’s Go types do (as observed)', () => {
    const hc = {
      Config: { Healthcheck: { Test: ['CMD-SHELL', 'true'], Interval: 90000000000 }, Env: null, Volumes: null, Labels: null },
      State: { Health: { Status: 'starting', FailingStreak: 0, Log: null } },
      HostConfig: { Memory: 0, Binds: null },
    };
    const r = inspectAll(
      '{{.Config.Healthcheck.Interval}} {{json .Config.Healthcheck}} {{.State.Health.Status}} {{.HostConfig.Memory}} {{.Config.Env}} {{.HostConfig.Binds}} {{len .HostConfig.Binds}} {{.Config.Volumes}}',
      [{ value: hc }],
    );
    assert.equal(r.out, '1m30s {"Test":["CMD-SHELL","true"],"Interval":90000000000} starting 0 [] [] 0 map[]\n');
    const img = { Config: { Cmd: ['sh'], Env: null, Labels: null }, Size: 2862718, RootFS: { Type: 'layers', Layers: ['sha256:2655'] } };
    const r2 = inspectAll(
      '{{.Config.Cmd}} {{.Size}} {{json .RootFS}} {{.Config.Env}} {{len .Config.Env}} {{.Config.Labels}} {{json .Config.Env}}',
      [{ value: img }],
    );
    assert.equal(r2.out, '[sh] 2862718 {"Type":"layers","Layers":["sha256:2655"]} [] 0 map[] null\n');
    assert.equal(inspectAll('{{if gt .Config.Healthcheck.Interval 1000}}long{{end}}', [{ value: hc }]).out, 'long\n');
  });
  it('a template that does not parse exits 64', () => {
    assert.throws(
      () => inspectAll('{{.X', []),
      (e: unknown) => e instanceof CliError && e.exitCode === 64 && e.message === 'template parsing error: template: :1: unclosed action',
    );
  });
  it('JSON without a format: indented with 4 spaces, HTML escaped as Go encodes', () => {
    assert.equal(
      inspectAll('', [{ value: { A: '<b>', B: [] } }]).out,
      '[\n    {\n        "A": "\\u003cb\\u003e",\n        "B": []\n    }\n]\n',
    );
    assert.equal(inspectAll('json', [{ value: { A: 1 } }]).out, '[{"A":1}]\n');
    assert.equal(inspectAll('', []).out, '[]\n');
  });
});

describe('docker system df output, compared with the v28 CLI’s', () => {
  const now = 1796550105_500;
  const du = apiDf as DiskUsage;
  it('the summary', () => assert.equal(formatDiskUsage(du, { now }), observedDf.df));
  it('-v', () => assert.equal(formatDiskUsage(du, { verbose: true, now }), observedDf.df_v));
  it('--format json', () => assert.equal(formatDiskUsage(du, { format: 'json', now }), observedDf.df_json));
  it('a custom format', () => assert.equal(formatDiskUsage(du, { format: '{{.Type}}: {{.Reclaimable}}', now }), observedDf.df_custom));
  it('-v with a template over the lists', () =>
    assert.equal(
      formatDiskUsage(du, { verbose: true, format: '{{range .Volumes}}{{.Name}} {{.Links}} {{.Size}};{{end}}', now }),
      'vol1 1 20.48kB;vol2 0 0B;',
    ));
});
