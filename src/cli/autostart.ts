/**
 * berthd on demand: when `berth` talks to Berth's default socket, nothing answers there, and the
 * user is root, it starts the bundled berthd the way scripts/berthd.sh does (its own session,
 * detached, the log appended to /var/log/berth/berthd.log), says so on stderr, and waits for
 * /_ping. BERTH_NO_AUTOSTART=1 turns it off; the roots and the host are taken from the same
 * variables as scripts/berthd.sh (BERTH_DATA_ROOT, BERTH_EXEC_ROOT, BERTH_PIDFILE, BERTH_LOG,
 * BERTH_CONFIG_FILE, BERTHD_ARGS, BERTHD_CMD), so tests run a private daemon, never /run/berth.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, realpathSync, writeSync } from 'node:fs';
import http from 'node:http';
import { connect, createServer, type Server } from 'node:net';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { BERTH_SOCKET, type Target } from './contexts.js';
import { CliError } from './types.js';

/** GET /_ping on a unix socket answers OK within `ms`. */
export function pingUnix(socketPath: string, ms = 2000): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get({ socketPath, path: '/_ping', timeout: ms }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        body += d;
      });
      res.on('end', () => resolve(res.statusCode === 200 && body === 'OK'));
      res.on('error', () => resolve(false));
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => {
      req.destroy();
      resolve(false);
    });
  });
}

/** Whether a connection to the unix socket is accepted. */
export function listening(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ path: socketPath });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

export interface StartPlan {
  cmd: string[];
  args: string[];
  log: string;
  socket: string;
}

/**
 * The berthd bundle next to this program's (dist/berth.cjs → dist/berthd.cjs), or the repo's
 * dist/ when berth runs from source. The program is found by its real path: installed globally,
 * berth runs as /usr/bin/berth, a link into the package.
 */
function berthdBundle(): string {
  let main = process.argv[1] ?? '';
  try {
    main = realpathSync(main);
  } catch {}
  if (/berth(\.main)?\.cjs$/.test(main)) return join(dirname(main), 'berthd.cjs');
  try {
    // from source: src/cli/autostart.ts → dist/berthd.cjs
    const fromSource = fileURLToPath(new URL('../../dist/berthd.cjs', import.meta.url));
    if (existsSync(fromSource)) return fromSource;
  } catch {}
  return join(process.cwd(), 'dist', 'berthd.cjs');
}

/** How berthd is started: pure, from the environment (scripts/berthd.sh's variables). */
export function startPlan(target: Target, env: NodeJS.ProcessEnv): StartPlan {
  const socket = target.host.slice('unix://'.length);
  const cmd = env.BERTHD_CMD ? env.BERTHD_CMD.split(/\s+/).filter(Boolean) : [process.execPath, berthdBundle()];
  const args: string[] = [];
  if (env.BERTH_DATA_ROOT) args.push('--data-root', env.BERTH_DATA_ROOT);
  if (env.BERTH_EXEC_ROOT) args.push('--exec-root', env.BERTH_EXEC_ROOT);
  // BERTH_DOCKER_SOCKET (as scripts/berthd.sh): a second listener where the docker CLI looks; given
  // -H, berthd listens only where told, so the first socket is named too.
  const dockerSocket = env.BERTH_DOCKER_SOCKET && env.BERTH_DOCKER_SOCKET !== '0' ? env.BERTH_DOCKER_SOCKET : '';
  if (target.host !== BERTH_SOCKET || dockerSocket) args.push('-H', target.host);
  if (dockerSocket) args.push('-H', `unix://${dockerSocket === '1' ? '/var/run/docker.sock' : dockerSocket}`);
  const pidfile = env.BERTH_PIDFILE || (env.BERTH_EXEC_ROOT ? join(env.BERTH_EXEC_ROOT, 'berthd.pid') : '');
  if (pidfile) args.push('--pidfile', pidfile);
  if (env.BERTH_CONFIG_FILE) args.push('--config-file', env.BERTH_CONFIG_FILE);
  if (env.BERTHD_ARGS) args.push(...env.BERTHD_ARGS.split(/\s+/).filter(Boolean));
  const log = env.BERTH_LOG || (env.BERTH_DATA_ROOT ? join(dirname(env.BERTH_DATA_ROOT), 'berthd.log') : '/var/log/berth/berthd.log');
  return { cmd, args, log, socket };
}

function tail(file: string, lines = 20): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

const alive = (pid: number) => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
};

