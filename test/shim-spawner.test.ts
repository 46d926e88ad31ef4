/**
 * berthd's shim spawner (src/engine/shim/spawner.ts, `berth-shim --spawner`) with the real
 * binary: shims started at once get their own answers, errors read as startShim's, the spawner
 * holds nothing of its caller's, shims are not its children for long, it dies with its parent
 * (SIGKILL included), a killed spawner is replaced, and a shim binary without the mode is
 * started directly. Every shim and spawner started here is stopped by pid.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ShimClient } from '../src/engine/shim/client.js';
import type { ShimRequest } from '../src/engine/shim/protocol.js';
import { startShim } from '../src/engine/shim/spawn.js';
import { encodeSpawnRequest, parseSpawnAnswer, ShimSpawner } from '../src/engine/shim/spawner.js';
import { pidAlive } from './helpers/container.js';
import { stopShim } from './helpers/shim.js';

const SHIM = join(import.meta.dirname, '..', 'native', 'build', 'berth-shim');
const NSINIT = join(import.meta.dirname, '..', 'native', 'build', 'berth-nsinit');
const skip = process.getuid?.() !== 0 ? 'needs root' : existsSync(SHIM) ? undefined : `${SHIM} not built (make -C native)`;

const work = mkdtempSync(join(tmpdir(), 'berth-spawner-'));
const stateDirs: string[] = [];
const spawners: ShimSpawner[] = [];
after(async () => {
  for (const s of spawners) s.close();
  for (const d of stateDirs) await stopShim(d);
  rmSync(work, { recursive: true, force: true });
});

let n = 0;
/** A shim request that starts a shim (nothing is launched until `launch`). */
function request(): ShimRequest {
  const stateDir = join(work, `s${++n}`);
  stateDirs.push(stateDir);
  return { v: 1, id: `spawned-${n}`, state_dir: stateDir, nsinit: NSINIT };
}

function spawnerPid(s: ShimSpawner): number {
  const pid = (s as unknown as { child?: { pid?: number } }).child?.pid;
  assert.ok(pid, 'the spawner runs');
  return pid;
}

/** ppid, process group and session of a process (/proc/PID/stat fields 4–6). */
function statFields(pid: number): [number, number, number] {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return [Number(f[1]), Number(f[2]), Number(f[3])];
}

async function gone(pid: number, ms = 5000): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(20)) if (!pidAlive(pid)) return true;
  return !pidAlive(pid);
}

/** The spawner's children (/proc/PID/task/PID/children). */
function childrenOf(pid: number): number[] {
  const kids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
  return kids ? kids.split(' ').map(Number) : [];
}

/** The spawner's warm child: its one child that is none of the `shims` it started (they stay its children). */
async function warmChild(spawner: number, shims: number[] = []): Promise<number> {
  for (let i = 0; i < 250; i++) {
    const kids = childrenOf(spawner).filter((k) => !shims.includes(k));
    if (kids.length === 1) return kids[0]!;
    await sleep(20);
  }
  assert.fail(`spawner ${spawner}: no warm child (children: ${childrenOf(spawner).join(' ')})`);
}

