/**
 * berthd's CLI host: runs `berth` commands handed over by the `berth` front (a small static C
 * program, native/cli/front.c) in worker threads of the daemon, so a command costs no Node
 * start-up. One worker per command, started ahead of time (a warm one waits for the next
 * command, and is let go after a minute without use), terminated when the command ends; its
 * faults end the worker, not berthd. The host owns the descriptors the front passed and closes
 * them once the worker is gone.
 *
 * Per connection: peer credentials (peer.ts) → the request with the front's stdio descriptors
 * (request.ts) → a worker runs it (src/cli/hosted.ts) → `exit N`, `die SIG` or `fallback`.
 * The front's `sig N` lines become the command's signals. docs/cli.md "The front and berthd's
 * CLI host".
 */
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { FromWorker, RunRequest, ToWorker } from '../../cli/hosted.js';
import { errnoCode } from '../../common/errors.js';
import { dupCloexec, peerCred, recvFds } from '../../native/addon.js';
import { closeQuietly } from '../archive/resolve.js';
import { refusal } from './peer.js';
import { type CliRequest, parseRequest, requestLength, signalName, signalNumber } from './request.js';

export interface CliHostOptions {
  /** Where the front connects: `<exec-root>/cli.sock`. */
  socketPath: string;
  /** berthd's own API sockets: commands for any other daemon are not run here. */
  ownSockets: string[];
  log?: (line: string) => void;
  /** How long a warm worker waits for a command before it is let go. */
  idleMs?: number;
}

/** The worker's script: the berth bundle next to berthd's, or the sources through tsx. */
function workerScript(): { file: string; execArgv: string[] } {
  const here = path.dirname(fileURLToPath(import.meta.url));
  // the loader, which compiles berth.main.cjs with its code cache
  const bundled = path.join(here, 'berth.cjs');
  if (existsSync(bundled)) return { file: bundled, execArgv: [] };
  return { file: path.join(here, '../../bin/berth.ts'), execArgv: ['--import', 'tsx'] };
}

const REQUEST_DEADLINE_MS = 2000;

interface Pooled {
  worker: Worker;
  ready: Promise<void>;
}

/** Warm workers kept for the next command (each 12–16 MB): one, so that the CLI costs berthd no more than a docker CLI process. */
const MAX_IDLE = 1;
/** Commands run here at once; beyond, fronts run theirs in Node processes of their own. */
const MAX_RUNNING = 16;

export class CliHost {
  private readonly idleWorkers: Pooled[] = [];
  private idle: NodeJS.Timeout | undefined;
  private readonly running = new Set<Worker>();
  private readonly script = workerScript();

  private constructor(
    private readonly server: Server,
    private readonly opts: CliHostOptions,
  ) {}

