/**
 * The conformance harness: a check is one requirement of the OCI runtime spec
 * (or of the runtime-tools command-line spec), with an id, the document it
 * comes from, its level and a short quote; `run` checks it against one
 * runtime from outside (CLI, exit codes, state JSON, pid file, host /proc and
 * cgroup files) and/or from inside (the probe as the container process).
 *
 * `registerSuite` turns every check into one node:test test per runtime, and
 * prints a results table at the end. For berth a failing check is a failing
 * test; for runc the result is compared with the documented deviations
 * (deviations.ts) and only an unexpected difference fails.
 */

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, type TestContext, test } from 'node:test';
import { Bundle, type BundleOptions, uniqueId } from '../helpers/bundle.js';
import { ProbeOutput } from '../helpers/probe.js';
import { needsRoot, type Reason } from '../helpers/requires.js';
import { rootfsUnavailable } from '../helpers/rootfs.js';
import {
  createRuntime,
  describeResult,
  type RunOptions,
  type RunResult,
  type Runtime,
  type RuntimeName,
  selectedRuntimeNames,
} from '../helpers/runtime.js';
import type { Spec } from '../helpers/spec.js';
import { knownDeviation } from './deviations.js';

export type Level = 'MUST' | 'MUST NOT' | 'SHOULD' | 'SHOULD NOT' | 'MAY' | 'should';

export interface Check {
  /** `<section>/<name>`, stable: deviations and reports refer to it. */
  id: string;
  /** Where the requirement is written: `runtime.md#delete`, `config-linux.md#namespaces`, … */
  doc: string;
  level: Level;
  /** The requirement, quoted briefly. */
  quote: string;
  /** Host requirements beyond root and the rootfs (a skip reason, or undefined). */
  requires?: () => Reason;
  run(ctx: CheckContext): Promise<void>;
}

/** Thrown by `ctx.skip`. */
export class SkipCheck extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}

/** What a check gets: the runtime, resource ownership, and shortcuts. */
export class CheckContext {
  readonly #cleanups: (() => Promise<void> | void)[] = [];
  readonly #finally: (() => Promise<void> | void)[] = [];
  readonly #notes: string[] = [];

  constructor(
    readonly rt: Runtime,
    readonly t: TestContext,
  ) {}

  /** A new bundle (disposed, with its tracked containers, at the end of the check). */
  async bundle(opts: BundleOptions & { edit?: (s: Spec) => void } = {}): Promise<Bundle> {
    const b = await Bundle.create(opts);
    this.defer(() => b[Symbol.asyncDispose]());
    if (opts.edit !== undefined) await b.editConfig(opts.edit);
    return b;
  }

  /** A unique container id. */
  id(prefix = 'c'): string {
    return uniqueId(prefix);
  }

  /**
   * A temporary directory removed at the end of the check, after the containers are gone: one
   * still running could write into it (through a bind mount) while it is being removed.
   */
  tmpdir(prefix = 'tmp'): string {
    const d = mkdtempSync(join(tmpdir(), `berth-conformance-${prefix}-`));
    this.finally(() => rmSync(d, { recursive: true, force: true }));
    return d;
  }

  /** Runs `fn` at the end of the check (last registered first). */
  defer(fn: () => Promise<void> | void): void {
    this.#cleanups.push(fn);
  }

  /** Runs `fn` after every `defer`red cleanup (containers are gone by then): e.g. removing cgroups. */
  finally(fn: () => Promise<void> | void): void {
    this.#finally.push(fn);
  }

  skip(reason: string): never {
    throw new SkipCheck(reason);
  }

  /** A diagnostic line attached to the test. */
  note(msg: string): void {
    this.#notes.push(msg);
    this.t.diagnostic(msg);
  }

