/**
 * The Engine API client (src/client/) against a real berthd and Debian's dockerd 20.10, with the
 * same assertions for both: negotiation, a container's output through a hijacked attach and
 * through demuxed logs, the daemon's error messages, a missing socket, the events stream, and a
 * client that drops a stream half-way (no socket may stay open on either side).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { PassThrough, Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect } from '../src/client/client.js';
import { demux, eventsStream } from '../src/client/streams.js';
import { ApiError, ConnectError, type EngineClient } from '../src/client/types.js';
import { Berthd, berthdUnavailable } from './helpers/berthd.js';
import { Dockerd, dockerdUnavailable } from './helpers/dockerd.js';

interface Daemon {
  host: string;
  socket: string;
  stop(): Promise<unknown>;
}

class Collect extends Writable {
  parts: Buffer[] = [];
  override _write(c: Buffer, _e: string, cb: () => void) {
    this.parts.push(c);
    cb();
  }
  get text() {
    return Buffer.concat(this.parts).toString();
  }
}

/** Connected unix sockets whose server end is this path (the daemon's accepted connections). */
function openConnections(path: string): number {
  const out = execFileSync('ss', ['-xH', 'state', 'connected'], { encoding: 'utf8' });
  return out.split('\n').filter((l) => l.split(/\s+/).includes(path)).length;
}

async function waitFor(pred: () => boolean, ms = 5000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (pred()) return true;
    await sleep(50);
  }
  return pred();
}

const daemons: { name: string; skip: string | undefined; start: () => Promise<Daemon> }[] = [
  { name: 'berthd', skip: berthdUnavailable(), start: () => Berthd.start() },
  { name: 'dockerd', skip: dockerdUnavailable(), start: () => Dockerd.start() },
];

