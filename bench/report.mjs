// Reads what bench/runtime.sh left in its results directory (hyperfine --export-json files,
// GNU time RSS values, meta.json), prints a compact table and optionally writes JSON.
//
//   node bench/report.mjs RESULTS_DIR [OUT_JSON]
//
// Ratios are median / median. Nothing here judges the numbers: benchmarks are not tests.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [dir, outFile] = process.argv.slice(2);
if (!dir) {
  console.error('usage: node bench/report.mjs RESULTS_DIR [OUT_JSON]');
  process.exit(2);
}

const meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8'));
const runtimes = Object.keys(meta.runtimes);
const SCENARIOS = [
  ['run', 'run /bin/true'],
  ['run-first', 'run, first of its bundle'],
  ['create-start-delete', 'create+start+delete'],
  ['c-s-d-resources', 'create+start+delete, with resources'],
  ['exec', 'exec /bin/true'],
];

const readText = (file) => (existsSync(file) ? readFileSync(file, 'utf8').trim() : null);

function cell(scenario, name) {
  const base = join(dir, `${scenario}.${name}`);
  const command = readText(`${base}.cmd`);
  const error = readText(`${base}.err`);
  if (!existsSync(`${base}.json`)) return command || error ? { command, error } : null;
  const r = JSON.parse(readFileSync(`${base}.json`, 'utf8')).results[0];
  const ms = (s) => Math.round(s * 1e5) / 100;
  return {
    command,
    medianMs: ms(r.median),
    meanMs: ms(r.mean),
    stddevMs: ms(r.stddev ?? 0),
    minMs: ms(r.min),
    maxMs: ms(r.max),
    userMs: ms(r.user),
    systemMs: ms(r.system),
    runs: r.times.length,
  };
}

const ratio = (a, b) => (a?.medianMs && b?.medianMs ? Math.round((a.medianMs / b.medianMs) * 100) / 100 : null);

const scenarios = {};
for (const [key] of SCENARIOS) {
  const row = {};
  for (const rt of runtimes) row[rt] = cell(key, rt);
  for (const rt of runtimes) {
    if (row[rt]?.medianMs) {
      row[rt].ratioToRunc = ratio(row[rt], row.runc);
      row[rt].ratioToCrun = ratio(row[rt], row.crun);
    }
  }
  // berth-runtime minus as many starts of an empty Node script, measured right after it.
  const floor = cell(key, 'floor');
  if (row.berth?.medianMs && floor?.medianMs) {
    row.berth.nodeFloorMs = floor.medianMs;
    row.berth.aboveFloorMs = Math.round((row.berth.medianMs - floor.medianMs) * 100) / 100;
  }
  scenarios[key] = row;
}

const peakRssKiB = {};
for (const rt of runtimes) {
  const v = readText(join(dir, `rss.${rt}`));
  peakRssKiB[rt] = v && /^\d+$/.test(v) ? Number(v) : null;
}

const result = { ...meta, scenarios, peakRssKiB };

// ---- table
const fmt = (v, digits = 1) => (v == null ? '—' : v.toFixed(digits));
const pad = (s, n) => String(s).padStart(n);
const lines = [];
lines.push('');
lines.push(`Runtime benchmark: median wall time of ${meta.runs} runs (+${meta.warmup} warmup) per cell, ${meta.host.hyperfine}`);
lines.push(
  `host: Linux ${meta.host.kernel}, ${meta.host.cpus} CPUs, cgroups ${meta.host.cgroups}; node ${meta.host.node}` +
    (meta.crunInPrivateMountNs ? '; crun ran in a private mount ns without the cgroup2 mount' : ''),
);
lines.push(
  `load average (1/5/15 min): ${meta.host.loadAverage.atStart} at start, ${meta.host.loadAverage.atEnd} at end` +
    ' (other work on the machine skews every row)',
);
lines.push('');
// One block per scenario, a row per runtime: wide enough for any number of scenarios.
const head =
  `${'scenario'.padEnd(38)}${'runtime'.padEnd(8)}${pad('median ms', 11)}${pad('×runc', 8)}${pad('×crun', 8)}` +
  `${pad('Node floor', 12)}${pad('above floor', 13)}`;
lines.push(head, '-'.repeat(head.length));
for (const [key, label] of SCENARIOS) {
  runtimes.forEach((rt, i) => {
    const c = scenarios[key][rt];
    lines.push(
      `${(i === 0 ? label : '').padEnd(38)}${rt.padEnd(8)}${pad(c?.medianMs != null ? fmt(c.medianMs) : c?.error ? 'failed' : '—', 11)}` +
        `${pad(fmt(c?.ratioToRunc, 2), 8)}${pad(fmt(c?.ratioToCrun, 2), 8)}` +
        (c?.nodeFloorMs != null ? `${pad(fmt(c.nodeFloorMs), 12)}${pad(`+${fmt(c.aboveFloorMs)}`, 13)}` : ''),
    );
  });
}
lines.push('');
lines.push(
  `peak RSS of one run (MiB): ${runtimes.map((rt) => `${rt} ${peakRssKiB[rt] != null ? fmt(peakRssKiB[rt] / 1024) : '—'}`).join(', ')}`,
);
lines.push(
  'Node floor: as many starts of an empty `#!/usr/bin/env node` script as the row starts Node (the C front does start, delete, a plain exec and a run from the template of its bundle: no floor there), timed right after it.',
);
const problems = runtimes.filter((rt) => meta.runtimes[rt].error).map((rt) => `${rt}: unavailable: ${meta.runtimes[rt].error}`);
for (const [key, label] of SCENARIOS) {
  for (const rt of runtimes) {
    const c = scenarios[key][rt];
    if (c?.error) problems.push(`${rt}: ${label} failed: ${c.error}`);
  }
}
if (problems.length) lines.push('', ...problems);
lines.push('');
console.log(lines.join('\n'));

if (outFile) {
  writeFileSync(outFile, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`wrote ${outFile}`);
}
