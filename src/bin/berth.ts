import { isMainThread } from 'node:worker_threads';
import { serveHostedCommand } from '../cli/hosted.js';
import { main } from '../cli/main.js';

// The same bundle is berthd's CLI host worker (src/cli/hosted.ts): there it waits for a command.
if (isMainThread) runFromProcess();
else serveHostedCommand();

function runFromProcess(): void {
  // A closed pipe on stdout (`berth ps | head -1`) ends the program quietly, as the docker CLI does.
  for (const s of [process.stdout, process.stderr]) {
    s.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(0);
      throw err;
    });
  }

  // No top-level await: this file is bundled as CommonJS.
  // stdin is a getter: process.stdin builds a stream (a file, pipe or tty reader, ~5 ms of modules)
  // that most commands never read
  const io = {
    get stdin() {
      return process.stdin;
    },
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
  };
  void main(process.argv.slice(2), io).then(
    (code) => {
      // exit once what was written is flushed (a pipe may be slower than us); open handles
      // (a hijacked socket, a timer) must not keep a finished command alive
      process.stdout.write('', () => process.exit(code));
    },
    (err: unknown) => {
      process.stderr.write(`berth: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}
