/**
 * berthd's command line: dockerd's flags and daemon.json (src/engine/config/), then the daemon
 * (daemon.ts) until SIGTERM or SIGINT, which stop it cleanly (live-restore keeps containers
 * running). Startup errors are one line on stderr and status 1, like dockerd's.
 */
import { consoleLogger, type Logger } from '../api/server.js';
import { daemonUsage, loadDaemonConfig } from './config/index.js';
import { startDaemon } from './daemon.js';
import { imageRouteFactory } from './routes.js';

function logger(level: string): Logger {
  const order = ['debug', 'info', 'warn', 'error', 'fatal'];
  const min = order.indexOf(level);
  const at = (l: string, m: string) => {
    if (order.indexOf(l) >= min) process.stderr.write(`time="${new Date().toISOString()}" level=${l} msg=${JSON.stringify(m)}\n`);
  };
  return { debug: (m) => at('debug', m), info: (m) => at('info', m), warn: (m) => at('warn', m), error: (m) => at('error', m) };
}

export async function main(argv: string[]): Promise<void> {
  let cfg: ReturnType<typeof loadDaemonConfig>;
  try {
    cfg = loadDaemonConfig(argv);
  } catch (err) {
    process.stderr.write(`berthd: ${(err as Error).message}\n`);
    process.exit(1);
  }
  if (cfg.action === 'help') {
    process.stdout.write(daemonUsage());
    process.exit(0);
  }
  if (cfg.action === 'version') {
    process.stdout.write(`berthd version ${process.env.BERTH_VERSION ?? '0.1.0'}\n`);
    process.exit(0);
  }
  const log = cfg.debug ? logger('debug') : logger(cfg.logLevel);
  for (const w of cfg.warnings) log.warn(w);
  try {
    const d = await startDaemon(cfg, { logger: log, routes: imageRouteFactory() });
    let once = false;
    const onSignal = (sig: string) => {
      if (once) return;
      once = true;
      log.info(`${sig}: shutting down${cfg.liveRestore ? ' (live-restore: containers keep running)' : ''}`);
      d.stop().then(
        () => process.exit(0),
        (err) => {
          log.error(String((err as Error).message));
          process.exit(1);
        },
      );
    };
    process.on('SIGTERM', () => onSignal('SIGTERM'));
    process.on('SIGINT', () => onSignal('SIGINT'));
    process.on('SIGPIPE', () => {});
    // One request's stray stream error must not take every container's API down with it: the
    // containers would keep running (shims), but clients would lose the daemon. Logged, loudly.
    process.on('uncaughtException', (err) => log.error(`uncaught: ${err.stack ?? err.message}`));
    process.on('unhandledRejection', (err) => log.error(`unhandled rejection: ${(err as Error)?.stack ?? String(err)}`));
  } catch (err) {
    process.stderr.write(`berthd: ${(err as Error).message}\n`);
    process.exit(1);
  }
  void consoleLogger;
}
