/**
 * Running a client that wants a terminal (`docker run -it`, `ctr run -t`) under a pty, with
 * util-linux's `script`: the client's stdin, stdout and stderr are a pty whose other side is
 * `script`, which copies our pipe to it and its output to ours.
 *
 *   const r = await runInTerminal(['docker', 'run', '-it', …], {
 *     steps: [{ expect: /# $/, send: 'echo $((6*7))\n' }, { expect: /42/, send: 'exit 3\n' }],
 *   });
 */
import { spawn } from 'node:child_process';
import type { RunResult } from './runtime.js';

export interface TerminalStep {
  /** Wait until the output so far (since the previous step) matches … */
  expect: RegExp;
  /** … then type this. */
  send: string;
}

export interface TerminalOptions {
  steps?: readonly TerminalStep[];
  rows?: number;
  cols?: number;
  env?: NodeJS.ProcessEnv;
  /** Hang guard (not a timing assertion): the client is killed after this long. */
  guardMs?: number;
}

const shQuote = (s: string): string => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/** The output with the pty's \r\n turned into \n. */
export function normalizePty(s: string): string {
  return s.replace(/\r\n/g, '\n').replace(/\r/g, '\n');
}

export function runInTerminal(argv: readonly string[], opts: TerminalOptions = {}): Promise<RunResult & { steps: number }> {
  const command = argv.map(shQuote).join(' ');
  const inner = `stty rows ${opts.rows ?? 24} cols ${opts.cols ?? 80}; exec ${command}`;
  // -q no banner, -f flush at once, -e exit with the child's status, /dev/null: no typescript file
  const child = spawn('script', ['-qfec', inner, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'], env: opts.env ?? process.env });
  const steps = [...(opts.steps ?? [])];
  let done = 0;
  let stdout = '';
  let stderr = '';
  let window = '';
  const advance = () => {
    const step = steps[done];
    if (step === undefined || !step.expect.test(normalizePty(window))) return;
    done++;
    window = '';
    child.stdin.write(step.send);
    advance();
  };
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
    window += d;
    advance();
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.stdin.on('error', () => undefined);
  let timedOut = false;
  const guard = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, opts.guardMs ?? 60_000);
  return new Promise((resolve, reject) => {
    child.on('error', (e) => {
      clearTimeout(guard);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(guard);
      child.stdin.destroy();
      resolve({ code, signal, stdout: normalizePty(stdout), stderr, command, timedOut, steps: done });
    });
  });
}