/** Whether berth may start berthd for this target (it is the default socket, autostart is on, and we are root). */
export function mayAutostart(target: Target, env: NodeJS.ProcessEnv): boolean {
  return target.isDefault && target.host.startsWith('unix://') && env.BERTH_NO_AUTOSTART !== '1' && process.getuid?.() === 0;
}

/**
 * Makes sure berthd answers on the target's socket, starting it when allowed. Returns without
 * doing anything when it answers or when it may not be started (the connection error then says
 * how to start it).
 */
export async function ensureDaemon(target: Target, env: NodeJS.ProcessEnv, stderr: NodeJS.WritableStream): Promise<void> {
  if (!mayAutostart(target, env)) return;
  const plan = startPlan(target, env);
  // Something listens: the command's own requests tell whether it is berthd (an HTTP ping here
  // would cost every command a round trip and Node's HTTP stack before its first request).
  if (await listening(plan.socket)) return;
  const timeoutMs = Number(env.BERTH_START_TIMEOUT || 20) * 1000;
  const lockName = `berth-autostart:${createHash('sha256').update(plan.socket).digest('hex')}`;
  // One starter at a time: two `berth` calls racing here would start two daemons. The lock is
  // an abstract unix socket named after berthd's socket: binding it is atomic, and the kernel
  // lets it go when its holder dies (SIGKILL between two lines leaves nothing stale behind).
  let lock = await abstractLock(lockName);
  for (const end = Date.now() + timeoutMs; !lock; lock = await abstractLock(lockName)) {
    // another berth is starting it: wait for it to answer (or for its lock, if it failed)
    if (await pingUnix(plan.socket, 1000)) return;
    if (Date.now() > end) return;
    await sleep(100);
  }
  try {
    // the holder before us may have started it in the meantime
    if (await pingUnix(plan.socket, 1000)) return;
    mkdirSync(dirname(plan.log), { recursive: true });
    stderr.write(`berth: berthd is not running; starting it (log: ${plan.log})\n`);
    const logFd = openSync(plan.log, 'a', 0o640);
    writeSync(
      logFd,
      `==> ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')} berthd start (by berth): ${[...plan.cmd, ...plan.args].join(' ')}\n`,
    );
    const [file, ...pre] = plan.cmd as [string, ...string[]];
    if (!existsSync(file) && file.includes('/')) throw new CliError(`cannot start berthd: ${file} is missing`);
    // detached: its own session, so neither this process's exit nor its terminal's hangup reaches it
    const child = spawn(file, [...pre, ...plan.args], { detached: true, stdio: ['ignore', logFd, logFd], env: { ...env } });
    closeSync(logFd);
    let exited = false;
    child.on('exit', () => {
      exited = true;
    });
    child.on('error', () => {
      exited = true;
    });
    child.unref();
    for (const end = Date.now() + timeoutMs; ; ) {
      if (await pingUnix(plan.socket, 1000)) return;
      if (exited || (child.pid !== undefined && !alive(child.pid))) {
        throw new CliError(`berthd exited during start; the end of ${plan.log}:\n${tail(plan.log)}`);
      }
      if (Date.now() > end) {
        child.kill('SIGTERM');
        throw new CliError(
          `berthd (pid ${child.pid}) did not answer on ${target.host} within ${timeoutMs / 1000}s; stopped it. The end of ${plan.log}:\n${tail(plan.log)}`,
        );
      }
      await sleep(100);
    }
  } finally {
    lock.close();
  }
}

/** Binds an abstract unix socket (Linux): the one process that can is the lock's holder. */
function abstractLock(name: string): Promise<Server | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(undefined));
    server.listen({ path: `\0${name}` }, () => {
      server.unref();
      resolve(server);
    });
  });
}

/** What to say when berthd's default socket does not answer: how to start it. */
export function howToStart(target: Target, env: NodeJS.ProcessEnv): string {
  const head = `Cannot connect to berthd at ${target.host}. Is berthd running?`;
  const how =
    'start it as root with `scripts/berthd.sh start` (in the background, log in /var/log/berth/berthd.log) or `berthd` (in the foreground)';
  if (process.getuid?.() !== 0) return `${head}\nberth starts it on demand only when run as root; ${how}.`;
  if (env.BERTH_NO_AUTOSTART === '1') return `${head}\nBERTH_NO_AUTOSTART=1 keeps berth from starting it; ${how}.`;
  return `${head}\nIt does not answer although it was started: see its log; ${how}.`;
}
