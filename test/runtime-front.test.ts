/**
 * berth-runtime's front (native/runtime-front/, docs/runtime-front.md): `start` and `delete` of a
 * plain container are carried out in C; everything else goes to the Node runtime, unchanged.
 * Which side ran is made visible by PATH: without a `node` on it, the front's own verbs still
 * work and a hand-over fails with "exec 'node'". Each hand-over is shown to change nothing
 * first, and then to give the Node runtime's answer.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { lockContainer } from '../src/runtime/container/lock.js';
import { Bundle } from './helpers/bundle.js';
import { cgroupDirsOf, mustCreate, pidAlive, state, waitForExit, waitForFile } from './helpers/container.js';
import { FRONT, frontUnavailable, handedOver, NO_NODE } from './helpers/front.js';
import { createRuntime, REPO_ROOT, type RunResult, type Runtime } from './helpers/runtime.js';
import { PROBE } from './helpers/spec.js';

const NODE_RUNTIME = join(REPO_ROOT, 'dist/berth-runtime.cjs');
const skip = frontUnavailable();

/** The log line without its time, which differs between two runs. */
const timeless = (s: string) => s.replace(/time="[^"]*"/g, 'time=T').replace(/"time":"[^"]*"/g, '"time":"T"');

describe('berth-runtime front', { skip }, () => {
  let rt: Runtime;
  before(() => {
    rt = createRuntime('berth');
    assert.equal(rt.argv[0], FRONT, 'package.json bin runs the front');
  });
  after(async () => {
    await rt?.[Symbol.asyncDispose]();
  });

  /** The Node runtime itself, on the same state root. */
  function runNode(args: string[]): Promise<RunResult> {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, [NODE_RUNTIME, '--root', rt.rootDir, ...args], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, NODE_EXTRA_CA_CERTS: '' },
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => {
        stdout += d;
      });
      child.stderr.on('data', (d) => {
        stderr += d;
      });
      child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr, command: args.join(' '), timedOut: false }));
    });
  }

  test('start and delete of a plain container are done without Node: it runs, then nothing of it is left', async () => {
    await using b = await Bundle.create({ probeArgs: ['sleep', '1000'] });
    const id = `bc-front-${randomBytes(4).toString('hex')}`;
    const c = await mustCreate(rt, b, id);
    const start = await rt.run(['start', id], { env: NO_NODE });
    assert.equal(start.code, 0, start.stderr);
    assert.equal(start.stderr, '');
    assert.equal((await state(rt, id)).status, 'running');
    const pid = c.pid();
    assert.ok(readFileSync(`/proc/${pid}/cmdline`, 'latin1').includes('sleep'), 'the container runs its process');
    const again = await rt.run(['start', id], { env: NO_NODE });
    handedOver(again, 'start of a running container');

    const del = await rt.run(['delete', '--force', id], { env: NO_NODE });
    assert.equal(del.code, 0, del.stderr);
    await waitForExit(pid);
    assert.ok(!existsSync(join(rt.rootDir, id)), 'state dir removed');
    assert.deepEqual(cgroupDirsOf(id), [], 'cgroups removed');
    assert.deepEqual(
      readdirSync(rt.rootDir).filter((n) => n.startsWith('~') && n !== '~lock-salt'),
      [],
      'no tomb left',
    );

    // containerd's shim deletes twice: the second, --force of a container that is gone, succeeds in C
    const again2 = await rt.run(['delete', '--force', id], { env: NO_NODE });
    assert.equal(again2.code, 0, again2.stderr);
    handedOver(await rt.run(['delete', id], { env: NO_NODE }), 'delete without --force of a missing container');

    // a stopped container: delete without --force
    const id2 = `${id}-stopped`;
    const c2 = await mustCreate(rt, b, id2);
    assert.equal((await rt.run(['start', id2], { env: NO_NODE })).code, 0);
    process.kill(c2.pid(), 'SIGKILL');
    await waitForExit(c2.pid());
    const del2 = await rt.run(['delete', id2], { env: NO_NODE });
    assert.equal(del2.code, 0, del2.stderr);
    assert.ok(!existsSync(join(rt.rootDir, id2)));
    assert.deepEqual(cgroupDirsOf(id2), []);
  });

  test('what the front does not carry out goes to Node unchanged, with the Node runtime’s answers', async () => {
    await using b = await Bundle.create({ probeArgs: ['sleep', '1000'] });
    const id = `bc-front-${randomBytes(4).toString('hex')}`;

    const missing = await rt.run(['start', id], { env: NO_NODE });
    handedOver(missing, 'start of a missing container');
    const missingNode = await rt.run(['start', id]);
    assert.equal(missingNode.code, 1);
    assert.match(missingNode.stderr, /container does not exist/);

    // a paused created container: the front would wait forever on its frozen init
    await mustCreate(rt, b, id);
    assert.equal((await rt.run(['pause', id])).code, 0);
    handedOver(await rt.run(['start', id], { env: NO_NODE }), 'start of a paused container');
    const paused = await rt.run(['start', id]);
    assert.equal(paused.code, 1);
    assert.match(paused.stderr, /cannot start an already running container/);
    assert.equal((await rt.run(['resume', id])).code, 0);
    assert.equal((await state(rt, id)).status, 'created', 'the hand-overs changed nothing');

    // delete without --force of a live container
    handedOver(await rt.run(['delete', id], { env: NO_NODE }), 'delete of a created container');
    const strict = await rt.run(['delete', id]);
    assert.equal(strict.code, 1);
    assert.match(strict.stderr, new RegExp(`cannot delete container ${id} that is not stopped: created`));

    // a record the front cannot read: Node says what is wrong with it
    const record = join(rt.rootDir, id, 'state.json');
    const saved = readFileSync(record);
    writeFileSync(record, '{"version":1,"id":');
    handedOver(await rt.run(['start', id], { env: NO_NODE }), 'start with a torn record');
    const torn = await rt.run(['start', id]);
    assert.equal(torn.code, 1);
    assert.match(torn.stderr, /parse '.*state\.json'/);
    writeFileSync(record, saved);
    assert.equal((await state(rt, id)).status, 'created');

    // flags the front does not read, and more than one id
    handedOver(await rt.run(['--debug', 'start', id], { env: NO_NODE }), 'start --debug');
    handedOver(await rt.run(['delete', '--force', id, `${id}-2`], { env: NO_NODE }), 'delete of two ids');
    assert.equal((await state(rt, id)).status, 'created');
    assert.equal((await rt.run(['delete', '--force', id], { env: NO_NODE })).code, 0);
  });

  test('kill of a live container is done without Node; other forms and states go to Node', async () => {
    await using b = await Bundle.create({ probeArgs: ['wait-signal', '60'] });
    const id = `bc-front-${randomBytes(4).toString('hex')}`;
    const c = await mustCreate(rt, b, id);
    assert.equal((await rt.run(['start', id], { env: NO_NODE })).code, 0);
    await waitForFile(c.stdoutFile, (t) => t.includes('ready'));
    for (const signal of ['USR1', 'SIGUSR2', '10']) {
      const r = await rt.run(['kill', id, signal], { env: NO_NODE });
      assert.equal(r.code, 0, r.stderr);
    }
    await waitForFile(c.stdoutFile, (t) => (t.match(/signal=SIGUSR1/g) ?? []).length === 2 && t.includes('signal=SIGUSR2'));
    handedOver(await rt.run(['kill', '--all', id, 'KILL'], { env: NO_NODE }), 'kill --all');
    handedOver(await rt.run(['kill', id, 'NOSUCHSIGNAL'], { env: NO_NODE }), 'kill with an unknown signal');
    const unknown = await rt.run(['kill', id, 'NOSUCHSIGNAL']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /unknown signal \\"NOSUCHSIGNAL\\"/);
    assert.ok(pidAlive(c.pid()), 'the hand-overs sent nothing');
    // without a signal: SIGTERM, which ends the probe
    assert.equal((await rt.run(['kill', id], { env: NO_NODE })).code, 0);
    await waitForExit(c.pid());
    assert.match(await c.stdout(), /signal=SIGTERM/);
    handedOver(await rt.run(['kill', id, 'KILL'], { env: NO_NODE }), 'kill of a stopped container');
    const stopped = await rt.run(['kill', id, 'KILL']);
    assert.equal(stopped.code, 1);
    assert.match(stopped.stderr, /container not running/);
    assert.equal((await rt.run(['delete', id], { env: NO_NODE })).code, 0);
  });

  test('a plain exec runs in C and gives what the Node runtime gives: output, identity, exit status, fds', async () => {
    await using b = await Bundle.create({ probeArgs: ['sleep', '1000'] });
    const id = `bc-front-${randomBytes(4).toString('hex')}`;
    await mustCreate(rt, b, id);
    assert.equal((await rt.run(['start', id], { env: NO_NODE })).code, 0);
    const template = join(rt.rootDir, id, 'exec.plan');
    assert.ok(existsSync(template), 'create wrote the plan of a plain exec');
    // the probe reports what a process sees; argv with the bytes the plan's encoding escapes
    const tricky = ['', '-', 'a b', '100%', 'é', 'tab\there', '--flag-like'];
    const cases: string[][] = [
      [PROBE, 'ids', '+', 'caps', '+', 'env', '+', 'cwd', '+', 'nnp', '+', 'rlimits', '+', 'umask', '+', 'fds'],
      [PROBE, 'argv', ...tricky],
      [PROBE, 'exit', '7'],
    ];
    for (const args of cases) {
      const front = await rt.run(['exec', id, ...args], { env: NO_NODE });
      const viaNode = await runNode(['exec', id, ...args]);
      assert.equal(front.code, viaNode.code, `exit status of ${args.join(' ')}: ${front.stderr}`);
      // fds 0–2 are this test's pipes, a new pair for each run: their inode numbers differ
      const same = (t: string) => t.replace(/(socket|pipe):\[\d+\]/g, '$1:[n]');
      assert.equal(same(front.stdout), same(viaNode.stdout), `output of ${args.join(' ')}`);
      assert.equal(front.stderr, viaNode.stderr);
    }
    assert.equal((await rt.run(['exec', id, PROBE, 'exit', '7'], { env: NO_NODE })).code, 7);

    // what the front does not do: flags, a command that fails before it starts, a paused container
    handedOver(await rt.run(['exec', '-e', 'X=1', id, PROBE, 'env'], { env: NO_NODE }), 'exec with a flag');
    handedOver(await rt.run(['exec', id, '/no/such/command'], { env: NO_NODE }), 'exec of a missing command');
    const missing = await rt.run(['exec', id, '/no/such/command']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /exec '\/no\/such\/command': no such file or directory/);
    assert.equal((await rt.run(['pause', id])).code, 0);
    handedOver(await rt.run(['exec', id, PROBE, 'ids'], { env: NO_NODE }), 'exec into a paused container');
    assert.equal((await rt.run(['resume', id])).code, 0);
    // without the template (a container of an older version): Node
    rmSync(template);
    handedOver(await rt.run(['exec', id, PROBE, 'ids'], { env: NO_NODE }), 'exec without a template');
    assert.equal((await rt.run(['exec', id, PROBE, 'ids'])).code, 0);
    assert.equal((await rt.run(['delete', '--force', id], { env: NO_NODE })).code, 0);
  });

  test('a signal to a foreground exec reaches the process', async () => {
    await using b = await Bundle.create({ probeArgs: ['sleep', '1000'] });
    const id = `bc-front-${randomBytes(4).toString('hex')}`;
    await mustCreate(rt, b, id);
    assert.equal((await rt.run(['start', id], { env: NO_NODE })).code, 0);
    const out = b.path('exec.out');
    const child = spawn(FRONT, ['--root', rt.rootDir, 'exec', id, PROBE, 'wait-signal', '30'], {
      stdio: ['ignore', openSync(out, 'w'), 'ignore'],
      env: { ...process.env, ...NO_NODE },
    });
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    await waitForFile(out, (t) => t.includes('ready'));
    child.kill('SIGUSR1');
    await waitForFile(out, (t) => t.includes('signal=SIGUSR1'));
    child.kill('SIGTERM');
    assert.equal(await exited, 0, 'the probe ends on SIGTERM, exit 0');
    assert.match(readFileSync(out, 'utf8'), /signal=SIGTERM/);
    assert.equal((await rt.run(['delete', '--force', id], { env: NO_NODE })).code, 0);
  });

  test('poststart and poststop hooks are run by Node', async () => {
    await using b = await Bundle.create({ probeArgs: ['sleep', '1000'] });
    const marks = b.path('marks');
    await b.editConfig((s) => {
      s.hooks = {
        poststart: [{ path: '/bin/sh', args: ['sh', '-c', `echo poststart >> ${marks}`] }],
        poststop: [{ path: '/bin/sh', args: ['sh', '-c', `echo poststop >> ${marks}`] }],
      };
    });
    const id = `bc-front-${randomBytes(4).toString('hex')}`;
    await mustCreate(rt, b, id);
    handedOver(await rt.run(['start', id], { env: NO_NODE }), 'start with poststart hooks');
    assert.equal((await state(rt, id)).status, 'created');
    assert.equal((await rt.run(['start', id])).code, 0);
    handedOver(await rt.run(['delete', '--force', id], { env: NO_NODE }), 'delete with poststop hooks');
    assert.ok(existsSync(join(rt.rootDir, id)), 'nothing was deleted before the hand-over');
    assert.equal((await rt.run(['delete', '--force', id])).code, 0);
    assert.equal(readFileSync(marks, 'utf8'), 'poststart\npoststop\n');
  });

  test('a failed start says what the Node runtime says, on stderr and in a --log json file', async () => {
    await using b = await Bundle.create({ probeArgs: ['sleep', '1000'] });
    // create checks the executable: it goes away between create and start, so the exec fails
    const gone = b.inRootfs('gone');
    await b.editConfig((s) => {
      s.process!.args = ['/gone'];
    });
    const front = `bc-front-${randomBytes(4).toString('hex')}`;
    const viaNode = `${front}-node`;
    const logA = b.path('front.log');
    const logN = b.path('node.log');
    writeFileSync(gone, '#!/bin/sh\n', { mode: 0o755 });
    for (const id of [front, viaNode, `${front}-3`, `${viaNode}-3`]) await mustCreate(rt, b, id);
    rmSync(gone);
    const a = await rt.run(['start', front], { env: NO_NODE });
    const n = await runNode(['start', viaNode]);
    assert.equal(a.code, 1);
    assert.equal(n.code, 1);
    assert.match(a.stderr, /gone/);
    assert.equal(timeless(a.stderr), timeless(n.stderr));

    const a3 = await rt.run(['--log', logA, '--log-format', 'json', 'start', `${front}-3`], { env: NO_NODE });
    const n3 = await runNode(['--log', logN, '--log-format', 'json', 'start', `${viaNode}-3`]);
    assert.equal(a3.code, 1);
    assert.equal(n3.code, 1);
    assert.equal(a3.stderr, n3.stderr, 'the bare message on stderr');
    // the same line but for its time, which the two runs may write in different seconds
    const last = (f: string) => {
      const line = JSON.parse(readFileSync(f, 'utf8').trim().split('\n').at(-1)!) as { level: string; msg: string; time: string };
      assert.match(line.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      return { ...line, time: 'T' };
    };
    assert.deepEqual(last(logA), last(logN));
    assert.equal(last(logA).level, 'error');
  });

  test('the container lock is the Node runtime’s: delete waits for a holder in another process', async () => {
    await using b = await Bundle.create({ probeArgs: ['sleep', '1000'] });
    const id = `bc-front-${randomBytes(4).toString('hex')}`;
    const c = await mustCreate(rt, b, id);
    const lock = await lockContainer(rt.rootDir, id);
    let done = false;
    const del = rt.run(['delete', '--force', id], { env: NO_NODE }).then((r) => {
      done = true;
      return r;
    });
    await sleep(500);
    assert.equal(done, false, 'delete waits while the lock is held');
    assert.ok(pidAlive(c.pid()), 'and has killed nothing');
    await lock.release();
    const r = await del;
    assert.equal(r.code, 0, r.stderr);
    assert.ok(!existsSync(join(rt.rootDir, id)));
  });

  test('delete killed with SIGKILL at 20 random points: the next delete --force leaves nothing', async () => {
    await using b = await Bundle.create({ probeArgs: ['sleep', '1000'] });
    for (let i = 0; i < 20; i++) {
      const id = `bc-front-kill-${randomBytes(4).toString('hex')}`;
      const c = await mustCreate(rt, b, id);
      assert.equal((await rt.run(['start', id])).code, 0);
      const pid = c.pid();
      const child = spawn(FRONT, ['--root', rt.rootDir, 'delete', '--force', id], { stdio: 'ignore' });
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      await sleep(Math.random() * 8);
      child.kill('SIGKILL');
      await exited;
      const again = await rt.run(['delete', '--force', id]);
      assert.equal(again.code, 0, again.stderr);
      await waitForExit(pid);
      assert.ok(!existsSync(join(rt.rootDir, id)), `state of ${id} removed (kill point ${i})`);
      assert.deepEqual(cgroupDirsOf(id), [], `cgroups of ${id} removed (kill point ${i})`);
    }
    assert.deepEqual(
      readdirSync(rt.rootDir).filter((n) => n.startsWith('~') && n !== '~lock-salt'),
      [],
      'no tomb is left',
    );
  });

  test('a tomb left by a delete that died is finished by the next delete, through Node', async () => {
    await using b = await Bundle.create({ probeArgs: ['sleep', '1000'] });
    const id = `bc-front-${randomBytes(4).toString('hex')}`;
    const c = await mustCreate(rt, b, id);
    assert.equal((await rt.run(['start', id])).code, 0);
    // what a delete killed right after its rename leaves: the container's directory as a tomb
    const tomb = join(rt.rootDir, `~d-test${randomBytes(4).toString('hex')}`);
    renameSync(join(rt.rootDir, id), tomb);
    const other = `${id}-other`;
    await mustCreate(rt, b, other);
    handedOver(await rt.run(['delete', '--force', other], { env: NO_NODE }), 'delete with a tomb to collect');
    assert.ok(!existsSync(join(rt.rootDir, other)), 'the container itself was deleted before the hand-over');
    assert.ok(existsSync(tomb));
    const r = await rt.run(['delete', '--force', `${id}-third`]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(!existsSync(tomb), 'the tomb is collected');
    await waitForExit(c.pid());
    assert.deepEqual(cgroupDirsOf(id), []);
  });
});
