import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { ApiError, ConnectError } from '../client/types.js';
import { type Io, main } from './main.js';
import { buildTree } from './tree.js';
import { type CliContext, CliError, type CommandSpec, type Invocation, UsageError } from './types.js';

function io(env: NodeJS.ProcessEnv = {}) {
  const out = new PassThrough();
  const err = new PassThrough();
  let o = '';
  let e = '';
  out.on('data', (d: Buffer) => {
    o += d;
  });
  err.on('data', (d: Buffer) => {
    e += d;
  });
  const v: Io = { stdin: new PassThrough(), stdout: out, stderr: err, env: { HOME: '/nonexistent', BERTH_NO_AUTOSTART: '1', ...env } };
  return { io: v, out: () => o, err: () => e };
}

let seen: { ctx?: CliContext; inv?: Invocation } = {};
const failing = (name: string, err: unknown, extra: Partial<CommandSpec> = {}): CommandSpec => ({
  name,
  usage: `${name} [OPTIONS] THING`,
  short: `Do ${name}`,
  flags: [{ name: 'force', short: 'f', kind: 'bool', usage: 'Force' }],
  async run(ctx, inv) {
    seen = { ctx, inv };
    if (err !== undefined) throw err;
    return 3;
  },
  ...extra,
});

function treeWith(...commands: CommandSpec[]) {
  return buildTree('berth', [{ name: 'container', short: 'Manage containers', commands }], []);
}

describe('main', () => {
  it('runs a command with its flags, args, the typed path, and its exit status', async () => {
    const t = io();
    const code = await main(['-D', 'container', 'rm', '-f', 'a', 'b'], t.io, treeWith(failing('rm', undefined, { topLevel: 'rm' })));
    assert.equal(code, 3);
    assert.equal(seen.inv?.command, 'berth container rm');
    assert.deepEqual(seen.inv?.args, ['a', 'b']);
    assert.equal(seen.inv?.flags.bool('force'), true);
    assert.equal(seen.ctx?.debug, true);
    assert.equal(seen.ctx?.configDir, '/nonexistent/.docker');
    await main(['--config', '/cfg', 'rm', 'x'], t.io, treeWith(failing('rm', undefined, { topLevel: 'rm' })));
    assert.equal(seen.inv?.command, 'berth rm');
    assert.equal(seen.ctx?.configDir, '/cfg');
  });

  it('global flags end at the command: a global flag after it is the command’s (unknown) flag', async () => {
    const t = io();
    const code = await main(['container', 'rm', '-D', 'x'], t.io, treeWith(failing('rm', undefined)));
    assert.equal(code, 125);
    assert.equal(
      t.err(),
      "unknown shorthand flag: 'D' in -D\n\nUsage:  berth container rm [OPTIONS] THING\n\nRun 'berth container rm --help' for more information\n",
    );
  });

  it('a daemon error: "Error response from daemon", exit 1', async () => {
    const t = io();
    const code = await main(['container', 'rm', 'x'], t.io, treeWith(failing('rm', new ApiError(404, 'No such container: x'))));
    assert.equal(code, 1);
    assert.equal(t.err(), 'Error response from daemon: No such container: x\n');
  });

  it('run wraps its errors as docker run does (125, 126, 127)', async () => {
    const cases: [unknown, number, string][] = [
      [new ApiError(400, 'Invalid container name (x)'), 125, 'berth: Error response from daemon: Invalid container name (x)'],
      [
        new ApiError(400, 'failed to create task: exec: "nope": executable file not found in $PATH'),
        127,
        'berth: Error response from daemon: failed',
      ],
      [new ApiError(400, 'exec /etc: permission denied'), 126, 'berth: Error response from daemon: exec /etc'],
    ];
    for (const [e, status, start] of cases) {
      const t = io();
      const code = await main(['container', 'run', 'img'], t.io, treeWith(failing('run', e)));
      assert.equal(code, status);
      assert.ok(t.err().startsWith(start), t.err());
      assert.ok(t.err().endsWith("\n\nRun 'berth run --help' for more information\n"), t.err());
    }
    // its own exit status (the container's) passes through untouched
    const t = io();
    assert.equal(await main(['container', 'run', 'img'], t.io, treeWith(failing('run', new CliError('', 42)))), 42);
    assert.equal(t.err(), '');
  });

  it('CliError: its message and code; UsageError: with the usage', async () => {
    let t = io();
    assert.equal(await main(['container', 'rm', 'x'], t.io, treeWith(failing('rm', new CliError('nope', 7)))), 7);
    assert.equal(t.err(), 'nope\n');
    t = io();
    assert.equal(await main(['container', 'rm', 'x'], t.io, treeWith(failing('rm', new UsageError('bad -f', 125)))), 125);
    assert.equal(t.err(), "bad -f\n\nUsage:  berth container rm [OPTIONS] THING\n\nRun 'berth container rm --help' for more information\n");
  });

  it('the default socket silent: how to start berthd; another host: the client’s words', async () => {
    let t = io({ BERTH_DEFAULT_HOST: 'unix:///nonexistent/b.sock' });
    const spec: CommandSpec = {
      name: 'ls',
      usage: 'ls',
      short: 'List',
      flags: [],
      async run(ctx) {
        await ctx.client();
        throw new ConnectError(
          'unix:///nonexistent/b.sock',
          'Cannot connect to the Docker daemon at unix:///nonexistent/b.sock. Is the docker daemon running?',
        );
      },
    };
    assert.equal(await main(['container', 'ls'], t.io, treeWith(spec)), 1);
    assert.match(t.err(), /^Cannot connect to berthd at unix:\/\/\/nonexistent\/b\.sock\. Is berthd running\?\n.*berthd\.sh start/s);
    t = io({ DOCKER_HOST: 'unix:///elsewhere.sock' });
    assert.equal(await main(['container', 'ls'], t.io, treeWith(spec)), 1);
    assert.equal(t.err(), 'Cannot connect to the Docker daemon at unix:///nonexistent/b.sock. Is the docker daemon running?\n');
  });

  it('a bad endpoint: "Failed to initialize"', async () => {
    const t = io({ DOCKER_HOST: 'foo://x' });
    const spec: CommandSpec = { name: 'ls', usage: 'ls', short: 'List', flags: [], run: async (ctx) => (await ctx.client(), 0) };
    assert.equal(await main(['container', 'ls'], t.io, treeWith(spec)), 1);
    assert.match(t.err(), /^Failed to initialize: unable to resolve docker endpoint: /);
  });

  it('an unexpected error: its message (its stack with -D), exit 1', async () => {
    let t = io();
    assert.equal(await main(['container', 'rm', 'x'], t.io, treeWith(failing('rm', new TypeError('boom')))), 1);
    assert.equal(t.err(), 'boom\n');
    t = io();
    assert.equal(await main(['-D', 'container', 'rm', 'x'], t.io, treeWith(failing('rm', new TypeError('boom')))), 1);
    assert.match(t.err(), /^TypeError: boom\n {4}at /);
  });
});
