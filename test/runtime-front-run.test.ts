/**
 * A foreground `run` carried out by berth-runtime's C front from the bundle's run template
 * (native/runtime-front/run.c, src/runtime/container/run-template.ts, docs/runtime-front.md).
 * Which side ran is made visible by PATH: without a `node` on it, a run from the template still
 * works and a hand-over fails with "exec 'node'". Every hand-over is shown to leave nothing of
 * the container behind (no state directory, staged record or cgroup), even one that fails after
 * the record and some cgroups were made; and a run killed with SIGKILL at random points is
 * cleaned up by the next `delete --force`.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, openSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { templateName } from '../src/runtime/container/run-template.js';
import { Bundle, uniqueId } from './helpers/bundle.js';
import { cgroupDirsOf, pidAlive, state, waitForExit, waitForFile } from './helpers/container.js';
import { FRONT, frontUnavailable, handedOver, NO_NODE } from './helpers/front.js';
import { createRuntime, type Runtime } from './helpers/runtime.js';

const skip = frontUnavailable();

/** fds 0–2 are this test's pipes, a new pair for each run: their inode numbers differ. */
const sameOutput = (t: string) => t.replace(/(socket|pipe):\[\d+\]/g, '$1:[n]');

/** The template's sections (run-template.ts's encodeRunTemplate), and back. */
function readSections(file: string): { format: string; sections: [string, Buffer][] } {
  const buf = readFileSync(file);
  let at = buf.indexOf(10);
  const format = buf.subarray(0, at).toString();
  const sections: [string, Buffer][] = [];
  at++;
  while (at < buf.length) {
    const nl = buf.indexOf(10, at);
    const [name = '', len = '0'] = buf.subarray(at, nl).toString().split(' ');
    const body = buf.subarray(nl + 1, nl + 1 + Number(len));
    sections.push([name, Buffer.from(body)]);
    at = nl + 1 + Number(len) + 1;
  }
  return { format, sections };
}

function writeSections(file: string, t: { format: string; sections: [string, Buffer][] }): void {
  const parts: Buffer[] = [Buffer.from(`${t.format}\n`)];
  for (const [name, body] of t.sections) parts.push(Buffer.from(`${name} ${body.length}\n`), body, Buffer.from('\n'));
  writeFileSync(file, Buffer.concat(parts));
}

