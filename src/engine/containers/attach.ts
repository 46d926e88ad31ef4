/**
 * Attach: a client's connection joined to the container's stdio through a shim connection of
 * its own. Output is written raw with a terminal, else in stdcopy frames; stdin flows the other
 * way and, with StdinOnce, its end closes the container's stdin. An attach to a container that
 * is not started yet waits for start, which connects it before the process runs (no output is
 * missed: `docker run` attaches, waits, then starts). The stream ends once every attached output
 * stream has ended (the shim sends an eof per stream after the exit) or the shim goes away.
 */
import type { Duplex } from 'node:stream';
import type { Engine } from '../engine.js';
import { ShimClient } from '../shim/client.js';
import { isActive } from './record.js';

export interface AttachOptions {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
}

/** Docker's stdcopy frame: [stream, 0, 0, 0, len BE] + payload. */
export function stdFrame(stream: 1 | 2, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head[0] = stream;
  head.writeUInt32BE(data.length, 4);
  return Buffer.concat([head, data]);
}

export async function attachContainer(engine: Engine, ref: string, o: AttachOptions, conn: Duplex): Promise<void> {
  const rec = engine.containers.get(ref);
  const id = rec.Id;
  const tty = rec.Config.Tty === true;
  const stdin = o.stdin && rec.Config.OpenStdin === true;
  const wire = (socket: string) => wireShim(socket, { ...o, stdin }, tty, rec.Config.StdinOnce === true, conn);
  if (rec.State.Status === 'running' || rec.State.Status === 'paused') {
    await wire(engine.shimSocket(id));
    return;
  }
  if (isActive(rec.State.Status) || rec.State.Status === 'created' || rec.State.Status === 'exited') {
    // Wait for the next start (a created container, or one restarted later by `docker start`).
    const unregister = engine.addPendingAttach(id, wire);
    const drop = () => {
      unregister();
      conn.end();
    };
    conn.once('close', unregister);
    engine.signals.once(`removed:${id}`, drop);
    conn.once('close', () => engine.signals.off(`removed:${id}`, drop));
    return;
  }
  conn.end();
}

async function wireShim(socket: string, o: AttachOptions, tty: boolean, stdinOnce: boolean, conn: Duplex): Promise<void> {
  let c: ShimClient;
  try {
    c = await ShimClient.connect(socket);
    await c.attach({ stdin: o.stdin, stdout: o.stdout, stderr: o.stderr && !tty });
  } catch {
    conn.end();
    return;
  }
  let open = (o.stdout ? 1 : 0) + (o.stderr && !tty ? 1 : 0);
  const finish = () => {
    c.close();
    if (!conn.writableEnded) conn.end();
  };
  if (open === 0 && !o.stdin) {
    // nothing to carry but the lifetime: end with the container
    c.once('close', finish);
  }
  c.on('stdout', (b) => conn.write(tty ? b : stdFrame(1, b)));
  c.on('stderr', (b) => conn.write(stdFrame(2, b)));
  c.on('end', () => {
    if (--open <= 0) finish();
  });
  c.on('close', finish);
  conn.on('close', () => c.close());
  conn.on('error', () => c.close());
  if (o.stdin) {
    conn.on('data', (d: Buffer) => {
      try {
        c.writeStdin(d);
      } catch {
        // the shim went away: 'close' ends the stream
      }
    });
    conn.on('end', () => {
      if (stdinOnce) c.closeStdin().catch(() => {});
    });
  }
}
