/**
 * Golden plans: each test/fixtures/plans/<case>.input.json (an OCI config plus the host context,
 * or an exec request) must encode to exactly <case>.plan. The same .plan files are what the C
 * reader is checked against (test/plan-contract.test.ts), so the TypeScript writer and the C
 * reader are held to one text. After an intended change to the plan, rewrite the goldens with
 *
 *   BERTH_UPDATE_GOLDEN=1 node --import tsx --test --test-concurrency=1 src/runtime/plan/golden.test.ts test/plan-contract.test.ts
 *
 * and review the diff.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Spec } from '../../oci/spec.js';
import { buildPlan, type PlanContext } from './build.js';
import { encodePlan } from './encode.js';
import { buildExecPlan, type ExecPlanContext } from './exec-plan.js';

const DIR = fileURLToPath(new URL('../../../test/fixtures/plans/', import.meta.url));
const UPDATE = process.env.BERTH_UPDATE_GOLDEN === '1';

interface GoldenInput {
  comment: string;
  kind: 'create' | 'exec';
  /** PlanContext (create, without spec) or ExecPlanContext (exec); grantableCaps as a hex string. */
  context: Record<string, unknown> & { grantableCaps: string };
  spec?: Spec;
  /** Fields the launch sets on the built plan (launchPrepared's `cgroupsWait`). */
  launch?: { cgroupsWait?: boolean };
}

function encodeCase(input: GoldenInput): string {
  const context = { ...input.context, grantableCaps: BigInt(input.context.grantableCaps) };
  if (input.kind === 'exec') return encodePlan(buildExecPlan(context as unknown as ExecPlanContext).plan);
  const { plan } = buildPlan({ ...(context as unknown as PlanContext), spec: input.spec as Spec });
  return encodePlan({ ...plan, ...input.launch });
}

const cases = readdirSync(DIR)
  .filter((f) => f.endsWith('.input.json'))
  .map((f) => f.slice(0, -'.input.json'.length))
  .sort();

test('the golden cases are there', () => {
  assert.ok(cases.length >= 4, `golden inputs in ${DIR}`);
  // A .plan without its input would be checked by C only, never produced by the writer.
  const plans = readdirSync(DIR).filter((f) => f.endsWith('.plan'));
  assert.deepEqual(plans.map((f) => f.slice(0, -'.plan'.length)).sort(), cases);
});

test('every record of docs/plan-format.md is in some golden plan', () => {
  const doc = readFileSync(new URL('../../../docs/plan-format.md', import.meta.url), 'utf8');
  const section = doc.slice(doc.indexOf('## Records'), doc.indexOf('### Mounts'));
  // The first cell of each table row: `name <fields>` (or two records: `a …` / `b …`).
  const records = [...section.matchAll(/^\| (`[^|]*)\|/gm)].flatMap((m) => [...(m[1] ?? '').matchAll(/`([a-z-]+)/g)].map((r) => r[1]));
  assert.ok(records.length > 40, `records documented: ${records.length}`);
  const used = new Set(
    cases.flatMap((c) =>
      readFileSync(`${DIR}${c}.plan`, 'utf8')
        .split('\n')
        .map((l) => l.split(' ')[0]),
    ),
  );
  for (const r of records)
    assert.ok(used.has(r), `record '${r}' appears in no golden plan: make a test/fixtures/plans/*.input.json case produce it`);
});

for (const name of cases) {
  test(`golden plan '${name}': encodePlan(buildPlan(input)) is ${name}.plan`, () => {
    const input = JSON.parse(readFileSync(`${DIR}${name}.input.json`, 'utf8')) as GoldenInput;
    const got = encodeCase(input);
    const file = `${DIR}${name}.plan`;
    if (UPDATE) writeFileSync(file, got);
    assert.equal(got, readFileSync(file, 'utf8'), `${name}.plan differs (BERTH_UPDATE_GOLDEN=1 rewrites it)`);
  });
}