describe('berth-runtime front: run from a template', { skip }, () => {
  let rt: Runtime;
  before(() => {
    rt = createRuntime('berth');
    assert.equal(rt.argv[0], FRONT, 'package.json bin runs the front');
  });
  after(async () => {
    await rt?.[Symbol.asyncDispose]();
  });

  const templateOf = (b: Bundle) => join(rt.rootDir, templateName(b.dir));

  /** A first run of a long-running bundle, by Node: it writes the template; then it is killed. */
  async function leaveTemplate(b: Bundle): Promise<void> {
    const warm = uniqueId('frun');
    const w = spawn(FRONT, ['--root', rt.rootDir, 'run', '--bundle', b.dir, warm], {
      stdio: 'ignore',
      env: { ...process.env, NODE_EXTRA_CA_CERTS: '' },
    });
    const wExited = new Promise((r) => w.once('exit', r));
    await waitForTemplate(templateOf(b));
    assert.equal((await rt.run(['kill', warm, 'KILL'])).code, 0);
    await wExited;
  }

  /** Nothing of the container `id` is left: state directory, staged records, tombs, cgroups. */
  function nothingLeftOf(id: string, what: string): void {
    assert.ok(!existsSync(join(rt.rootDir, id)), `${what}: state directory of ${id} left`);
    const runtimeNames = readdirSync(rt.rootDir).filter((n) => n.startsWith('~c-') || n.startsWith('~d-'));
    assert.deepEqual(runtimeNames, [], `${what}: staged records or tombs left`);
    assert.deepEqual(cgroupDirsOf(id), [], `${what}: cgroups left`);
  }

  test('a run of a bundle the Node runtime has run is done without Node, with the same result', async () => {
    await using b = await Bundle.create({
      probeArgs: ['ids', '+', 'caps', '+', 'env', '+', 'cwd', '+', 'nnp', '+', 'rlimits', '+', 'umask', '+', 'fds', '+', 'hostname'],
    });
    const first = uniqueId('frun');
    const viaNode = await rt.run(['run', '--bundle', b.dir, first]);
    assert.equal(viaNode.code, 0, viaNode.stderr);
    assert.ok(existsSync(templateOf(b)), 'the Node runtime wrote the bundle’s template');
    nothingLeftOf(first, 'after the Node run');

    for (let i = 0; i < 3; i++) {
      const id = uniqueId('frun');
      const inC = await rt.run(['run', '--bundle', b.dir, id], { env: NO_NODE });
      assert.equal(inC.code, 0, inC.stderr);
      assert.equal(inC.stderr, '');
      assert.equal(
        sameOutput(inC.stdout),
        sameOutput(viaNode.stdout),
        'what the process sees: ids, caps, env, cwd, nnp, rlimits, umask, fds',
      );
      nothingLeftOf(id, `C run ${i}`);
    }
    // the bundle as the current directory (no --bundle), as runc takes it
    const id = uniqueId('frun');
    const inCwd = await rt.run(['run', id], { env: NO_NODE, cwd: b.dir });
    assert.equal(inCwd.code, 0, inCwd.stderr);
    nothingLeftOf(id, 'run in the bundle directory');

    // the exit status passes through; a new config.json is Node's first, then the front's
    await b.editConfig((s) => {
      s.process!.args = [s.process!.args![0]!, 'exit', '7'];
    });
    const changed = uniqueId('frun');
    handedOver(await rt.run(['run', '--bundle', b.dir, changed], { env: NO_NODE }), 'run after config.json changed');
    nothingLeftOf(changed, 'the hand-over of a changed config');
    assert.equal((await rt.run(['run', '--bundle', b.dir, changed])).code, 7);
    const seven = uniqueId('frun');
    assert.equal((await rt.run(['run', '--bundle', b.dir, seven], { env: NO_NODE })).code, 7);
    nothingLeftOf(seven, 'a run that exited 7');
  });

  test('what the template does not cover goes to Node, having left nothing behind', async () => {
    await using b = await Bundle.create({ probeArgs: ['hostname'] });
    assert.equal((await rt.run(['run', '--bundle', b.dir, uniqueId('frun')])).code, 0);
    const tpl = templateOf(b);
    assert.ok(existsSync(tpl));
    const original = readFileSync(tpl);

    const cases: [string, string[], Record<string, string>?][] = [
      ['a flag the front does not read', ['run', '--pid-file', b.path('pid'), '--bundle', b.dir]],
      ['run --detach', ['run', '-d', '--bundle', b.dir]],
      ['a cgroup driver flag', ['--cgroup-driver', 'v1', 'run', '--bundle', b.dir]],
      ['socket activation', ['run', '--bundle', b.dir], { LISTEN_FDS: '1' }],
      ['another helper', ['run', '--bundle', b.dir], { BERTH_NSINIT: '/nonexistent/berth-nsinit' }],
      ['a bundle path that is not normal', ['run', '--bundle', `${b.dir}/.`]],
    ];
    for (const [what, args, env] of cases) {
      const id = uniqueId('frun');
      handedOver(await rt.run([...args, id], { env: { ...NO_NODE, ...env } }), what);
      nothingLeftOf(id, what);
    }

    // an id that is taken: Node says so; the container that has it is untouched
    const taken = uniqueId('frun');
    const created = await rt.run(['create', '--bundle', b.dir, taken], { stdoutFile: b.path('c.out'), stderrFile: b.path('c.err') });
    assert.equal(created.code, 0, readFileSync(b.path('c.err'), 'utf8'));
    const before = await state(rt, taken);
    handedOver(await rt.run(['run', '--bundle', b.dir, taken], { env: NO_NODE }), 'run of an id that exists');
    const afterwards = await state(rt, taken);
    assert.deepEqual([afterwards.status, afterwards.pid], [before.status, before.pid]);
    assert.ok(
      readdirSync(rt.rootDir).every((n) => !n.startsWith('~c-')),
      'no staged record left',
    );
    const refused = await rt.run(['run', '--bundle', b.dir, taken]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /container with id exists/);
    assert.equal((await rt.run(['delete', '--force', taken])).code, 0);

    // a host that differs from the recording, found midway: a cgroup file that reads otherwise.
    // The record and the cgroups before that point were made; they are gone again.
    const t = readSections(tpl);
    const ops = t.sections.find(([n]) => n === 'ops');
    assert.ok(ops);
    const lines = ops[1].toString().split('\n');
    const lastRead = lines.findLastIndex((l) => l.startsWith('read '));
    assert.ok(lastRead > 0 && lines.slice(0, lastRead).some((l) => l.startsWith('mkdir ')), 'the recording reads after a mkdir');
    lines[lastRead] = `${lines[lastRead]}%0Aother`;
    ops[1] = Buffer.from(lines.join('\n'));
    writeSections(tpl, t);
    const midway = uniqueId('frun');
    handedOver(await rt.run(['run', '--bundle', b.dir, midway], { env: NO_NODE }), 'a cgroup file that reads otherwise');
    nothingLeftOf(midway, 'a read that differs after the first mkdirs');

    // another build of the runtime, or a torn template: Node
    writeFileSync(tpl, original);
    const key = readSections(tpl);
    key.sections[0] = ['key', Buffer.from(`${key.sections[0]![1].toString()}0`)];
    writeSections(tpl, key);
    const stale = uniqueId('frun');
    handedOver(await rt.run(['run', '--bundle', b.dir, stale], { env: NO_NODE }), 'a template of another build');
    nothingLeftOf(stale, 'another build');
    writeFileSync(tpl, original.subarray(0, original.length - 10));
    const torn = uniqueId('frun');
    handedOver(await rt.run(['run', '--bundle', b.dir, torn], { env: NO_NODE }), 'a torn template');
    nothingLeftOf(torn, 'a torn template');

    // the template as written works again
    writeFileSync(tpl, original);
    const ok = uniqueId('frun');
    const r = await rt.run(['run', '--bundle', b.dir, ok], { env: NO_NODE });
    assert.equal(r.code, 0, r.stderr);
    nothingLeftOf(ok, 'the original template');
  });

  test('a failure of berth-nsinit before start is undone and handed to Node, which says what went wrong', async () => {
    await using b = await Bundle.create({ probeArgs: ['hostname'] });
    assert.equal((await rt.run(['run', '--bundle', b.dir, uniqueId('frun')])).code, 0);
    // the process's executable is gone: berth-nsinit checks it before `created`
    const probe = join(b.rootfs, 'probe');
    renameSync(probe, `${probe}.away`);
    try {
      const id = uniqueId('frun');
      handedOver(await rt.run(['run', '--bundle', b.dir, id], { env: NO_NODE }), 'a missing executable');
      nothingLeftOf(id, 'a missing executable');
      const viaNode = await rt.run(['run', '--bundle', b.dir, id]);
      assert.notEqual(viaNode.code, 0);
      assert.match(viaNode.stderr, /probe/);
      nothingLeftOf(id, 'the Node runtime’s failed run');
    } finally {
      renameSync(`${probe}.away`, probe);
    }
  });

  test('a run in C is a container like any other: state, signals forwarded, kill from outside', async () => {
    await using b = await Bundle.create({ probeArgs: ['wait-signal', '60'] });
    // Node's run, ended by a signal, leaves the template
    const first = uniqueId('frun');
    const out0 = b.path('first.out');
    const child0 = spawn(FRONT, ['--root', rt.rootDir, 'run', '--bundle', b.dir, first], {
      stdio: ['ignore', openSync(out0, 'w'), 'ignore'],
      env: { ...process.env, NODE_EXTRA_CA_CERTS: '' },
    });
    const exited0 = new Promise<number | null>((r) => child0.once('exit', (code) => r(code)));
    await waitForFile(out0, (t) => t.includes('ready'));
    child0.kill('SIGTERM');
    assert.equal(await exited0, 0);
    assert.ok(existsSync(templateOf(b)));

    const id = uniqueId('frun');
    const out = b.path('exec.out');
    const child = spawn(FRONT, ['--root', rt.rootDir, 'run', '--bundle', b.dir, id], {
      stdio: ['ignore', openSync(out, 'w'), 'ignore'],
      env: { ...process.env, ...NO_NODE },
    });
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    await waitForFile(out, (t) => t.includes('ready'));
    const s = await state(rt, id);
    assert.equal(s.status, 'running');
    const initPid = Number(s.pid);
    assert.ok(pidAlive(initPid), 'the recorded pid is the init');
    assert.equal(s.bundle, b.dir);
    const list = await rt.run(['list', '--format', 'json']);
    assert.ok(
      (JSON.parse(list.stdout) as { id: string }[]).some((c) => c.id === id),
      'list shows it',
    );
    child.kill('SIGUSR1');
    await waitForFile(out, (t) => t.includes('signal=SIGUSR1'));
    // a kill from outside (the front's C kill): the run ends with 128+9 and deletes it
    assert.equal((await rt.run(['kill', id, 'KILL'], { env: NO_NODE })).code, 0);
    assert.equal(await exited, 137);
    await waitForExit(initPid);
    nothingLeftOf(id, 'a run killed from outside');
  });

  test('a SIGTERM during a C run’s setup is held until the process runs, or ends the run: never handed to Node', async (t) => {
    // No pid namespace: the process is not a namespace's init, so the forwarded SIGTERM kills
    // it whenever it lands (an init ignores a signal it has no handler for yet).
    await using b = await Bundle.create({ probeArgs: ['sleep', '1000'] });
    await b.editConfig((s) => {
      s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'pid');
    });
    await leaveTemplate(b);
    const outcomes = new Map<string, number>();
    for (let i = 0; i < 12; i++) {
      const id = uniqueId('frun');
      const err = b.path(`term-${i}.err`);
      const child = spawn(FRONT, ['--root', rt.rootDir, 'run', '--bundle', b.dir, id], {
        stdio: ['ignore', 'ignore', openSync(err, 'w')],
        env: { ...process.env, ...NO_NODE },
      });
      const exited = new Promise<[number | null, string | null]>((r) => child.once('exit', (code, sig) => r([code, sig])));
      await sleep(Math.random() * 12);
      // stopped, signalled, continued: the signal lands at a random point of the run
      const pid = child.pid as number;
      process.kill(pid, 'SIGSTOP');
      process.kill(pid, 'SIGTERM');
      process.kill(pid, 'SIGCONT');
      const [code, sig] = await Promise.race([
        exited,
        sleep(10_000).then((): [number | null, string | null] => [null, 'still running after 10 s']),
      ]);
      // before the signals are held: killed by it; while held, 143: after undoing everything,
      // or forwarded to the process once it runs (it dies of it)
      const outcome = sig === 'SIGTERM' ? 'killed' : code === 143 ? '143' : `code ${code} ${sig ?? ''}`;
      assert.ok(outcome === 'killed' || outcome === '143', `point ${i}: ${outcome}: ${readFileSync(err, 'utf8')}`);
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
      assert.equal(readFileSync(err, 'utf8'), '', 'nothing said: no hand-over, no error');
      // a run killed before it held signals has made nothing yet; delete --force finds nothing
      assert.equal((await rt.run(['delete', '--force', id])).code, 0);
      nothingLeftOf(id, `point ${i} (${outcome})`);
    }
    t.diagnostic(`outcomes: ${[...outcomes].map(([o, n]) => `${o} ×${n}`).join(', ')}`);
  });

  test('a C run killed with SIGKILL at 20 random points: the next delete --force leaves nothing', async () => {
    await using b = await Bundle.create({ probeArgs: ['sleep', '1000'] });
    await leaveTemplate(b);
    for (let i = 0; i < 20; i++) {
      const id = uniqueId('frun');
      const child = spawn(FRONT, ['--root', rt.rootDir, 'run', '--bundle', b.dir, id], {
        stdio: 'ignore',
        env: { ...process.env, ...NO_NODE },
      });
      const exited = new Promise((r) => child.once('exit', r));
      await sleep(Math.random() * 12);
      // stopped first, so that its children can be listed before it dies
      const pid = child.pid as number;
      try {
        process.kill(pid, 'SIGSTOP');
      } catch {
        // exited already (the run failed?): the checks below say
      }
      const children = childrenOf(pid);
      child.kill('SIGKILL');
      await exited;
      const del = await rt.run(['delete', '--force', id]);
      assert.equal(del.code, 0, `kill point ${i}: ${del.stderr}`);
      for (const c of children) await waitForExit(c, 5000);
      nothingLeftOf(id, `kill point ${i}`);
    }
  });
});

async function waitForTemplate(file: string): Promise<void> {
  for (let i = 0; i < 600 && !existsSync(file); i++) await sleep(10);
  assert.ok(existsSync(file), `${file} was not written`);
}

/** The pids whose parent is `pid` (a stopped process's children stay put). */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(name));
    } catch {
      // gone
    }
  }
  return out;
}
