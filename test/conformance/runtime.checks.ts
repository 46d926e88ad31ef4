/**
 * runtime.md: state, lifecycle and operations (create, start, state, kill,
 * delete) — plus the runtime-tools command-line interface (cli/…), which is
 * how the operations are invoked.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readlinkSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cmdline, create, pidAlive, state, waitForExit, waitForFile, waitForStatus } from '../helpers/container.js';
import { ProbeOutput } from '../helpers/probe.js';
import { PROBE } from '../helpers/spec.js';
import {
  assertNoContainer,
  cgroupDirsOf,
  cgroupMounts,
  created,
  removeCgroupTreesNamed,
  setProbe,
  shq,
  sleeperBundle,
  started,
  statusOrAbsent,
  uniqueCgroupPath,
} from './common.js';
import { type Check, expectError, expectFailure, expectSuccess } from './harness.js';

const STATUSES = ['creating', 'created', 'running', 'stopped'];
/** The error for an id that names no container (berth and runc: "container does not exist"). */
const NOT_EXIST = /container\b.*\b(does not exist|not found)|no such container/i;

export const runtimeChecks: Check[] = [
  // ------------------------------------------------------------------ state
  {
    id: 'runtime/state-json-fields',
    doc: 'runtime.md#state',
    level: 'MUST',
    quote:
      "ociVersion (string, REQUIRED) … id (string, REQUIRED) … status (string, REQUIRED) … pid (int, REQUIRED when status is created or running on Linux) … bundle (string, REQUIRED) is the absolute path to the container's bundle directory",
    async run(ctx) {
      const b = await sleeperBundle(ctx);
      const c = await created(ctx, b);
      for (const phase of ['created', 'running'] as const) {
        if (phase === 'running') await started(ctx.rt, c.id);
        const s = await state(ctx.rt, c.id);
        assert.equal(typeof s.ociVersion, 'string', `${phase}: ociVersion must be a string: ${JSON.stringify(s)}`);
        assert.match(String(s.ociVersion), /^\d+\.\d+\.\d+/, `${phase}: ociVersion should be a SemVer version`);
        assert.equal(s.id, c.id, `${phase}: id`);
        assert.equal(typeof s.status, 'string', `${phase}: status must be a string`);
        assert.ok(
          typeof s.pid === 'number' && Number.isInteger(s.pid) && s.pid > 0,
          `${phase}: pid must be a positive int, got ${JSON.stringify(s.pid)}`,
        );
        assert.equal(typeof s.bundle, 'string', `${phase}: bundle must be a string`);
        const bundle = String(s.bundle);
        assert.ok(bundle.startsWith('/'), `${phase}: bundle must be absolute: ${bundle}`);
        assert.equal(realpathSync(bundle), realpathSync(b.dir), `${phase}: bundle must be the bundle directory`);
      }
    },
  },
  {
    id: 'runtime/state-annotations',
    doc: 'runtime.md#state',
    level: 'SHOULD',
    quote: 'annotations (map, OPTIONAL) contains the list of annotations associated with the container',
    async run(ctx) {
      const annotations = { 'org.example.berth.key': 'value', 'com.example.empty': '' };
      const b = await sleeperBundle(ctx, (s) => {
        s.annotations = annotations;
      });
      const c = await created(ctx, b);
      const s = await state(ctx.rt, c.id);
      assert.deepEqual(s.annotations, annotations, 'state.annotations must be the config annotations');
    },
  },
  {
    id: 'runtime/state-unknown-id-error',
    doc: 'runtime.md#query-state',
    level: 'MUST',
    quote: 'Attempting to query a container that does not exist MUST generate an error.',
    async run(ctx) {
      expectError(await ctx.rt.run(['state', ctx.id('nosuch')]), 'state of an unknown id', NOT_EXIST);
    },
  },
  {
    id: 'runtime/operations-require-id',
    doc: 'runtime.md#operations',
    level: 'MUST',
    quote: 'This operation MUST generate an error if it is not provided the ID of a container. (state, create, start, kill, delete)',
    async run(ctx) {
      const b = await sleeperBundle(ctx);
      for (const args of [['state'], ['start'], ['kill'], ['delete'], ['create', '--bundle', b.dir]]) {
        expectFailure(await ctx.rt.run(args), `'${args[0]}' without an id`);
      }
      const list = await ctx.rt.run(['list', '--format', 'json']);
      expectSuccess(list, 'list');
      const parsed = JSON.parse(list.stdout.trim() || 'null') as unknown[] | null;
      assert.equal((parsed ?? []).length, 0, `create without an id must not create a container: ${list.stdout}`);
    },
  },

  // ----------------------------------------------------------------- create
  {
    id: 'runtime/create-status-created',
    doc: 'runtime.md#create',
    level: 'MUST',
    quote: 'Upon successful completion of this operation the status property of this container MUST be created.',
    async run(ctx) {
      const b = await sleeperBundle(ctx);
      const c = await created(ctx, b);
      assert.equal((await state(ctx.rt, c.id)).status, 'created');
    },
  },
  {
    id: 'runtime/create-does-not-run-program',
    doc: 'runtime.md#lifecycle',
    level: 'MUST NOT',
    quote: 'While the resources requested in the config.json MUST be created, the user-specified program MUST NOT be run at this time.',
    async run(ctx) {
      const out = ctx.tmpdir('out');
      const b = await ctx.bundle({ probeArgs: [] });
      await b.editConfig((s) => {
        setProbe(s, ['append', '/out/ran', 'yes'], ['sleep', '600']);
        s.mounts?.push({ destination: '/out', type: 'bind', source: out, options: ['rbind', 'rw'] });
      });
      const c = await created(ctx, b);
      await state(ctx.rt, c.id);
      assert.equal(existsSync(join(out, 'ran')), false, 'the user program ran during create');
      const argv = await cmdline(c.pid());
      assert.notEqual(argv[0], PROBE, `the container process already executes the user program: ${argv.join(' ')}`);
      await started(ctx.rt, c.id);
      await waitForFile(join(out, 'ran'));
    },
  },
  {
    id: 'runtime/create-duplicate-id-error',
    doc: 'runtime.md#create',
    level: 'MUST',
    quote:
      'If the ID provided is not unique across all containers within the scope of the runtime, or is not valid in any other way, the implementation MUST generate an error and a new container MUST NOT be created.',
    async run(ctx) {
      const b1 = await sleeperBundle(ctx);
      const b2 = await sleeperBundle(ctx);
      const c = await created(ctx, b1);
      const pid = c.pid();
      const before = await state(ctx.rt, c.id);
      const again = await create(ctx.rt, b2, c.id);
      expectFailure(again.result, 'create with an id already in use');
      const after = await state(ctx.rt, c.id);
      assert.equal(after.pid, before.pid, 'the existing container must keep its pid');
      assert.equal(after.status, 'created', 'the existing container must keep its status');
      assert.equal(realpathSync(String(after.bundle)), realpathSync(b1.dir), 'the existing container must keep its bundle');
      assert.ok(pidAlive(pid), 'the existing container process must still be alive');
    },
  },
  {
    id: 'runtime/create-invalid-id-error',
    doc: 'runtime.md#create',
    level: 'MUST',
    quote:
      'If the ID provided … is not valid in any other way, the implementation MUST generate an error and a new container MUST NOT be created.',
    async run(ctx) {
      const b = await sleeperBundle(ctx);
      for (const bad of ['../escape', 'a/b', '']) {
        const r = await create(ctx.rt, b, bad);
        expectFailure(r.result, `create with id ${JSON.stringify(bad)}`);
      }
      assert.equal(existsSync(join(ctx.rt.rootDir, '..', 'escape')), false, 'an id with .. must not create state outside --root');
      const list = await ctx.rt.run(['list', '--format', 'json']);
      const parsed = JSON.parse(list.stdout.trim() || 'null') as unknown[] | null;
      assert.equal((parsed ?? []).length, 0, `no container may be created: ${list.stdout}`);
    },
  },
  {
    id: 'runtime/create-error-leaves-no-trace',
    doc: 'runtime.md#errors',
    level: 'MUST',
    quote:
      'If the runtime is unable to create the environment specified in the config.json, it MUST generate an error. … generating an error MUST leave the state of the environment as if the operation were never attempted',
    async run(ctx) {
      const id = ctx.id('fail');
      const cgPath = uniqueCgroupPath(ctx, id);
      const b = await sleeperBundle(ctx, (s, bb) => {
        s.linux = { ...s.linux, cgroupsPath: cgPath };
        // A bind mount whose source does not exist: the environment cannot be created.
        s.mounts?.push({ destination: '/missing', type: 'bind', source: join(bb.dir, 'does-not-exist'), options: ['rbind'] });
      });
      const r = await create(ctx.rt, b, id);
      expectFailure(r.result, 'create with an impossible mount');
      await assertNoContainer(ctx.rt, id, 'after a failed create');
      for (const m of cgroupMounts()) {
        assert.equal(existsSync(join(m, cgPath)), false, `a failed create left the cgroup ${join(m, cgPath)}`);
      }
      // The pid file must not name a live process.
      if (existsSync(r.pidFile)) {
        const pid = Number(readFileSync(r.pidFile, 'utf8').trim());
        if (pid > 0) assert.equal(pidAlive(pid), false, `a failed create left process ${pid} alive`);
      }
    },
  },
  {
    id: 'runtime/create-config-changes-no-effect',
    doc: 'runtime.md#create',
    level: 'MUST NOT',
    quote: 'Any updates to config.json after this step MUST NOT affect the container.',
    async run(ctx) {
      const b = await ctx.bundle({ probeArgs: ['hostname', '+', 'argv'] });
      await b.editConfig((s) => {
        s.hostname = 'before-create';
      });
      const c = await created(ctx, b);
      await b.editConfig((s) => {
        s.hostname = 'after-create';
        setProbe(s, ['echo', 'changed']);
      });
      await started(ctx.rt, c.id);
      await waitForExit(c.pid());
      const out = new ProbeOutput(await c.stdout());
      assert.equal(out.value('hostname'), 'before-create', 'hostname changed after create must not apply');
      assert.deepEqual(out.lines('argv'), [PROBE, 'hostname', '+', 'argv'], 'process args changed after create must not apply');
    },
  },

  // ------------------------------------------------------------------ start
  {
    id: 'runtime/start-runs-program',
    doc: 'runtime.md#start',
    level: 'MUST',
    quote: 'This operation MUST run the user-specified program as specified by process.',
    async run(ctx) {
      const b = await ctx.bundle({ probeArgs: ['echo', 'hello from the container', '+', 'argv'] });
      const c = await created(ctx, b);
      await started(ctx.rt, c.id);
      await waitForExit(c.pid());
      const out = new ProbeOutput(await c.stdout());
      assert.equal(out.value('echo', 'hello from the container'), 'hello from the container');
      assert.deepEqual(out.lines('argv'), [PROBE, 'echo', 'hello from the container', '+', 'argv']);
    },
  },
  {
    id: 'runtime/start-status-running',
    doc: 'runtime.md#start',
    level: 'MUST',
    quote: 'Upon successful completion of this operation the status property of this container MUST be running.',
    async run(ctx) {
      const b = await sleeperBundle(ctx);
      const c = await created(ctx, b);
      await started(ctx.rt, c.id);
      const s = await state(ctx.rt, c.id);
      assert.equal(s.status, 'running');
      assert.equal(s.pid, c.pid(), 'state.pid must stay the pid written at create');
    },
  },
  {
    id: 'runtime/state-pid-is-container-process',
    doc: 'runtime.md#state',
    level: 'MUST',
    quote: 'pid (int, REQUIRED when status is created or running on Linux) is the ID of the container process … as seen by the runtime',
    async run(ctx) {
      const b = await sleeperBundle(ctx);
      const c = await created(ctx, b);
      await started(ctx.rt, c.id);
      const s = await state(ctx.rt, c.id);
      assert.equal(typeof s.pid, 'number');
      assert.deepEqual(
        await cmdline(Number(s.pid)),
        [PROBE, 'sleep', '600'],
        'host /proc/<state.pid>/cmdline must be the container process',
      );
    },
  },
  {
    id: 'runtime/create-without-process',
    doc: 'config.md#process, runtime.md#start',
    level: 'MUST',
    quote:
      'process (object, OPTIONAL) specifies the container process. This property is REQUIRED when start is called. … [start] This operation MUST generate an error if process was not set.',
    async run(ctx) {
      const b = await ctx.bundle({ probeArgs: [] });
      await b.editConfig((s) => {
        delete s.process;
      });
      const id = ctx.id();
      const c = await create(ctx.rt, b, id);
      expectSuccess(c.result, 'create without process (it is only required by start)');
      assert.equal((await state(ctx.rt, id)).status, 'created');
      expectError(await ctx.rt.run(['start', id]), 'start of a container without process', /\bprocess\b/i);
      assert.notEqual(await statusOrAbsent(ctx.rt, id), 'running', 'no program can be running');
      expectSuccess(await ctx.rt.run(['delete', '--force', id]), 'delete --force afterwards');
      await assertNoContainer(ctx.rt, id, 'after delete --force');
    },
  },
  {
    id: 'runtime/start-unknown-id-error',
    doc: 'runtime.md#start',
    level: 'MUST',
    quote: 'Attempting to start a container that does not exist MUST generate an error.',
    async run(ctx) {
      expectError(await ctx.rt.run(['start', ctx.id('nosuch')]), 'start of an unknown id', NOT_EXIST);
    },
  },
  {
    id: 'runtime/start-running-error',
    doc: 'runtime.md#start',
    level: 'MUST',
    quote: 'Attempting to start a container that is not created MUST have no effect on the container and MUST generate an error. (running)',
    async run(ctx) {
      const b = await ctx.bundle({ probeArgs: ['echo', 'started', '+', 'sleep', '600'] });
      const c = await created(ctx, b);
      await started(ctx.rt, c.id);
      await waitForFile(c.stdoutFile, (s) => s.includes('started'));
      expectFailure(await ctx.rt.run(['start', c.id]), 'start of a running container');
      const s = await state(ctx.rt, c.id);
      assert.equal(s.status, 'running');
      assert.equal(s.pid, c.pid());
      assert.ok(pidAlive(c.pid()));
      const runs = (await c.stdout()).split('\n').filter((l) => l === 'started').length;
      assert.equal(runs, 1, 'the program must not have been run a second time');
    },
  },
  {
    id: 'runtime/start-stopped-error',
    doc: 'runtime.md#start',
    level: 'MUST',
    quote: 'Attempting to start a container that is not created MUST have no effect on the container and MUST generate an error. (stopped)',
    async run(ctx) {
      const b = await ctx.bundle({ probeArgs: ['echo', 'started'] });
      const c = await created(ctx, b);
      await started(ctx.rt, c.id);
      await waitForExit(c.pid());
      await waitForStatus(ctx.rt, c.id, 'stopped');
      expectFailure(await ctx.rt.run(['start', c.id]), 'start of a stopped container');
      assert.equal((await state(ctx.rt, c.id)).status, 'stopped');
      const runs = (await c.stdout()).split('\n').filter((l) => l === 'started').length;
      assert.equal(runs, 1, 'the program must not have been run a second time');
    },
  },

  // ------------------------------------------------------------- lifecycle
  {
    id: 'runtime/status-stopped-after-exit',
    doc: 'runtime.md#state',
    level: 'MUST',
    quote: 'stopped: the container process has exited',
    async run(ctx) {
      const b = await ctx.bundle({ probeArgs: ['exit', '3'] });
      const c = await created(ctx, b);
      await started(ctx.rt, c.id);
      await waitForExit(c.pid());
      await waitForStatus(ctx.rt, c.id, 'stopped');
    },
  },
  {
    id: 'runtime/status-values',
    doc: 'runtime.md#state',
    level: 'MUST',
    quote: 'Additional values MAY be defined by the runtime, however, they MUST be used to represent new runtime states not defined above.',
    async run(ctx) {
      // Through a plain lifecycle only the spec's own values may appear.
      const b = await sleeperBundle(ctx);
      const c = await created(ctx, b);
      const seen = [String((await state(ctx.rt, c.id)).status)];
      await started(ctx.rt, c.id);
      seen.push(String((await state(ctx.rt, c.id)).status));
      expectSuccess(await ctx.rt.run(['kill', c.id, 'KILL']), 'kill');
      await waitForExit(c.pid());
      seen.push(String((await waitForStatus(ctx.rt, c.id, 'stopped')).status));
      for (const s of seen) assert.ok(STATUSES.includes(s), `unexpected status ${s}`);
      assert.deepEqual(seen, ['created', 'running', 'stopped']);
    },
  },

  // ------------------------------------------------------------------- kill
  {
    id: 'runtime/kill-sends-signal',
    doc: 'runtime.md#kill',
    level: 'MUST',
    quote: 'This operation MUST send the specified signal to the container process.',
    async run(ctx) {
      const b = await ctx.bundle({ probeArgs: ['wait-signal', '120'] });
      const c = await created(ctx, b);
      await started(ctx.rt, c.id);
      await waitForFile(c.stdoutFile, (s) => s.includes('ready'));
      expectSuccess(await ctx.rt.run(['kill', c.id, 'USR1']), 'kill USR1');
      await waitForFile(c.stdoutFile, (s) => s.includes('signal=SIGUSR1'));
      expectSuccess(await ctx.rt.run(['kill', c.id, 'SIGHUP']), 'kill SIGHUP');
      await waitForFile(c.stdoutFile, (s) => s.includes('signal=SIGHUP'));
      expectSuccess(await ctx.rt.run(['kill', c.id, '15']), 'kill 15');
      await waitForFile(c.stdoutFile, (s) => s.includes('signal=SIGTERM'));
      await waitForExit(c.pid());
      await waitForStatus(ctx.rt, c.id, 'stopped');
    },
  },
  {
    id: 'runtime/kill-created',
    doc: 'runtime.md#kill',
    level: 'MUST',
    quote:
      'Attempting to send a signal to a container that is neither created nor running MUST have no effect on the container and MUST generate an error. (a created container can be signalled)',
    async run(ctx) {
      const b = await sleeperBundle(ctx);
      const c = await created(ctx, b);
      expectSuccess(await ctx.rt.run(['kill', c.id, 'KILL']), 'kill KILL of a created container');
      await waitForExit(c.pid());
      await waitForStatus(ctx.rt, c.id, 'stopped');
    },
  },
  {
    id: 'runtime/kill-stopped-error',
    doc: 'runtime.md#kill',
    level: 'MUST',
    quote:
      'Attempting to send a signal to a container that is neither created nor running MUST have no effect on the container and MUST generate an error.',
    async run(ctx) {
      const b = await ctx.bundle({ probeArgs: ['exit', '0'] });
      const c = await created(ctx, b);
      await started(ctx.rt, c.id);
      await waitForExit(c.pid());
      await waitForStatus(ctx.rt, c.id, 'stopped');
      expectFailure(await ctx.rt.run(['kill', c.id, 'TERM']), 'kill of a stopped container');
      assert.equal((await state(ctx.rt, c.id)).status, 'stopped');
    },
  },
  {
    id: 'runtime/kill-unknown-id-error',
    doc: 'runtime.md#kill',
    level: 'MUST',
    quote: 'This operation MUST generate an error if it is not provided the container ID. … (an unknown container)',
    async run(ctx) {
      expectError(await ctx.rt.run(['kill', ctx.id('nosuch'), 'TERM']), 'kill of an unknown id', NOT_EXIST);
    },
  },

  // ----------------------------------------------------------------- delete
  {
    id: 'runtime/delete-running-error',
    doc: 'runtime.md#delete',
    level: 'MUST',
    quote:
      'Attempting to delete a container that is not stopped MUST have no effect on the container and MUST generate an error. (running)',
    async run(ctx) {
      const b = await sleeperBundle(ctx);
      const c = await created(ctx, b);
      await started(ctx.rt, c.id);
      expectFailure(await ctx.rt.run(['delete', c.id]), 'delete of a running container');
      const s = await state(ctx.rt, c.id);
      assert.equal(s.status, 'running');
      assert.ok(pidAlive(c.pid()), 'the container process must still run');
    },
  },
  {
    id: 'runtime/delete-created-error',
    doc: 'runtime.md#delete',
    level: 'MUST',
    quote:
      'Attempting to delete a container that is not stopped MUST have no effect on the container and MUST generate an error. (created)',
    async run(ctx) {
      const b = await sleeperBundle(ctx);
      const c = await created(ctx, b);
      const r = await ctx.rt.run(['delete', c.id]);
      const status = await statusOrAbsent(ctx.rt, c.id);
      expectFailure(r, `delete of a created container (afterwards it is ${status})`);
      assert.equal(status, 'created', 'the container must be unaffected');
      assert.ok(pidAlive(c.pid()), 'the container process must still exist');
      // nothing was torn down: the container still starts
      await started(ctx.rt, c.id);
      assert.equal((await state(ctx.rt, c.id)).status, 'running');
    },
  },
  {
    id: 'cli/delete-force-created',
    doc: 'runc delete --force (not in the OCI CLI spec; containerd shims use it for a container that failed or must go)',
    level: 'SHOULD',
    quote: 'delete --force: forcibly deletes the container if it is still running (uses SIGKILL); a created container included',
    async run(ctx) {
      const b = await sleeperBundle(ctx);
      const c = await created(ctx, b);
      const pid = c.pid();
      expectSuccess(await ctx.rt.run(['delete', '--force', c.id]), 'delete --force of a created container');
      await assertNoContainer(ctx.rt, c.id, 'after delete --force');
      await waitForExit(pid);
      expectSuccess(await ctx.rt.run(['delete', '--force', c.id]), 'delete --force of a container that no longer exists');
    },
  },
  {
    id: 'runtime/delete-removes-container',
    doc: 'runtime.md#delete',
    level: 'MUST',
    quote: 'Deleting a container MUST delete the resources that were created during the create step.',
    async run(ctx) {
      const id = ctx.id('del');
      const cgPath = uniqueCgroupPath(ctx, id);
      const b = await ctx.bundle({ probeArgs: ['exit', '0'] });
      await b.editConfig((s) => {
        s.linux = { ...s.linux, cgroupsPath: cgPath, resources: { ...s.linux?.resources, pids: { limit: 100 } } };
      });
      const c = await created(ctx, b, id);
      const dirs = cgroupDirsOf(c.pid());
      const created_ = [...dirs.values()].filter((d) => d.endsWith(cgPath));
      assert.ok(created_.length > 0, `the container should be in cgroup ${cgPath}: ${JSON.stringify([...dirs])}`);
      await started(ctx.rt, id);
      await waitForExit(c.pid());
      await waitForStatus(ctx.rt, id, 'stopped');
      expectSuccess(await ctx.rt.run(['delete', id]), 'delete of a stopped container');
      await assertNoContainer(ctx.rt, id, 'after delete');
      for (const d of created_) assert.equal(existsSync(d), false, `delete left the cgroup ${d}`);
    },
  },
  {
    id: 'runtime/delete-keeps-foreign-resources',
    doc: 'runtime.md#delete',
    level: 'MUST NOT',
    quote: 'Note that resources associated with the container, but not created by this container, MUST NOT be deleted.',
    async run(ctx) {
      const id = ctx.id('keep');
      const data = ctx.tmpdir('data');
      writeFileSync(join(data, 'keep-me'), 'data');
      const parent = `/berth-conformance-parent-${id}`;
      ctx.finally(() => removeCgroupTreesNamed(parent.slice(1)));
      // A parent cgroup that exists before the container (not created by it).
      const mounts = cgroupMounts().filter((m) => !m.endsWith('/unified'));
      for (const m of mounts) mkdirSync(join(m, parent), { recursive: true });
      const b = await ctx.bundle({ probeArgs: ['exit', '0'] });
      await b.editConfig((s) => {
        s.linux = { ...s.linux, cgroupsPath: `${parent}/${id}` };
        s.mounts?.push({ destination: '/data', type: 'bind', source: data, options: ['rbind', 'rw'] });
      });
      const c = await created(ctx, b, id);
      await started(ctx.rt, id);
      await waitForExit(c.pid());
      await waitForStatus(ctx.rt, id, 'stopped');
      expectSuccess(await ctx.rt.run(['delete', id]), 'delete');
      assert.ok(existsSync(b.configPath), 'the bundle config.json must remain');
      assert.ok(existsSync(b.inRootfs(PROBE)), 'the rootfs must remain');
      assert.equal(readFileSync(join(data, 'keep-me'), 'utf8'), 'data', 'a bind-mount source must remain');
      for (const m of mounts) assert.ok(existsSync(join(m, parent)), `the pre-existing cgroup ${join(m, parent)} must remain`);
    },
  },
  {
    id: 'runtime/delete-unknown-id-error',
    doc: 'runtime.md#delete',
    level: 'MUST',
    quote: 'Attempting to delete a container that does not exist MUST generate an error.',
    async run(ctx) {
      expectError(await ctx.rt.run(['delete', ctx.id('nosuch')]), 'delete of an unknown id', NOT_EXIST);
    },
  },
  {
    id: 'runtime/delete-id-reusable',
    doc: 'runtime.md#delete',
    level: 'MAY',
    quote: 'Once a container is deleted its ID MAY be used by a subsequent container.',
    async run(ctx) {
      const b = await ctx.bundle({ probeArgs: ['exit', '0'] });
      const c = await created(ctx, b);
      await started(ctx.rt, c.id);
      await waitForExit(c.pid());
      await waitForStatus(ctx.rt, c.id, 'stopped');
      expectSuccess(await ctx.rt.run(['delete', c.id]), 'delete');
      const again = await create(ctx.rt, b, c.id);
      expectSuccess(again.result, 'create with the id of a deleted container');
      assert.equal((await state(ctx.rt, c.id)).status, 'created');
    },
  },

  // ----------------------------------------------------- command-line (cli)
  {
    id: 'cli/exec-joins-container',
    doc: 'runc exec (not in the OCI CLI spec; containerd and dockerd use it)',
    level: 'SHOULD',
    quote: 'exec runs a new process inside the container: in all its namespaces and its cgroup, with the container’s root',
    async run(ctx) {
      const b = await sleeperBundle(ctx);
      const c = await created(ctx, b);
      await started(ctx.rt, c.id);
      const init = c.pid();
      const r = await ctx.rt.run(['exec', c.id, PROBE, 'ns', '+', 'cgroup', '+', 'readlink', '/proc/self/root', '+', 'pid']);
      expectSuccess(r, 'exec');
      const out = new ProbeOutput(r.stdout);
      const ns = new Map(out.lines('ns').map((l) => l.split('=') as [string, string]));
      for (const type of ['pid', 'net', 'ipc', 'uts', 'mnt']) {
        assert.equal(ns.get(type), readlinkSync(`/proc/${init}/ns/${type}`), `${type} namespace of the exec'd process`);
      }
      assert.equal(out.text('cgroup'), readFileSync(`/proc/${init}/cgroup`, 'utf8').trim(), 'same cgroups as the init process');
      assert.notEqual(out.value('pid'), '1', 'a new process, not the init process');
      const code = await ctx.rt.run(['exec', c.id, PROBE, 'exit', '7']);
      assert.equal(code.code, 7, 'the exit status of the exec’d process');
    },
  },
  {
    id: 'cli/create-pid-file',
    doc: 'runtime-tools command-line-interface.md#create',
    level: 'MUST',
    quote: '--pid-file <PATH> The runtime MUST write the container PID to this path.',
    async run(ctx) {
      const b = await sleeperBundle(ctx);
      const c = await created(ctx, b);
      const text = readFileSync(c.pidFile, 'utf8');
      assert.match(text, /^\d+\n?$/, `pid file content: ${JSON.stringify(text)}`);
      const s = await state(ctx.rt, c.id);
      assert.equal(Number(text.trim()), s.pid, 'the pid file must hold the container pid (state.pid)');
    },
  },
  {
    id: 'cli/create-stdio-passthrough',
    doc: 'runtime-tools command-line-interface.md#create',
    level: 'MUST',
    quote:
      'If process.terminal is not true: … The runtime MUST pass its stdin/stdout/stderr file descriptor through to the container process without manipulation or modification.',
    async run(ctx) {
      const b = await ctx.bundle({ probeArgs: ['cat', '/proc/self/fd/0', '+', 'isatty', '0', '+', 'isatty', '1', '+', 'isatty', '2'] });
      const input = b.path('stdin.txt');
      writeFileSync(input, 'line one\nline two\n');
      const id = ctx.id();
      const c = await create(ctx.rt, b, id, { prelude: `exec 0<${shq(input)}` });
      expectSuccess(c.result, 'create with stdin from a file');
      await started(ctx.rt, id);
      await waitForExit(c.pid());
      const out = new ProbeOutput(await c.stdout());
      assert.equal(out.text('cat', '/proc/self/fd/0'), 'line one\nline two', 'stdin must reach the container unread');
      for (const fd of ['0', '1', '2']) assert.equal(out.value('isatty', fd), '0', `fd ${fd} must not be a terminal`);
    },
  },
  {
    id: 'cli/kill-default-sigterm',
    doc: 'runtime-tools command-line-interface.md#kill',
    level: 'MUST',
    quote: 'The signal to send (defaults to TERM). The runtime MUST support TERM and KILL signals with the POSIX semantics.',
    async run(ctx) {
      const b = await ctx.bundle({ probeArgs: ['wait-signal', '120'] });
      const c = await created(ctx, b);
      await started(ctx.rt, c.id);
      await waitForFile(c.stdoutFile, (s) => s.includes('ready'));
      expectSuccess(await ctx.rt.run(['kill', c.id]), 'kill without a signal');
      await waitForFile(c.stdoutFile, (s) => s.includes('signal=SIGTERM'));
      await waitForExit(c.pid());
      const b2 = await ctx.bundle({ probeArgs: ['wait-signal', '120'] });
      const c2 = await created(ctx, b2);
      await started(ctx.rt, c2.id);
      await waitForFile(c2.stdoutFile, (s) => s.includes('ready'));
      expectSuccess(await ctx.rt.run(['kill', c2.id, 'KILL']), 'kill KILL');
      await waitForExit(c2.pid());
      await waitForStatus(ctx.rt, c2.id, 'stopped');
    },
  },
  {
    id: 'cli/unknown-command-error',
    doc: 'runtime-tools command-line-interface.md#global-options',
    level: 'MUST',
    quote: 'If the runtime is invoked with an unrecognized command, it MUST exit with a nonzero exit code',
    async run(ctx) {
      expectError(
        await ctx.rt.run(['berth-no-such-command']),
        'an unknown command',
        /(unknown|no help topic|unrecognized|invalid).*berth-no-such-command/i,
      );
    },
  },
  {
    id: 'cli/state-prints-json',
    doc: 'runtime-tools command-line-interface.md#state',
    level: 'MUST',
    quote: 'stdout: The runtime MUST print the state JSON to its stdout.',
    async run(ctx) {
      const b = await sleeperBundle(ctx);
      const c = await created(ctx, b);
      const r = await ctx.rt.run(['state', c.id]);
      expectSuccess(r, 'state');
      const parsed = JSON.parse(r.stdout) as Record<string, unknown>;
      assert.equal(parsed.id, c.id);
    },
  },
];
