/**
 * berthd driven by the client libraries people use instead of the CLI: dockerode 5 (Node),
 * docker-py (Debian's python3-docker) and testcontainers (Node). Assertions are on the
 * libraries' own return values: what `run`, `wait`, `exec`, `logs`, `attach` give back.
 *
 * dockerode and testcontainers are devDependencies; the test takes them from the project's
 * node_modules or, failing that, from BERTH_TEST_NODE_MODULES (a node_modules made by
 * `npm install --prefix /tmp/x dockerode@5 testcontainers`), and skips saying so otherwise.
 *
 *   BERTH_TEST_NODE_MODULES=/tmp/diff-npm/node_modules \
 *     node --import tsx --test --test-concurrency=1 test/engine-clients.test.ts
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { Berthd, berthdUnavailable } from './helpers/berthd.js';
import { findBinary, REPO_ROOT, runCommand } from './helpers/runtime.js';

/** A CommonJS package from the project, else from BERTH_TEST_NODE_MODULES; undefined when neither has it. */
function load(name: string): unknown {
  const places = [join(REPO_ROOT, 'package.json')];
  if (process.env.BERTH_TEST_NODE_MODULES) places.push(join(process.env.BERTH_TEST_NODE_MODULES, '..', 'package.json'));
  for (const p of places) {
    try {
      return createRequire(p)(name);
    } catch {
      /* not there */
    }
  }
  return undefined;
}
const missing = (name: string, spec: string) =>
  `${name} is not installed: npm install -D ${spec} (or point BERTH_TEST_NODE_MODULES at a node_modules that has it)`;

// biome-ignore lint/suspicious/noExplicitAny: the libraries' own types are not installed with the project
type Any = any;
const Dockerode = load('dockerode') as Any;
const testcontainers = load('testcontainers') as Any;

const skip = berthdUnavailable();

/** All of a stream, as text. */
function text(s: Readable): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    s.on('data', (c: Buffer) => chunks.push(Buffer.from(c)));
    s.on('end', () => resolve(Buffer.concat(chunks).toString()));
    s.on('error', reject);
  });
}