describe('the shim spawner', { skip }, () => {
  test('a warm child forked ahead takes the next request; one killed while it waits is replaced', { timeout: 30_000 }, async () => {
    const s = new ShimSpawner(SHIM, () => []);
    spawners.push(s);
    // the spawner starts with one (a start then waits for no fork)
    const first = await s.spawn(request(), 'x');
    const sp = spawnerPid(s);
    const warm = await warmChild(sp, [first.pid]);
    assert.equal(readFileSync(`/proc/${warm}/cmdline`, 'utf8').replace(/\0+$/, ''), 'berth-shim', 'named as a shim');
    assert.equal(statFields(warm)[0], sp);
    const shim = await s.spawn(request(), 'x');
    assert.equal(shim.pid, warm, 'the warm child became the shim');
    {
      await using c = await ShimClient.connect(shim.socket);
      assert.equal((await c.state()).shim_pid, warm);
    }
    // Killed while it waits: the next start forks as before, and another warm child follows.
    const next = await warmChild(sp, [first.pid, shim.pid]);
    assert.ok(next !== warm && next !== first.pid);
    process.kill(next, 'SIGKILL');
    assert.ok(await gone(next));
    const after = await s.spawn(request(), 'x');
    assert.ok(pidAlive(after.pid) && after.pid !== next);
    {
      await using c = await ShimClient.connect(after.socket);
      assert.equal((await c.state()).shim_pid, after.pid);
    }
    // It dies with the spawner (a shim it became does not).
    const last = await warmChild(sp, [first.pid, shim.pid, after.pid]);
    process.kill(sp, 'SIGKILL');
    assert.ok(await gone(last), 'the warm child died with its spawner');
    assert.ok(pidAlive(after.pid), 'the shims live on');
  });

  test('ten shims at once: each answer reaches its caller, and each shim serves its socket', { timeout: 30_000 }, async () => {
    const s = new ShimSpawner(SHIM, () => []);
    spawners.push(s);
    const reqs = Array.from({ length: 10 }, request);
    const shims = await Promise.all(reqs.map((r) => s.spawn(r, 'plan text: not read before launch')));
    assert.equal(new Set(shims.map((x) => x.socket)).size, 10);
    for (const [k, shim] of shims.entries()) {
      assert.equal(shim.socket, join(reqs[k]!.state_dir, 'shim.sock'));
      await using c = await ShimClient.connect(shim.socket);
      const st = await c.state();
      assert.equal(st.shim_pid, shim.pid);
      // The monitor is the spawner's own child (one fork per container), in a session and
      // process group of its own: a signal to berthd's group (a ctrl-c) never reaches it.
      const [ppid, pgrp, session] = statFields(shim.pid);
      assert.equal(ppid, spawnerPid(s));
      assert.equal(session, shim.pid, 'the monitor leads a session of its own');
      assert.equal(pgrp, shim.pid);
      assert.notEqual(statFields(spawnerPid(s))[2], session);
    }
  });

  test("a refused request reads as startShim's refusal, and the spawner goes on", { timeout: 30_000 }, async () => {
    const s = new ShimSpawner(SHIM, () => []);
    spawners.push(s);
    const bad = { ...request(), v: 7 } as unknown as ShimRequest;
    const direct = await startShim(bad, 'x', SHIM).then(
      () => 'started',
      (e: Error) => e.message,
    );
    const spawned = await s.spawn(bad, 'x').then(
      () => 'started',
      (e: Error) => e.message,
    );
    assert.match(direct, /'v' must be 1/);
    assert.equal(spawned, direct);
    const ok = await s.spawn(request(), 'x');
    assert.ok(pidAlive(ok.pid));
  });

  test('a hint (id 0, no bytes: berthd sends it at a create) forks the warm child at once, and is never answered', {
    timeout: 30_000,
  }, async () => {
    const logs: string[] = [];
    // idle for ten minutes before a warm child comes unasked: only the hint makes one here
    const s = new ShimSpawner(
      SHIM,
      () => [],
      (m) => logs.push(m),
      undefined,
      600_000,
    );
    spawners.push(s);
    const first = await s.spawn(request(), 'x'); // takes the one made at the spawner's start
    const sp = spawnerPid(s);
    await sleep(300);
    assert.deepEqual(
      childrenOf(sp).filter((k) => k !== first.pid),
      [],
      'no warm child unasked',
    );
    s.warm();
    const warm = await warmChild(sp, [first.pid]);
    s.warm(); // one is there: nothing more
    await sleep(200);
    assert.deepEqual(
      childrenOf(sp).filter((k) => k !== first.pid),
      [warm],
    );
    const shim = await s.spawn(request(), 'x');
    assert.equal(shim.pid, warm, 'the hinted warm child took the next request');
    assert.deepEqual(logs, [], 'no answer to a hint, nothing unexpected');
  });

  test('with --nsinit, the warm child starts berth-nsinit ahead: a plain launch uses it, any other kills it', {
    timeout: 30_000,
  }, async () => {
    const s = new ShimSpawner(SHIM, () => [], undefined, NSINIT);
    spawners.push(s);
    const first = await s.spawn(request(), 'x');
    const sp = spawnerPid(s);
    const ahead = async (warm: number) => {
      for (let i = 0; i < 250; i++) {
        const kids = childrenOf(warm);
        if (kids.length === 1) return kids[0]!;
        await sleep(20);
      }
      assert.fail(`warm child ${warm} started no berth-nsinit`);
    };
    const warm = await warmChild(sp, [first.pid]);
    const nsinit = await ahead(warm);
    // What it holds while it waits for a plan: stdin /dev/null, the two output pipes, its sync
    // socket; in the warm child's own session (not berthd's); no signal blocked.
    const fds = Object.fromEntries(readdirSync(`/proc/${nsinit}/fd`).map((f) => [f, readlinkSync(`/proc/${nsinit}/fd/${f}`)]));
    assert.deepEqual(Object.keys(fds).sort(), ['0', '1', '2', '3'], JSON.stringify(fds));
    assert.equal(fds['0'], '/dev/null');
    assert.match(fds['1']!, /^pipe:/);
    assert.match(fds['2']!, /^pipe:/);
    assert.match(fds['3']!, /^socket:/);
    assert.deepEqual(statFields(nsinit).slice(0, 1), [warm]);
    assert.equal(statFields(nsinit)[2], warm, 'its session is the warm child’s');
    assert.equal(statFields(warm)[2], warm);
    assert.match(readFileSync(`/proc/${nsinit}/status`, 'utf8'), /\nSigBlk:\s*0+\n/);

    // A plain launch is given to it (the plan is nonsense: nsinit's refusal is not the point).
    const shim = await s.spawn({ ...request(), launch: true }, 'not a plan');
    assert.equal(shim.pid, warm);
    {
      await using c = await ShimClient.connect(shim.socket);
      assert.equal((await c.request('launch')).helper_pid, nsinit, 'the launch used the berth-nsinit started ahead');
    }
    // A launch with stdin is not what it was started for: killed before the answer, a new one launched.
    const warm2 = await warmChild(sp, [first.pid, warm]);
    const nsinit2 = await ahead(warm2);
    const shim2 = await s.spawn({ ...request(), launch: true, stdin: true }, 'not a plan');
    assert.equal(shim2.pid, warm2);
    assert.ok(!pidAlive(nsinit2), 'killed at once');
    {
      await using c = await ShimClient.connect(shim2.socket);
      const helper = (await c.request('launch')).helper_pid;
      assert.ok(typeof helper === 'number' && helper !== nsinit2, `launched anew: ${helper}`);
    }
    // dead before its plan came: the launch starts another (the plan is not lost)
    const warm3 = await warmChild(sp, [first.pid, warm, warm2]);
    const nsinit3 = await ahead(warm3);
    process.kill(nsinit3, 'SIGKILL');
    assert.ok(await gone(nsinit3));
    const shim3 = await s.spawn({ ...request(), launch: true }, 'not a plan');
    {
      await using c = await ShimClient.connect(shim3.socket);
      const helper = (await c.request('launch')).helper_pid;
      assert.ok(typeof helper === 'number' && helper > 0 && helper !== nsinit3, `launched anew: ${helper}`);
    }
  });

  test('the spawner holds no fd of its caller but its pipes, and no shim holds the spawner’s pipes', { timeout: 30_000 }, async () => {
    const secret = join(work, 'secret');
    writeFileSync(secret, 'x');
    const fd = openSync(secret, 'r');
    try {
      const s = new ShimSpawner(SHIM, () => []);
      spawners.push(s);
      const shim = await s.spawn(request(), 'x');
      // an fd may close between the listing and its readlink (the listing's own, in our process)
      const links = (pid: number) =>
        readdirSync(`/proc/${pid}/fd`).flatMap((f) => {
          try {
            return [readlinkSync(`/proc/${pid}/fd/${f}`)];
          } catch {
            return [];
          }
        });
      const sp = links(spawnerPid(s));
      assert.ok(!sp.includes(secret), `the spawner holds: ${sp.join(', ')}`);
      // stdin, stdout, stderr, berth-nsinit's sealed copy, and its warm child's two pipes
      assert.deepEqual(
        sp.filter((l) => !/^(pipe|socket):|^\/memfd:/.test(l)),
        [],
        `the spawner holds: ${sp.join(', ')}`,
      );
      assert.ok(sp.length <= 6, `the spawner holds its pipes only: ${sp.join(', ')}`);
      const warm = await warmChild(spawnerPid(s), [shim.pid]);
      const wl = links(warm);
      assert.ok(!wl.includes(secret), `the warm child holds: ${wl.join(', ')}`);
      assert.equal(readlinkSync(`/proc/${warm}/fd/0`), '/dev/null', "the warm child's stdin is not the spawner's request pipe");
      const mine = new Set(links(process.pid).filter((l) => l.startsWith('pipe:')));
      const sh = links(shim.pid);
      assert.ok(!sh.some((l) => mine.has(l)), `the shim holds none of our pipes: ${sh.join(', ')}`);
    } finally {
      closeSync(fd);
    }
  });

  test('a killed spawner is replaced at the next start; one whose parent is SIGKILLed dies with it', { timeout: 30_000 }, async () => {
    const s = new ShimSpawner(SHIM, () => []);
    spawners.push(s);
    const orphan = await s.spawn(request(), 'x');
    const first = spawnerPid(s);
    process.kill(first, 'SIGKILL');
    assert.ok(await gone(first));
    await sleep(50);
    // its shim lives on, reparented, and still serves its socket
    assert.notEqual(statFields(orphan.pid)[0], first);
    {
      await using c = await ShimClient.connect(orphan.socket);
      assert.equal((await c.state()).shim_pid, orphan.pid);
    }
    const shim = await s.spawn(request(), 'x');
    assert.ok(pidAlive(shim.pid));
    assert.notEqual(spawnerPid(s), first);

    // A parent of its own, SIGKILLed: the spawner must not outlive it (PDEATHSIG).
    const script = join(work, 'parent.mjs');
    writeFileSync(
      script,
      `import { spawn } from 'node:child_process';
const c = spawn(${JSON.stringify(SHIM)}, ['--spawner'], { stdio: ['pipe', 'pipe', 'inherit'] });
console.log(c.pid);
setInterval(() => {}, 1000);
`,
    );
    const parent = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const pid = await new Promise<number>((resolve) => parent.stdout.once('data', (d: Buffer) => resolve(Number(String(d).trim()))));
    assert.ok(pidAlive(pid));
    parent.kill('SIGKILL');
    assert.ok(await gone(pid), `spawner ${pid} died with its parent`);
  });

  test('a shim SIGKILLed before it answers: the spawner answers for it, and goes on', { timeout: 30_000 }, async () => {
    // The shim opens its request's `shim_cgroups` files for writing before it answers; a FIFO
    // with no reader holds it there, to be killed between two lines.
    const fifo = join(work, 'hold.fifo');
    assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
    const sp = spawn(SHIM, ['--spawner'], { stdio: ['pipe', 'pipe', 'inherit'] });
    const lines: string[] = [];
    let buf = '';
    sp.stdout.setEncoding('utf8').on('data', (d: string) => {
      buf += d;
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        lines.push(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
      }
    });
    try {
      sp.stdin.write(encodeSpawnRequest(1, { ...request(), shim_cgroups: [fifo] }, 'x'));
      const childOf = () => {
        const kids = readFileSync(`/proc/${sp.pid}/task/${sp.pid}/children`, 'utf8').trim();
        return kids ? Number(kids.split(' ')[0]) : undefined;
      };
      let held = childOf();
      for (let i = 0; i < 250 && !held; i++) {
        await sleep(20);
        held = childOf();
      }
      assert.ok(held, 'the shim is forked and held');
      await sleep(50);
      assert.deepEqual(lines, [], 'no answer while it is held');
      process.kill(held, 'SIGKILL');
      for (let i = 0; i < 250 && lines.length === 0; i++) await sleep(20);
      assert.deepEqual(parseSpawnAnswer(lines[0] ?? ''), { id: 1, error: 'the shim died before it was ready' });
      // and the next request is served
      const req = request();
      sp.stdin.write(encodeSpawnRequest(2, req, 'x'));
      for (let i = 0; i < 250 && lines.length < 2; i++) await sleep(20);
      const ok = parseSpawnAnswer(lines[1] ?? '');
      assert.equal(ok?.id, 2);
      assert.ok(ok?.shim && pidAlive(ok.shim.pid), `the next shim answers: ${lines[1]}`);
      assert.equal(lines.length, 2, 'one answer each');
    } finally {
      sp.kill('SIGKILL');
    }
  });

  test('a shim binary without the spawner mode: shims are started directly', { timeout: 30_000 }, async () => {
    const old = join(work, 'old-shim');
    writeFileSync(old, `#!/bin/sh\n[ "$1" = --spawner ] && exit 2\nexec ${SHIM} "$@"\n`);
    chmodSync(old, 0o755);
    const logs: string[] = [];
    const s = new ShimSpawner(
      old,
      () => [],
      (m) => logs.push(m),
    );
    spawners.push(s);
    const [a, b] = await Promise.all([s.spawn(request(), 'x'), s.spawn(request(), 'x')]);
    assert.ok(pidAlive(a.pid) && pidAlive(b.pid));
    const c = await s.spawn(request(), 'x');
    assert.ok(pidAlive(c.pid));
    assert.ok(
      logs.some((l) => /no spawner mode/.test(l)),
      logs.join('\n'),
    );
  });
});
