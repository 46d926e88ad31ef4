/**
 * The fuzz targets of native/test/ (berth-nsinit's plan reader and resolve_in_root, berth-unpack's
 * tar reader and decompression), run briefly:
 * BERTH_FUZZ_SECONDS each (default 5). Longer runs: `npm run fuzz` (scripts/fuzz.sh). Needs no
 * root; needs Debian's clang and libclang-rt-14-dev (scripts/install.sh), and skips without them.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SECONDS = Number(process.env.BERTH_FUZZ_SECONDS ?? 5);

/** Builds the targets; a reason to skip when the toolchain is missing, else undefined. */
async function build(): Promise<string | undefined> {
  try {
    await run('clang', ['--version']);
  } catch {
    return 'clang is not installed (Debian package clang, see scripts/install.sh)';
  }
  try {
    await run('make', ['-s', '-C', `${ROOT}native`, 'fuzz'], { maxBuffer: 1 << 24 });
  } catch (err) {
    const out = `${(err as { stderr?: string }).stderr ?? ''}`;
    if (/libclang_rt\.fuzzer/.test(out)) return "clang's libFuzzer runtime is missing (Debian package libclang-rt-14-dev)";
    throw new Error(`make -C native fuzz failed:\n${out}`);
  }
  return undefined;
}

describe('fuzzing', async () => {
  const skip = await build();
  for (const [target, seeds] of [
    ['plan', 'test/fixtures/plans'],
    ['resolve', 'native/test/corpus/resolve'],
    ['tar', 'native/test/corpus/tar'],
    ['decompress', 'native/test/corpus/decompress'],
  ] as const) {
    test(`fuzz-${target} finds nothing in ${SECONDS} seconds`, { skip, timeout: (SECONDS + 120) * 1000 }, async (t) => {
      const dir = mkdtempSync(path.join(tmpdir(), `berth-fuzz-${target}-`));
      t.after(() => rmSync(dir, { recursive: true, force: true }));
      const corpus = path.join(dir, 'corpus');
      cpSync(`${ROOT}${seeds}`, corpus, { recursive: true, filter: (f) => !/\.(json|dump)$/.test(f) });
      const args = [
        `-max_total_time=${SECONDS}`,
        `-dict=${ROOT}native/test/${target}.dict`,
        `-artifact_prefix=${dir}/`,
        '-print_final_stats=1',
        corpus,
      ];
      let out: string;
      try {
        out = (await run(`${ROOT}native/build/fuzz-${target}`, args, { maxBuffer: 1 << 26 })).stderr;
      } catch (err) {
        const e = err as { code?: number; stderr?: string };
        const found = readdirSync(dir).filter((f) => f !== 'corpus');
        assert.fail(`fuzz-${target} exited with ${e.code}, saved ${found.join(', ') || 'nothing'}:\n${(e.stderr ?? '').slice(-6000)}`);
      }
      // It did run inputs (a fuzzer that runs nothing finds nothing).
      const units = Number(/stat::number_of_executed_units: (\d+)/.exec(out)?.[1] ?? 0);
      assert.ok(units > 100, `fuzz-${target} ran ${units} inputs`);
    });
  }
});