describe('berthd with client libraries', { skip, timeout: 180_000 }, () => {
  let d: Berthd;
  before(async () => {
    d = await Berthd.start();
  });
  after(async () => {
    await d?.stop();
  });

  describe('dockerode', { skip: Dockerode ? undefined : missing('dockerode', 'dockerode@5') }, () => {
    const client = () => new Dockerode({ socketPath: d.socket });

    test('ping and version', async () => {
      const c = client();
      assert.equal(String(await c.ping()), 'OK');
      const v = await c.version();
      assert.equal(v.ApiVersion, '1.41');
      assert.equal(v.Os, 'linux');
    });

    test('create, start, wait, logs (demultiplexed): the exit code and both streams', async () => {
      const c = client();
      const ctr = await c.createContainer({
        Image: 'busybox',
        Cmd: ['sh', '-c', 'echo out; echo err >&2; exit 3'],
        HostConfig: { NetworkMode: 'none' },
        name: 'dode-wait',
      });
      await ctr.start();
      const w = await ctr.wait();
      assert.equal(w.StatusCode, 3);
      const logs: Buffer = await ctr.logs({ stdout: true, stderr: true, follow: false });
      // demuxStream reads a stream: feed it the buffer, collect the two sides
      const src = new PassThrough();
      const o2 = new PassThrough();
      const e2 = new PassThrough();
      c.modem.demuxStream(src, o2, e2);
      src.end(logs);
      await new Promise((r) => src.on('end', r));
      o2.end();
      e2.end();
      assert.equal(await text(o2), 'out\n');
      assert.equal(await text(e2), 'err\n');
      const info = await ctr.inspect();
      assert.equal(info.State.Status, 'exited');
      assert.equal(info.State.ExitCode, 3);
      assert.deepEqual(info.Config.Cmd, ['sh', '-c', 'echo out; echo err >&2; exit 3']);
      assert.equal(info.Name, '/dode-wait');
      await ctr.remove();
    });

    test('run(): attach, start, wait in one call', async () => {
      const c = client();
      const out = new PassThrough();
      const err = new PassThrough();
      const [data, ctr] = await c.run('busybox', ['sh', '-c', 'echo hello; echo oops >&2; exit 2'], [out, err], {
        Tty: false,
        HostConfig: { NetworkMode: 'none', AutoRemove: false },
      });
      out.end();
      err.end();
      assert.equal(data.StatusCode, 2);
      assert.equal(await text(out), 'hello\n');
      assert.equal(await text(err), 'oops\n');
      await ctr.remove();
    });

    test('exec: output, exit code, user; list, kill, wait, remove, a 404', async () => {
      const c = client();
      const ctr = await c.createContainer({
        Image: 'busybox',
        Cmd: ['sleep', '1000'],
        HostConfig: { NetworkMode: 'none' },
        name: 'dode-exec',
      });
      await ctr.start();
      const ex = await ctr.exec({ Cmd: ['sh', '-c', 'echo in-exec; id -u; exit 5'], AttachStdout: true, AttachStderr: true, User: '1000' });
      const stream = await ex.start({ hijack: true, stdin: false });
      const out = new PassThrough();
      c.modem.demuxStream(stream, out, new PassThrough());
      await new Promise((r) => stream.on('end', r));
      out.end();
      assert.equal(await text(out), 'in-exec\n1000\n');
      const ei = await ex.inspect();
      assert.equal(ei.ExitCode, 5);
      assert.equal(ei.Running, false);
      const list = await c.listContainers({ filters: { name: ['dode-exec'] } });
      assert.deepEqual(
        list.map((x: Any) => [x.Names, x.State, x.Command]),
        [[['/dode-exec'], 'running', 'sleep 1000']],
      );
      await ctr.kill();
      const w = await ctr.wait();
      assert.equal(w.StatusCode, 137);
      await ctr.remove();
      await assert.rejects(c.getContainer('dode-exec').inspect(), (e: Any) => e.statusCode === 404);
      await assert.rejects(
        c.getContainer('nosuch').kill(),
        (e: Any) => e.statusCode === 404 && /No such container: nosuch/.test(e.message),
      );
    });
  });

  describe('docker-py', { skip: findBinary('python3') === undefined ? 'needs python3' : undefined }, () => {
    test('containers.run (remove, detach), logs, exec_run, stop, wait, kill, attach_socket, NotFound', async () => {
      const check = await runCommand(['python3', '-c', 'import docker']);
      if (check.code !== 0) return assert.fail(`python3-docker is missing (apt-get install python3-docker): ${check.stderr}`);
      const script = String.raw`
import docker, json, sys, time, socket
c = docker.DockerClient(base_url=sys.argv[1])
out = {}
out["ping"] = c.ping()
out["api"] = c.version()["ApiVersion"]
out["run"] = c.containers.run("busybox", ["sh", "-c", "echo hello; echo err >&2"], remove=True, network_mode="none").decode()
out["run_stderr"] = c.containers.run("busybox", ["sh", "-c", "echo hello; echo err >&2"], remove=True, stdout=False, stderr=True, network_mode="none").decode()
try:
    c.containers.run("busybox", ["sh", "-c", "echo bad >&2; exit 3"], remove=True, network_mode="none")
except docker.errors.ContainerError as e:
    out["run_error"] = [e.exit_status, e.stderr.decode() if e.stderr else None]
d = c.containers.run("busybox", ["sh", "-c", "echo started; exec sleep 1000"], detach=True, name="py-det", network_mode="none")
for i in range(100):
    if b"started" in d.logs():
        break
    time.sleep(0.05)
out["logs"] = d.logs().decode()
r = d.exec_run(["sh", "-c", "echo in-exec; exit 4"])
out["exec"] = [r.exit_code, r.output.decode()]
r = d.exec_run(["sh", "-c", "echo o; echo e >&2"], demux=True)
out["exec_demux"] = [x.decode() if x else None for x in r.output]
r = d.exec_run("id -u", user="1000", workdir="/tmp", environment={"X": "1"})
out["exec_user"] = [r.exit_code, r.output.decode()]
d.reload()
out["status"] = d.status
d.stop(timeout=1)
d.reload()
out["stopped"] = [d.status, d.attrs["State"]["ExitCode"]]
out["wait"] = d.wait()
d.remove()
k = c.containers.run("busybox", ["sleep", "1000"], detach=True, network_mode="none")
k.kill()
out["kill_wait"] = k.wait()["StatusCode"]
k.remove()
a = c.containers.create("busybox", ["sh", "-c", "read x; echo got-$x"], stdin_open=True, network_mode="none")
s = a.attach_socket(params={"stdin": 1, "stdout": 1, "stream": 1})
a.start()
raw = s._sock
raw.sendall(b"hi\n")
raw.settimeout(10)
buf = b""
while b"got-hi" not in buf:
    chunk = raw.recv(4096)
    if not chunk:
        break
    buf += chunk
out["attach"] = buf[8:].decode() if len(buf) > 8 else buf.decode()
out["attach_header"] = list(buf[:8])
s.close()
out["attach_wait"] = a.wait()["StatusCode"]
a.remove()
try:
    c.containers.get("nosuch")
except docker.errors.NotFound as e:
    out["notfound"] = str(e.explanation)
print(json.dumps(out))
`;
      const r = await runCommand(['python3', '-c', script, d.host], { guardMs: 90_000 });
      assert.equal(r.code, 0, r.stderr);
      const o = JSON.parse(r.stdout) as Record<string, unknown>;
      assert.equal(o.ping, true);
      assert.equal(o.api, '1.41');
      assert.equal(o.run, 'hello\n', 'containers.run returns stdout only by default');
      assert.equal(o.run_stderr, 'err\n');
      assert.deepEqual(o.run_error, [3, 'bad\n']);
      assert.equal(o.logs, 'started\n');
      assert.deepEqual(o.exec, [4, 'in-exec\n']);
      assert.deepEqual(o.exec_demux, ['o\n', 'e\n']);
      assert.deepEqual(o.exec_user, [0, '1000\n']);
      assert.equal(o.status, 'running');
      assert.deepEqual(o.stopped, ['exited', 137]);
      assert.deepEqual(o.wait, { StatusCode: 137, Error: null });
      assert.equal(o.kill_wait, 137);
      assert.equal(o.attach, 'got-hi\n');
      assert.deepEqual(o.attach_header, [1, 0, 0, 0, 0, 0, 0, 7], 'one stdout frame of 7 bytes');
      assert.equal(o.attach_wait, 0);
      assert.equal(o.notfound, 'No such container: nosuch');
    });
  });

  describe('testcontainers', { skip: testcontainers ? undefined : missing('testcontainers', 'testcontainers@10') }, () => {
    test('GenericContainer busybox: start, exec, logs, stop (Ryuk disabled)', async () => {
      // testcontainers reads its environment once, at its first use
      process.env.DOCKER_HOST = d.host;
      process.env.TESTCONTAINERS_RYUK_DISABLED = 'true';
      // Inside a container (/.dockerenv, as on this test machine) testcontainers looks for the
      // host's address: GET /networks/bridge for its gateway (berthd has no network routes yet,
      // a 404), then a run of alpine:3.14 (a pull, no internet here). The socket is local: say so.
      process.env.TESTCONTAINERS_HOST_OVERRIDE = 'localhost';
      const { GenericContainer } = testcontainers;
      const started = await new GenericContainer('busybox').withCommand(['sh', '-c', 'echo ready; exec sleep 100']).start();
      try {
        const id: string = started.getId();
        assert.match(id, /^[0-9a-f]{64}$/);
        const ex = await started.exec(['sh', '-c', 'echo from-exec; exit 3']);
        assert.equal(ex.exitCode, 3);
        assert.equal(ex.output, 'from-exec\n');
        const ok = await started.exec(['cat', '/etc/hostname']);
        assert.equal(ok.exitCode, 0);
        assert.equal(ok.output.trim(), id.slice(0, 12));
        // logs() follows: read until the line is there, then let go of the stream
        const stream: Readable = await started.logs();
        const logs = await new Promise<string>((resolve) => {
          let acc = '';
          stream.on('data', (c: Buffer | string) => {
            acc += String(c);
            if (acc.includes('ready')) resolve(acc);
          });
          stream.on('end', () => resolve(acc));
        });
        stream.destroy();
        assert.match(logs, /^ready$/m);
        const insp = await d.api('GET', `/containers/${id}/json`);
        assert.equal((insp.body as Any).Config.Labels['org.testcontainers'], 'true', "testcontainers' labels are kept");
      } finally {
        const stopped = await started.stop({ timeout: 1 });
        assert.ok(stopped);
      }
      const left = await d.api('GET', `/containers/json?all=1&filters=${encodeURIComponent('{"label":["org.testcontainers=true"]}')}`);
      assert.deepEqual(left.body, [], 'stop() removed the container');
    });
  });
});
