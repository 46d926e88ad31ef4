/**
 * A command under a real pty (@lydell/node-pty, whose npm package ships its linux-x64 binary),
 * run through a shell that records `stty -g` before and after it and prints its status:
 * steps are typed (or the window resized) as their expectations appear in the output.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

export interface Pty {
  pid: number;
  onData(cb: (d: string) => void): void;
  onExit(cb: (e: { exitCode: number; signal?: number }) => void): void;
  write(d: string): void;
  resize(cols: number, rows: number): void;
  kill(sig?: string): void;
}
type PtyModule = { spawn(file: string, args: string[], o: { cols: number; rows: number; env: NodeJS.ProcessEnv; cwd?: string }): Pty };

export interface PtyStep {
  expect: RegExp;
  send?: string;
  resize?: [number, number];
  act?: (p: Pty) => void | Promise<void>;
}

export interface PtyRun {
  out: string;
  status: number;
  /** `stty -g` before and after the command. */
  before: string;
  after: string;
  steps: number;
}

/** The module, or why it does not load here (a skip reason). */
export function loadPty(): PtyModule | string {
  try {
    return createRequire(import.meta.url)('@lydell/node-pty') as PtyModule;
  } catch (err) {
    return `@lydell/node-pty does not load here: ${(err as Error).message.split('\n')[0]}`;
  }
}

function readOr(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** Runs `argv` in a 100×30 pty; `dir` holds the stty records. Hang guard 20 s (not a timing assertion). */
export async function inPty(pty: PtyModule, argv: string[], steps: PtyStep[], o: { env: NodeJS.ProcessEnv; dir: string }): Promise<PtyRun> {
  const tag = Math.random().toString(36).slice(2);
  const before = join(o.dir, `${tag}.before`);
  const afterFile = join(o.dir, `${tag}.after`);
  const cmd = argv.map((a) => `'${a}'`).join(' ');
  const script = `stty -g > ${before}; ${cmd}; rc=$?; stty -g > ${afterFile}; echo "<rc=$rc>"`;
  const p = pty.spawn('/bin/sh', ['-c', script], { cols: 100, rows: 30, env: o.env });
  let out = '';
  let window = '';
  let done = 0;
  let busy = false;
  const advance = async () => {
    if (busy) return;
    busy = true;
    try {
      for (let step = steps[done]; step !== undefined && step.expect.test(window); step = steps[done]) {
        done++;
        window = '';
        if (step.resize) p.resize(step.resize[0], step.resize[1]);
        if (step.act) await step.act(p);
        if (step.send !== undefined) p.write(step.send);
      }
    } finally {
      busy = false;
    }
  };
  p.onData((data) => {
    out += data;
    window += data;
    void advance();
  });
  const exited = new Promise<void>((resolve) => p.onExit(() => resolve()));
  const guard = setTimeout(() => p.kill('SIGKILL'), 20_000);
  await exited;
  clearTimeout(guard);
  const m = /<rc=(\d+)>/.exec(out);
  return { out, status: m ? Number(m[1]) : -1, before: readOr(before), after: readOr(afterFile), steps: done };
}