  /**
   * Starts a host helper process that this check owns (e.g. `unshare -n sleep
   * 600` to hold a namespace); it is killed by PID at the end of the check.
   */
  spawnHelper(argv: readonly string[]): number {
    const [file, ...args] = argv;
    if (file === undefined) throw new Error('empty helper command');
    const child = spawn(file, args, { stdio: 'ignore', detached: false });
    const pid = child.pid;
    if (pid === undefined) throw new Error(`cannot start ${argv.join(' ')}`);
    child.on('error', () => undefined);
    this.defer(() => {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    });
    return pid;
  }

  /** Writes an executable script (for hooks) into a check-owned directory. */
  script(dir: string, name: string, body: string): string {
    const p = join(dir, name);
    writeFileSync(p, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
    return p;
  }

  /**
   * Runs the probe in a fresh bundle in the foreground (`run`) and returns its
   * parsed output; fails unless the runtime exits 0.
   */
  async probe(
    probeArgs: readonly string[],
    edit?: (s: Spec, b: Bundle) => void | Promise<void>,
    opts: BundleOptions = {},
    runOpts: RunOptions = {},
  ): Promise<ProbeOutput> {
    const b = await this.bundle({ ...opts, probeArgs });
    if (edit !== undefined) await b.editConfig((s) => edit(s, b));
    const r = await this.rt.run(['run', '--bundle', b.dir, this.track(b, this.id('probe'))], runOpts);
    if (r.code !== 0) throw new Error(`run failed: ${describeResult(r)}`);
    return new ProbeOutput(r.stdout, probeArgs);
  }

  /** Tracks `id` for deletion with bundle `b`; returns it. */
  track(b: Bundle, id: string): string {
    b.track(this.rt, id);
    return id;
  }

  async dispose(): Promise<void> {
    for (const fn of [...this.#cleanups.reverse(), ...this.#finally]) {
      try {
        await fn();
      } catch (e) {
        this.t.diagnostic(`cleanup failed: ${String(e)}`);
      }
    }
    this.#cleanups.length = 0;
    this.#finally.length = 0;
  }
}

/** Asserts a runtime invocation failed (non-zero exit, not a guard timeout). */
export function expectFailure(r: RunResult, what: string): void {
  if (r.timedOut) throw new Error(`${what}: the runtime hung (guard timeout): ${r.command}`);
  if (r.code === 0) throw new Error(`${what}: expected an error (non-zero exit), got exit 0: ${r.command}\n${r.stdout}${r.stderr}`);
}

/** What a runtime that crashed rather than refused leaves on stderr (Node, Go, the C library). */
const CRASH =
  /^\s+at .+:\d+:\d+\)?$|^(TypeError|ReferenceError|RangeError|SyntaxError)\b|^panic: |^goroutine \d+ \[|SIGSEGV|Segmentation fault|core dumped/m;

/**
 * Asserts a runtime invocation was refused: a non-zero exit (not a signal, not a crash) with an
 * error message on stderr that matches `message` (so that a crash cannot pass for a refusal).
 */
export function expectError(r: RunResult, what: string, message: RegExp): void {
  expectFailure(r, what);
  const out = `${r.command}\n${r.stdout}${r.stderr}`;
  if (r.code === null || r.code >= 128) throw new Error(`${what}: killed or crashed (exit ${r.code}, signal ${r.signal}): ${out}`);
  if (CRASH.test(r.stderr)) throw new Error(`${what}: the runtime crashed instead of refusing: ${out}`);
  if (!message.test(r.stderr)) throw new Error(`${what}: the error message should match ${message}: ${out}`);
}

/** Asserts a runtime invocation succeeded. */
export function expectSuccess(r: RunResult, what: string): void {
  if (r.code !== 0) throw new Error(`${what}: ${describeResult(r)}`);
}

// ------------------------------------------------------------- the suite

type Cell = 'pass' | 'fail' | 'skip';

interface Row {
  check: Check;
  cells: Map<RuntimeName, { cell: Cell; note?: string; known?: boolean }>;
}

/**
 * Registers `checks` for every selected runtime (env BERTH_CONFORMANCE_RUNTIMES;
 * BERTH_CONFORMANCE_ONLY=<regex> filters check ids), and a final test that
 * prints the results table (also written to $BERTH_CONFORMANCE_REPORT if set).
 */
export function registerSuite(title: string, checks: readonly Check[]): void {
  const only = process.env.BERTH_CONFORMANCE_ONLY;
  const filter = only !== undefined && only !== '' ? new RegExp(only) : undefined;
  const selected = checks.filter((c) => filter === undefined || filter.test(c.id));
  const ids = new Set<string>();
  for (const c of checks) {
    if (ids.has(c.id)) throw new Error(`duplicate check id ${c.id}`);
    ids.add(c.id);
  }
  const names = selectedRuntimeNames();
  const rows: Row[] = selected.map((check) => ({ check, cells: new Map() }));
  const runtimes = names.map((n) => createRuntime(n));

  for (const rt of runtimes) {
    describe(`${title} [${rt.name}]`, () => {
      after(async () => {
        await rt[Symbol.asyncDispose]();
      });
      for (const row of rows) {
        const c = row.check;
        test(`${c.id} (${c.level}: ${c.doc})`, async (t) => {
          const record = (cell: Cell, note?: string, known?: boolean) => row.cells.set(rt.name, { cell, note, known });
          const pre = rt.unavailable ?? needsRoot() ?? rootfsUnavailable() ?? c.requires?.();
          if (pre !== undefined) {
            record('skip', pre);
            t.skip(pre);
            return;
          }
          const ctx = new CheckContext(rt, t);
          let error: unknown;
          try {
            await c.run(ctx);
          } catch (e) {
            error = e;
          } finally {
            await ctx.dispose();
          }
          if (error instanceof SkipCheck) {
            record('skip', error.reason);
            t.skip(error.reason);
            return;
          }
          const failed = error !== undefined;
          const deviation = knownDeviation(c.id, rt.name);
          if (deviation !== undefined) {
            if (failed) {
              record('fail', deviation, true);
              t.diagnostic(`known ${rt.name} deviation: ${deviation}`);
              t.diagnostic(`failure: ${firstLine(error)}`);
              return;
            }
            record('pass', 'listed as a known deviation but passed', true);
            throw new Error(
              `${c.id} is listed as a known ${rt.name} deviation ("${deviation}") but ${rt.name} passed it: update test/conformance/deviations.ts and README.md`,
            );
          }
          if (failed) {
            record('fail', firstLine(error));
            throw error;
          }
          record('pass');
        });
      }
    });
  }

  test(`${title}: results table`, (t) => {
    const table = renderTable(rows, names);
    for (const line of table.split('\n')) t.diagnostic(line);
    const report = process.env.BERTH_CONFORMANCE_REPORT;
    if (report !== undefined && report !== '') writeFileSync(report, `${table}\n`);
  });
}

function firstLine(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.split('\n')[0]?.slice(0, 300) ?? '';
}

function renderTable(rows: readonly Row[], names: readonly RuntimeName[]): string {
  const header = ['check', 'level', ...names];
  const body = rows.map((r) => [
    r.check.id,
    r.check.level,
    ...names.map((n) => {
      const c = r.cells.get(n);
      if (c === undefined) return '-';
      if (c.known === true) return c.cell === 'fail' ? 'fail (known)' : `${c.cell} (listed as a deviation!)`;
      return c.cell;
    }),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => (row[i] ?? '').length)));
  const fmt = (cols: readonly string[]) => `| ${cols.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  const lines = [fmt(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...body.map(fmt)];
  const totals = names.map((n) => {
    const counts = { pass: 0, fail: 0, skip: 0, known: 0 };
    for (const r of rows) {
      const c = r.cells.get(n);
      if (c === undefined) continue;
      counts[c.cell]++;
      if (c.known === true && c.cell === 'fail') counts.known++;
    }
    return `${n}: ${counts.pass} pass, ${counts.fail} fail (${counts.known} known deviations), ${counts.skip} skip`;
  });
  return [...lines, '', ...totals].join('\n');
}
