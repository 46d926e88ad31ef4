import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import type { CgroupDir } from '../cgroups/manager.js';
import { RecordingEffects as FakeHost } from '../effects-fake.js';
import type { ContainerRecord } from './container.js';
import { cgroupMountLines, EffectsRecorder, encodeOps, encodeRunTemplate, templateName, writeRunTemplate } from './run-template.js';

const hierarchy = { mountpoint: '/sys/fs/cgroup/cpu', controllers: ['cpu'], version: 1 as const, ownPath: '/', mountRoot: '/' };
const dirOf = (id: string): CgroupDir => ({ hierarchy, path: `/${id}`, dir: `/sys/fs/cgroup/cpu/${id}` });

test('the template name is FNV-1a 64 of the bundle path, as the C front computes it', () => {
  // the value run.c's template_name gives for this path (its test: test/runtime-front-run.test.ts)
  assert.equal(templateName('/tmp/rt/bundle'), '~run-42b68fc023019857');
  assert.equal(templateName(''), '~run-cbf29ce484222325');
  assert.notEqual(templateName('/a/b'), templateName('/a/c'));
});

test('recorded ops: paths under the real cgroups become the marker’s, values encoded, names sorted', () => {
  const real = [dirOf('c1')];
  const marker = [dirOf('M')];
  const text = encodeOps(
    [
      { op: 'mkdir', dir: '/sys/fs/cgroup/cpu/c1', recursive: true },
      { op: 'read', file: '/sys/fs/cgroup/cpu/c1/cpu.shares', value: '1024\n' },
      { op: 'read', file: '/sys/fs/cgroup/cpu/c10/x', value: undefined },
      { op: 'exists', file: '/sys/fs/cgroup/cpu/cpu.cfs_quota_us', value: true },
      { op: 'readdir', dir: '/sys/kernel/mm/hugepages', names: ['hugepages-2048kB', 'hugepages-1048576kB'] },
      { op: 'write', file: '/sys/fs/cgroup/cpu/c1/cpu.shares', value: '' },
      { op: 'write', file: '/sys/fs/cgroup/cpu/c1/x', value: 'a b%' },
    ],
    real,
    marker,
  );
  assert.equal(
    text,
    [
      'mkdir /sys/fs/cgroup/cpu/M 1',
      'read /sys/fs/cgroup/cpu/M/cpu.shares 1024%0A',
      // a sibling whose name starts with the id is not the container's
      'absent /sys/fs/cgroup/cpu/c10/x',
      'exists /sys/fs/cgroup/cpu/cpu.cfs_quota_us 1',
      'readdir /sys/kernel/mm/hugepages hugepages-1048576kB hugepages-2048kB',
      'write /sys/fs/cgroup/cpu/M/cpu.shares -',
      'write /sys/fs/cgroup/cpu/M/x a%20b%25',
      '',
    ].join('\n'),
  );
});

test('a recording with a call the front cannot replay is unfit', () => {
  const host = new FakeHost({ dirs: ['/sys/fs/cgroup/cpu'], files: { '/sys/fs/cgroup/cpu/f': '1' } });
  const rec = new EffectsRecorder(host);
  assert.equal(rec.readFile('/sys/fs/cgroup/cpu/f'), '1');
  assert.equal(rec.readFile('/sys/fs/cgroup/cpu/none'), undefined);
  rec.mkdir('/sys/fs/cgroup/cpu/c1');
  assert.equal(rec.unfit, false);
  assert.deepEqual(
    rec.ops.map((o) => o.op),
    ['read', 'read', 'mkdir'],
  );
  // a failing call (the manager may catch it and go another way): not replayable
  assert.throws(() => rec.mkdir('/sys/fs/cgroup/cpu/c1'));
  assert.equal(rec.unfit, true);
  const rec2 = new EffectsRecorder(host);
  rec2.rmdir('/sys/fs/cgroup/cpu/c1');
  assert.equal(rec2.unfit, true);
});

test('cgroup mount lines: the cgroup and cgroup2 filesystems of mountinfo, each with its newline', () => {
  const info = [
    '24 1 8:1 / / rw - ext4 /dev/sda1 rw',
    '31 30 0:28 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu',
    '40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw',
    '41 30 0:38 / /mnt/cgroupish rw shared:1 - cgroupfs x rw',
    '',
  ].join('\n');
  assert.equal(
    cgroupMountLines(info),
    '31 30 0:28 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n',
  );
});

test('the template: per-run record fields are tokens, sections carry their byte length', () => {
  const marker = 'ab'.repeat(16);
  const record = {
    version: 1,
    id: marker,
    phase: 'creating',
    creator: { pid: 1, startTime: '2' },
    nonce: 'n',
    bundle: '/b',
    rootfs: '/b/rootfs',
    pid: 0,
    pidStartTime: '',
    created: 'now',
    config: { ociVersion: '1.0.2', process: { args: ['é'], cwd: '/' } },
    cgroups: [dirOf(marker)],
  } as unknown as ContainerRecord;
  const bytes = encodeRunTemplate({
    key: 'k',
    bundle: '/b',
    config: Buffer.from('{"x":"é"}'),
    host: { cgroup: '0::/\n', mounts: '', capBnd: 'ff', kcore: '0' },
    marker,
    warm: '',
    record,
    realDirs: [dirOf('c1')],
    markerDirs: [dirOf(marker)],
    ops: [],
    plan: 'berth-plan 1\nend\n',
  });
  const text = bytes.toString('utf8');
  assert.ok(text.startsWith('berth-run-template 1\nkey 1\nk\nbundle 2\n/b\nconfig 10\n{"x":"é"}\n'), text.slice(0, 80));
  const json = /\nrecord \d+\n(.*)\nops/.exec(text)?.[1] ?? '';
  const parsed = JSON.parse(json) as Record<string, unknown>;
  for (const k of ['phase', 'creator', 'nonce', 'pid', 'pidStartTime', 'created']) assert.equal(parsed[k], `${marker}:${k}`);
  assert.equal(parsed.id, marker);
  assert.ok(text.endsWith('plan 17\nberth-plan 1\nend\n\n'));
});

test('writing a template keeps at most 16 in the root and removes the temporary files of dead writers', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'berth-run-template-'));
  try {
    for (let i = 0; i < 16; i++) writeFileSync(path.join(root, templateName(`/b${i}`)), 'x');
    const stale = path.join(root, `.${templateName('/b0')}.abc.tmp`);
    const fresh = path.join(root, `.${templateName('/b1')}.def.tmp`);
    writeFileSync(stale, 'x');
    writeFileSync(fresh, 'x');
    const old = new Date(Date.now() - 120_000);
    utimesSync(stale, old, old);
    writeFileSync(path.join(root, 'c1'), 'a container directory is not touched');
    writeRunTemplate(root, '/new', Buffer.from('t'));
    // 16 others: all go (the next runs write theirs again); the fresh temp file is a live writer's
    assert.deepEqual(readdirSync(root).sort(), [path.basename(fresh), 'c1', templateName('/new')].sort());
    writeRunTemplate(root, '/b1', Buffer.from('t'));
    assert.deepEqual(readdirSync(root).sort(), [path.basename(fresh), 'c1', templateName('/b1'), templateName('/new')].sort());
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