for (const d of daemons) {
  describe(`client against ${d.name}`, { skip: d.skip }, () => {
    let daemon: Daemon;
    let c: EngineClient;
    const body = (cmd: string) => ({ Image: 'busybox', Cmd: ['sh', '-c', cmd], HostConfig: { NetworkMode: 'none' } });

    before(async () => {
      daemon = await d.start();
      c = connect({ host: daemon.host });
    });
    after(async () => {
      c?.close();
      await daemon?.stop();
    });

    it('negotiates 1.41 and reads /version', async () => {
      const v = await c.json<{ ApiVersion: string; Os: string }>('GET', '/version');
      assert.equal(c.version, '1.41');
      assert.equal(v.status, 200);
      assert.equal(v.body.ApiVersion, '1.41');
      assert.equal(v.body.Os, 'linux');
    });

    it('creates, attaches (hijack, half-closed), starts: stdout and stderr apart', async () => {
      const { body: created } = await c.json<{ Id: string }>('POST', '/containers/create', {
        body: body('echo out; echo err >&2; exit 3'),
      });
      const { socket, head } = await c.hijack('POST', `/containers/${created.Id}/attach`, {
        query: { stream: true, stdout: true, stderr: true },
      });
      socket.end(); // no stdin: the CLI half-closes at once; the output must still come
      const src = new PassThrough();
      src.write(head);
      socket.pipe(src);
      const out = new Collect();
      const err = new Collect();
      const copied = demux(src, out, err);
      await c.json('POST', `/containers/${created.Id}/start`);
      await copied;
      assert.equal(out.text, 'out\n');
      assert.equal(err.text, 'err\n');
      const w = await c.json<{ StatusCode: number }>('POST', `/containers/${created.Id}/wait`);
      assert.equal(w.body.StatusCode, 3);

      const logs = await c.stream('GET', `/containers/${created.Id}/logs`, { query: { stdout: true, stderr: true } });
      const lo = new Collect();
      const le = new Collect();
      await demux(logs, lo, le);
      assert.equal(lo.text, 'out\n');
      assert.equal(le.text, 'err\n');
      await c.json('DELETE', `/containers/${created.Id}`);
    });

    it('exec start over a hijacked connection: stdin in, half-close, output out', async () => {
      const { body: created } = await c.json<{ Id: string }>('POST', '/containers/create', { body: body('sleep 30') });
      await c.json('POST', `/containers/${created.Id}/start`);
      const { body: exec } = await c.json<{ Id: string }>('POST', `/containers/${created.Id}/exec`, {
        body: { AttachStdin: true, AttachStdout: true, AttachStderr: true, Tty: false, Cmd: ['sh', '-c', 'cat; echo done >&2'] },
      });
      const { socket, head } = await c.hijack('POST', `/exec/${exec.Id}/start`, { body: { Detach: false, Tty: false } });
      const src = new PassThrough();
      src.write(head);
      socket.pipe(src);
      const out = new Collect();
      const err = new Collect();
      const copied = demux(src, out, err);
      socket.write('hello from stdin\n');
      socket.end(); // stdin EOF: cat ends, the output must still arrive
      await copied;
      assert.equal(out.text, 'hello from stdin\n');
      assert.equal(err.text, 'done\n');
      const info = await c.json<{ ExitCode: number; Running: boolean }>('GET', `/exec/${exec.Id}/json`);
      assert.equal(info.body.ExitCode, 0);
      await c.json('DELETE', `/containers/${created.Id}`, { query: { force: true } });
    });

    it("a 404 is an ApiError with the daemon's message", async () => {
      await assert.rejects(
        c.json('GET', '/containers/nosuch/json'),
        (e: unknown) => e instanceof ApiError && e.status === 404 && e.message === 'No such container: nosuch',
      );
      await assert.rejects(
        c.hijack('POST', '/containers/nosuch/attach', { query: { stream: true, stdout: true } }),
        (e: unknown) => e instanceof ApiError && e.status === 404 && e.message === 'No such container: nosuch',
      );
    });

    it('a missing socket is a ConnectError that keeps the host', async () => {
      const host = `unix://${daemon.socket}.missing`;
      const m = connect({ host });
      await assert.rejects(
        m.json('GET', '/version'),
        (e: unknown) => e instanceof ConnectError && e.host === host && e.message.includes(host),
      );
      m.close();
    });

    it('streams events as they happen', async () => {
      const res = await c.stream('GET', '/events', { query: { filters: JSON.stringify({ type: { container: true } }) } });
      const created = c.json<{ Id: string }>('POST', '/containers/create', { body: body('true') });
      let id = '';
      for await (const ev of eventsStream(res)) {
        id ||= (await created).body.Id;
        assert.equal(ev.Type, 'container');
        if (ev.Action === 'create') {
          assert.equal(ev.Actor.ID, id);
          break;
        }
      }
      assert.ok(id);
      await c.json('DELETE', `/containers/${id}`);
    });

    it('a client dropping a stream half-way leaves no socket open', async () => {
      const own = connect({ host: daemon.host, apiVersion: '1.41' });
      const before = openConnections(daemon.socket);
      const { body: created } = await own.json<{ Id: string }>('POST', '/containers/create', {
        body: body('while :; do echo tick; sleep 0.05; done'),
      });
      await own.json('POST', `/containers/${created.Id}/start`);
      const res = await own.stream('GET', `/containers/${created.Id}/logs`, { query: { follow: true, stdout: true } });
      const got = await new Promise<Buffer>((resolve) => res.once('data', resolve));
      assert.match(got.toString(), /tick/);
      res.destroy();
      own.close();
      assert.ok(
        await waitFor(() => openConnections(daemon.socket) <= before),
        `the daemon closed its end (${openConnections(daemon.socket)} > ${before})`,
      );
      // the daemon is still fine
      const r = await c.json<{ Id: string }>('GET', `/containers/${created.Id}/json`);
      assert.equal(r.body.Id, created.Id);
      await c.json('DELETE', `/containers/${created.Id}`, { query: { force: true } });
    });
  });
}