  static async listen(opts: CliHostOptions): Promise<CliHost> {
    mkdirSync(path.dirname(opts.socketPath), { recursive: true, mode: 0o700 });
    rmSync(opts.socketPath, { force: true });
    // pauseOnConnect: Node must not read from the socket, or the descriptors passed with the
    // request's first bytes would be dropped; recvFds reads the request.
    const server = createServer({ pauseOnConnect: true });
    const host = new CliHost(server, opts);
    server.on('connection', (s) => host.serve(s));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      // root's alone: the socket is created 0600 (umask), never reachable by others in between
      const old = process.umask(0o177);
      try {
        server.listen(opts.socketPath, () => {
          server.off('error', reject);
          resolve();
        });
      } finally {
        process.umask(old);
      }
    });
    return host;
  }

  async close(): Promise<void> {
    clearTimeout(this.idle);
    await new Promise<void>((r) => this.server.close(() => r()));
    rmSync(this.opts.socketPath, { force: true });
    const all = [...this.running, ...this.idleWorkers.map((p) => p.worker)];
    this.idleWorkers.length = 0;
    await Promise.all(all.map((w) => w.terminate().catch(() => {})));
  }

  /** A warm worker if there is one, else a new one (it loads while the request is checked). */
  private take(): Pooled {
    const w = this.idleWorkers.pop() ?? this.spawn();
    this.running.add(w.worker);
    return w;
  }

  /**
   * After a command: a worker left as clean as it started waits for the next one; any other is
   * terminated (and a fresh one warmed in its place). A minute without commands lets them all go
   * (berthd's idle memory).
   */
  private release(w: Pooled, reusable: boolean): Promise<unknown> {
    this.running.delete(w.worker);
    w.worker.removeAllListeners('message');
    let gone: Promise<unknown> = Promise.resolve();
    if (reusable && this.idleWorkers.length < MAX_IDLE && this.server.listening) {
      this.idleWorkers.push(w);
    } else {
      gone = w.worker.terminate();
      if (this.idleWorkers.length === 0 && this.server.listening) {
        this.idleWorkers.push(this.spawn());
      }
    }
    clearTimeout(this.idle);
    this.idle = setTimeout(() => {
      for (const p of this.idleWorkers.splice(0)) void p.worker.terminate();
    }, this.opts.idleMs ?? 60_000).unref();
    return gone;
  }

  private forget(w: Pooled): void {
    const i = this.idleWorkers.indexOf(w);
    if (i >= 0) this.idleWorkers.splice(i, 1);
  }

  private spawn(): Pooled {
    const worker = new Worker(this.script.file, {
      execArgv: this.script.execArgv,
      // a copy of berthd's, replaced by the caller's before the command runs
      env: { ...process.env },
      stdout: true,
      stderr: true,
      // a runaway command must not take berthd's memory with it
      resourceLimits: { maxOldGenerationSizeMb: 512 },
    });
    // what a command writes on process.stdout/stderr (none should) goes to berthd's log
    const log = this.opts.log;
    worker.stdout.on('data', (d: Buffer) => log?.(`cli worker: ${d.toString().trimEnd()}`));
    worker.stderr.on('data', (d: Buffer) => log?.(`cli worker: ${d.toString().trimEnd()}`));
    // always heard: an 'error' nobody listens to would be thrown in berthd's own thread
    worker.on('error', (err) => log?.(`cli worker: ${err.stack ?? err.message}`));
    worker.unref();
    const ready = new Promise<void>((resolve, reject) => {
      const onMessage = (m: FromWorker) => {
        if (m.type !== 'ready') return;
        worker.off('message', onMessage);
        resolve();
      };
      worker.on('message', onMessage);
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`worker exited (${code}) before it was ready`)));
    });
    ready.catch(() => {});
    const pooled = { worker, ready };
    // an idle worker that dies (a fault while waiting) leaves the pool
    worker.once('exit', () => this.forget(pooled));
    return pooled;
  }

  private serve(sock: Socket): void {
    const fd = (sock as unknown as { _handle?: { fd?: number } })._handle?.fd;
    const answer = (line: string) => {
      if (!sock.destroyed) sock.end(`${line}\n`);
    };
    if (typeof fd !== 'number' || fd < 0) {
      answer('fallback');
      return;
    }
    let why: string | undefined;
    try {
      why = refusal(peerCred(fd));
    } catch (err) {
      why = (err as Error).message;
    }
    if (why === undefined && this.running.size >= MAX_RUNNING) why = `${MAX_RUNNING} commands running already`;
    if (why !== undefined) {
      answer('fallback');
      return;
    }
    sock.on('error', () => {});
    void this.readRequest(sock, fd).then(
      ({ request, fds }) => this.run(sock, request, fds),
      (err: unknown) => {
        this.opts.log?.(`cli host: ${(err as Error).message}`);
        answer('fallback');
      },
    );
  }

  /** The length-prefixed request and the three descriptors sent with it; polls (the socket is paused). */
  private async readRequest(sock: Socket, fd: number): Promise<{ request: CliRequest; fds: [number, number, number] }> {
    const chunks: Buffer[] = [];
    let have = 0;
    let total: number | undefined;
    const fds: number[] = [];
    const deadline = Date.now() + REQUEST_DEADLINE_MS;
    let wait = 0;
    try {
      for (;;) {
        let got: { data: Buffer; fds: number[] } | undefined;
        try {
          // the length first, then exactly the rest: a signal line sent right after stays unread
          got = recvFds(fd, total === undefined ? 4 - have : total - have);
        } catch (err) {
          if (errnoCode(err) !== 'EAGAIN') throw err;
        }
        if (got) {
          fds.push(...got.fds);
          if (got.data.length === 0) throw new Error('the front closed the connection before its request');
          chunks.push(got.data);
          have += got.data.length;
          total ??= requestLength(Buffer.concat(chunks));
          if (total !== undefined && have > total) throw new Error('more bytes than the request announced');
          if (total !== undefined && have === total) break;
          wait = 0;
          continue;
        }
        if (sock.destroyed || Date.now() > deadline) throw new Error('no request from the front in time');
        wait = Math.min(wait + 1, 20);
        await new Promise((r) => setTimeout(r, wait));
      }
      if (fds.length !== 3) throw new Error(`expected 3 descriptors with the request, got ${fds.length}`);
      return { request: parseRequest(Buffer.concat(chunks)), fds: fds as [number, number, number] };
    } catch (err) {
      for (const f of fds) closeQuietly(f);
      throw err;
    }
  }

  private run(sock: Socket, request: CliRequest, fds: [number, number, number]): void {
    // spares: for the worker's terminal and file streams, whose handles must not own them
    let spares: [number, number, number];
    try {
      spares = fds.map((f) => dupCloexec(f)) as [number, number, number];
    } catch (err) {
      for (const f of fds) closeQuietly(f);
      this.opts.log?.(`cli host: ${(err as Error).message}`);
      if (!sock.destroyed) sock.end('fallback\n');
      return;
    }
    const pooled = this.take();
    const { worker, ready } = pooled;
    let answered = false;
    let released = false;
    // The received descriptors are written synchronously (or not at all) by the worker: done
    // with at `exit`. The spares may carry a request in flight (a file read) until the worker
    // is back to its baseline (settled) or terminated (Node drains its requests first).
    let fdsOpen = true;
    let sparesOpen = true;
    const closeFds = () => {
      if (!fdsOpen) return;
      fdsOpen = false;
      for (const f of fds) closeQuietly(f);
    };
    const closeAll = () => {
      closeFds();
      if (!sparesOpen) return;
      sparesOpen = false;
      for (const f of spares) closeQuietly(f);
    };
    const answer = (line: string) => {
      if (answered) return;
      answered = true;
      if (!sock.destroyed) sock.end(`${line}\n`);
    };
    // the worker is kept (clean) or terminated; the descriptors are closed once no thread of
    // ours can still write to them (after `exit` the command's streams are destroyed)
    const finish = (reusable: boolean) => {
      if (released) return;
      released = true;
      worker.off('error', onError);
      worker.off('exit', onExit);
      // a settled worker holds nothing of the caller's: close now; any other once it is gone
      if (reusable) closeAll();
      void this.release(pooled, reusable).finally(closeAll);
    };
    const post = (m: ToWorker) => {
      if (!answered) worker.postMessage(m);
    };
    worker.on('message', (m: FromWorker) => {
      if (m.type === 'exit') {
        answer(`exit ${m.code}`);
        closeFds();
      } else if (m.type === 'settled') finish(m.reusable);
      else if (m.type === 'die') {
        answer(`die ${signalNumber(m.sig)}`);
        finish(false);
      } else if (m.type === 'fallback') {
        answer('fallback');
        finish(false);
      }
    });
    const onError = () => {
      answer('exit 1');
      finish(false);
    };
    const onExit = (code: number) => {
      // process.exit(n) in a command ends its worker with n
      answer(`exit ${code === 0 ? 1 : code}`);
      finish(false);
    };
    worker.once('error', onError);
    worker.once('exit', onExit);
    // the front went away (killed) before the command ended: so does the command
    sock.once('close', () => {
      if (!answered) {
        answered = true;
        finish(false);
      }
    });
    let buffered = '';
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => {
      buffered += d;
      for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        const m = /^sig (\d{1,2})$/.exec(line);
        const sig = m ? signalName(Number(m[1])) : undefined;
        if (sig) post({ type: 'signal', sig });
      }
      if (buffered.length > 64) buffered = '';
    });
    ready.then(
      () => {
        const run: RunRequest = { type: 'run', ...request, fds, spares, ownSockets: this.opts.ownSockets };
        post(run);
        sock.resume();
      },
      (err: unknown) => {
        this.opts.log?.(`cli host: worker failed to start: ${(err as Error).message}`);
        answer('fallback');
        finish(false);
      },
    );
  }
}
