/**
 * Engine gaps closed after issue 8, each against what Debian's dockerd 20.10 does (observed with
 * test/helpers/dockerd.ts, the texts below are its own): `docker exec -w` of a missing directory
 * fails and leaves the container alone (runc's words, exit 126; `-d` answers the error), while
 * `docker run -w` still creates it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Berthd, berthdUnavailable, DOCKER_2010 } from './helpers/berthd.js';

const skip = berthdUnavailable();

const EXEC_FAILED = 'OCI runtime exec failed: exec failed: unable to start container process: ';
const ENOTDIR_HINT =
  ': Are you trying to mount a directory onto a file (or vice-versa)? Check if the specified host path exists and is the expected type';

describe('berthd: engine gaps', { skip, timeout: 300_000 }, () => {
  let d: Berthd;
  before(async () => {
    d = await Berthd.start();
  });
  after(async () => {
    await d?.stop();
  });

  const docker = (args: string[], o: { input?: string; cli?: string } = {}) => d.docker(args, o);

  test('exec -w of a missing directory fails as with dockerd (126, runc words); run -w creates it', async () => {
    const up = await docker(['run', '-d', '--name', 'wd', 'busybox', 'sleep', '1000']);
    assert.equal(up.code, 0, up.stderr);
    const pid = (await docker(['inspect', '-f', '{{.State.Pid}}', 'wd'])).stdout.trim();

    const missing = await docker(['exec', '-w', '/missing', 'wd', 'pwd']);
    assert.equal(missing.code, 126);
    assert.equal(
      missing.stdout,
      `${EXEC_FAILED}chdir to cwd ("/missing") set in config.json failed: no such file or directory: unknown\r\n`,
    );
    assert.equal(missing.stderr, '');
    // the 20.10 CLI and a terminal: the same text and code
    const old = await docker(['exec', '-w', '/missing/deeper', 'wd', 'pwd'], { cli: DOCKER_2010 });
    assert.equal(old.code, 126);
    assert.match(old.stdout, /chdir to cwd \("\/missing\/deeper"\) set in config\.json failed: no such file or directory: unknown\r\n$/);
    const tty = await docker(['exec', '-t', '-w', '/missing', 'wd', 'pwd']);
    assert.equal(tty.code, 126, tty.stdout + tty.stderr);
    assert.equal(tty.stdout, `${EXEC_FAILED}chdir to cwd ("/missing") set in config.json failed: no such file or directory: unknown\r\n`);
    // a file: ENOTDIR, with moby's hint
    const file = await docker(['exec', '-w', '/etc/passwd', 'wd', 'pwd']);
    assert.equal(file.code, 126);
    assert.equal(
      file.stdout,
      `${EXEC_FAILED}chdir to cwd ("/etc/passwd") set in config.json failed: not a directory: unknown${ENOTDIR_HINT}\r\n`,
    );
    // detached: the API answers the start error (400), the CLI exits 1
    const det = await docker(['exec', '-d', '-w', '/missing', 'wd', 'pwd']);
    assert.equal(det.code, 1);
    assert.equal(
      det.stderr,
      `Error response from daemon: ${EXEC_FAILED}chdir to cwd ("/missing") set in config.json failed: no such file or directory: unknown\n`,
    );
    const detCmd = await docker(['exec', '-d', 'wd', '/no/such/cmd']);
    assert.equal(detCmd.code, 1);
    assert.match(detCmd.stderr, /^Error response from daemon: OCI runtime exec failed: .*no such file or directory: unknown\n$/);
    // and a detached exec that starts still answers at once, with its pid in the exec record
    const created = await d.api('POST', '/containers/wd/exec', { Cmd: ['sleep', '1'] });
    const execId = (created.body as { Id: string }).Id;
    assert.equal((await d.api('POST', `/exec/${execId}/start`, { Detach: true })).status, 200);
    const ins = (await d.api('GET', `/exec/${execId}/json`)).body as { Running: boolean; Pid: number };
    assert.equal(ins.Running, true);
    assert.ok(ins.Pid > 0);

    // nothing was created; the container runs on, untouched
    const ls = await docker(['exec', 'wd', 'ls', '/']);
    assert.equal(ls.code, 0, ls.stderr);
    assert.doesNotMatch(ls.stdout, /^missing$/m);
    const after = await docker(['inspect', '-f', '{{.State.Status}} {{.State.Pid}}', 'wd']);
    assert.equal(after.stdout.trim(), `running ${pid}`);
    // an existing directory still works
    const tmp = await docker(['exec', '-w', '/tmp', 'wd', 'pwd']);
    assert.equal(tmp.stdout, '/tmp\n');
    await docker(['rm', '-f', 'wd']);

    // docker run -w creates the directory (Docker does), nested too
    const run = await docker(['run', '--rm', '-w', '/newdir/a', 'busybox', 'pwd']);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, '/newdir/a\n');
  });
});
