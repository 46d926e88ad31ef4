/**
 * scripts/berthd.sh, the quickstart's service wrapper, driven against a stand-in daemon (a small
 * Node program named berthd.mjs that writes its pid file, answers GET /_ping on its unix socket
 * and exits on SIGTERM), in private roots: start waits for /_ping, status and stop go by the pid
 * file and only ever signal a berthd, a daemon deaf to SIGTERM gets SIGKILL, a daemon that dies
 * at start is reported with its log.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { REPO_ROOT } from './helpers/runtime.js';

const SCRIPT = join(REPO_ROOT, 'scripts', 'berthd.sh');

const FAKE = `
import { createServer } from 'node:http';
import { rmSync, writeFileSync } from 'node:fs';
const argv = process.argv.slice(2);
const arg = (f) => { const i = argv.indexOf(f); return i < 0 ? undefined : argv[i + 1]; };
if (process.env.FAKE_EXIT) { console.error('fake berthd: failing at start as told'); process.exit(1); }
const sock = arg('-H').replace(/^unix:\\/\\//, '');
const pidfile = arg('--pidfile');
console.log('fake berthd argv', JSON.stringify(argv));
writeFileSync(pidfile, process.pid + '\\n');
const srv = createServer((req, res) => { res.end(req.url === '/_ping' ? 'OK' : 'no'); });
srv.listen(sock);
process.on('SIGTERM', () => {
  if (process.env.FAKE_DEAF) return;
  srv.close(); rmSync(pidfile, { force: true }); rmSync(sock, { force: true }); process.exit(0);
});
`;

function instance(t: TestContext) {
  const dir = mkdtempSync(join(tmpdir(), 'berth-svc-'));
  const fake = join(dir, 'berthd.mjs');
  writeFileSync(fake, FAKE);
  mkdirSync(join(dir, 'data'));
  const env = {
    ...process.env,
    BERTHD_CMD: `${process.execPath} ${fake}`,
    BERTH_DATA_ROOT: join(dir, 'data'),
    BERTH_EXEC_ROOT: join(dir, 'exec'),
    BERTH_HOST: `unix://${join(dir, 'b.sock')}`,
    BERTH_START_TIMEOUT: '10',
  };
  mkdirSync(env.BERTH_EXEC_ROOT);
  const pidfile = join(env.BERTH_EXEC_ROOT, 'berthd.pid');
  const run = (verb: string, extra: Record<string, string> = {}) =>
    spawnSync('bash', [SCRIPT, verb], { env: { ...env, ...extra }, encoding: 'utf8', timeout: 30_000 });
  t.after(() => {
    // whatever a failed assertion left running
    if (existsSync(pidfile)) {
      const pid = Number(readFileSync(pidfile, 'utf8'));
      try {
        process.kill(pid, 'SIGKILL');
      } catch {}
    }
    rmSync(dir, { recursive: true, force: true });
  });
  return { dir, env, pidfile, run, log: join(dir, 'berthd.log') };
}

describe('scripts/berthd.sh', () => {
  it('start waits for /_ping, status and stop follow the pid file', (t) => {
    const s = instance(t);
    const started = s.run('start');
    assert.equal(started.status, 0, started.stderr);
    assert.match(started.stdout, /^berthd is running \(pid \d+\), listening on unix:\/\/.*b\.sock; log: .*berthd\.log$/m);
    const pid = Number(readFileSync(s.pidfile, 'utf8'));
    // detached: its own session
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    assert.equal(Number(stat[3]), pid, 'the daemon leads its own session (setsid)');
    const ping = spawnSync('curl', ['-fsS', '--unix-socket', join(s.dir, 'b.sock'), 'http://localhost/_ping'], { encoding: 'utf8' });
    assert.equal(ping.stdout, 'OK');
    // the env became flags; the log is next to the data root
    const log = readFileSync(s.log, 'utf8');
    assert.match(
      log,
      new RegExp(
        `"--data-root","${s.env.BERTH_DATA_ROOT}","--exec-root","${s.env.BERTH_EXEC_ROOT}","-H","unix://[^"]*b.sock","--pidfile","${s.pidfile}"`,
      ),
    );

    assert.equal(s.run('status').stdout, `berthd is running (pid ${pid})\n`);
    assert.equal(s.run('start').stdout, `berthd is already running (pid ${pid})\n`);

    const stopped = s.run('stop');
    assert.equal(stopped.status, 0, stopped.stderr);
    assert.equal(stopped.stdout, `berthd stopped (was pid ${pid})\n`);
    assert.equal(existsSync(s.pidfile), false);
    const st = s.run('status');
    assert.equal(st.status, 3);
    assert.equal(st.stdout, 'berthd is stopped\n');
    assert.equal(s.run('stop').stdout, 'berthd is stopped\n');
  });

  it('a command with interpreter options before berthd: status and stop still find it', (t) => {
    const s = instance(t);
    const cmd = `${process.execPath} --no-warnings --max-old-space-size=256 --stack-size=900 --no-deprecation ${join(s.dir, 'berthd.mjs')}`;
    assert.equal(s.run('start', { BERTHD_CMD: cmd }).status, 0);
    const pid = Number(readFileSync(s.pidfile, 'utf8'));
    assert.equal(s.run('status').stdout, `berthd is running (pid ${pid})\n`);
    assert.equal(s.run('stop').stdout, `berthd stopped (was pid ${pid})\n`);
    assert.equal(existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z'), false);
  });

  it('BERTH_DOCKER_SOCKET: a second listener where the docker CLI looks, the first one kept', (t) => {
    const s = instance(t);
    const dockerSock = join(s.dir, 'docker.sock');
    const started = s.run('start', { BERTH_DOCKER_SOCKET: dockerSock });
    assert.equal(started.status, 0, started.stderr);
    const argv = JSON.parse(/fake berthd argv (.*)/.exec(readFileSync(s.log, 'utf8'))![1]!) as string[];
    const hosts = argv.flatMap((a, i) => (a === '-H' ? [argv[i + 1]] : []));
    assert.deepEqual(hosts, [s.env.BERTH_HOST, `unix://${dockerSock}`]);
    assert.equal(s.run('stop').status, 0);
  });

  it('a daemon deaf to SIGTERM gets SIGKILL after the stop timeout', (t) => {
    const s = instance(t);
    assert.equal(s.run('start', { FAKE_DEAF: '1' }).status, 0);
    const pid = Number(readFileSync(s.pidfile, 'utf8'));
    const t0 = Date.now();
    const r = s.run('stop', { BERTH_STOP_TIMEOUT: '1' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /did not exit within 1s of SIGTERM: sending SIGKILL/);
    assert.ok(Date.now() - t0 >= 1000);
    assert.equal(existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z'), false);
    assert.equal(existsSync(s.pidfile), false, 'the pid file of the killed daemon is removed');
  });

  it('a daemon that dies at start: exit 1 with the end of its log', (t) => {
    const s = instance(t);
    const r = s.run('start', { FAKE_EXIT: '1' });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /berthd exited during start; the end of .*berthd\.log:\n[\s\S]*fake berthd: failing at start as told/);
  });

  it('a pid file naming another program: stopped, and that program is left alone', async (t) => {
    const s = instance(t);
    const other = spawn('sleep', ['30'], { stdio: 'ignore' });
    t.after(() => other.kill('SIGKILL'));
    writeFileSync(s.pidfile, `${other.pid}\n`);
    assert.equal(s.run('status').status, 3);
    assert.equal(s.run('stop').stdout, 'berthd is stopped\n');
    assert.equal(other.exitCode, null);
    assert.equal(other.signalCode, null);
    writeFileSync(s.pidfile, 'garbage');
    assert.equal(s.run('status').stdout, 'berthd is stopped\n');
  });

  it('start gives up after the timeout when nothing answers', (t) => {
    const s = instance(t);
    // the daemon listens elsewhere than where the script looks
    const r = s.run('start', {
      BERTHD_ARGS: '',
      BERTH_START_TIMEOUT: '1',
      BERTHD_CMD: `${s.env.BERTHD_CMD} -H unix://${join(s.dir, 'elsewhere.sock')}`,
    });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /did not answer on unix:\/\/.*b\.sock within 1s; stopping it/);
  });
});
