// Bundles each binary into one CommonJS file so that a command loads one file, not hundreds:
// Node's own start is the floor of every runtime call, and module loading must not add to it.
// CommonJS because Node 20's ESM loader costs several ms more per start than require().
//
// dist/<name>.cjs is a small loader (the package's bin) that compiles dist/<name>.main.cjs with
// a V8 code cache made here, so a command does not spend ~10 ms compiling the bundle again. A
// cache from another Node version is rejected by V8, and the loader then compiles as usual.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { build } from 'esbuild';

const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8'));
// The commit, for `--version` (runc prints one and dockerd reads it); none outside a git checkout.
let commit = '';
try {
  commit = execFileSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
} catch {}
// When the bundle was built, for `berth version` (Go's time.ANSIC form, as docker prints it).
const built = new Date()
  .toUTCString()
  .replace(/^(\w+), (\d+) (\w+) (\d+) ([\d:]+) GMT$/, (_, d, n, m, y, t) => `${d} ${m} ${String(Number(n)).padStart(2, ' ')} ${t} ${y}`);
// Built-in modules that are costly to load and that most verbs never use: `node:child_process`
// pulls in net, stream and dgram (about 5 ms per start here), and commander requires it at its
// top for executable subcommands, which berth-runtime has none of. Each import of these is
// given a stand-in whose exports are getters that load the real module on first use.
const LAZY_BUILTINS = ['child_process', 'os'];
const lazyBuiltins = (extra = []) => ({
  name: 'lazy-builtins',
  setup(b) {
    const filter = new RegExp(`^(node:)?(${[...LAZY_BUILTINS, ...extra].join('|')})$`);
    b.onResolve({ filter }, (args) =>
      // The stand-in's own require is of the real module.
      args.namespace === 'lazy-builtin'
        ? { path: args.path, external: true }
        : { path: args.path.replace(/^node:/, ''), namespace: 'lazy-builtin' },
    );
    b.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, async (args) => {
      // The names are taken from this Node; a name a newer Node adds is simply not forwarded.
      const keys = Object.keys(await import(`node:${args.path}`)).filter((k) => k !== 'default');
      return {
        loader: 'js',
        contents: `let m;
const load = () => (m ??= require('node:${args.path}'));
for (const k of ${JSON.stringify(keys)}) Object.defineProperty(exports, k, { enumerable: true, get: () => load()[k] });`,
      };
    });
  },
});

// Each binary's commands and the global options that take a value (src/runtime-cli/main.ts),
// for the loader to tell which command a call runs without loading the bundle.
const binaries = {
  'berth-runtime': {
    entry: 'src/bin/berth-runtime.ts',
    commands: [
      'create',
      'start',
      'run',
      'state',
      'list',
      'kill',
      'delete',
      'spec',
      'exec',
      'update',
      'pause',
      'resume',
      'ps',
      'events',
      'features',
    ],
    globalsWithValue: ['--root', '--log', '--log-format', '--cgroup-driver', '--criu', '--rootless'],
    warmup: [['--version'], ['--help']],
    snapshot: 'src/bin/berth-runtime-snapshot.ts',
    // berth-nsinit is spawned and the container lock taken through the addon: only `start` (its
    // start socket) and a few rarer paths still load net and stream, ~3 ms a call
    lazy: ['net', 'stream'],
  },
  // The Docker-compatible CLI. Its loader picks a code cache per top-level word (a command or a
  // group); the global options with a value are skipped to find it.
  berth: {
    entry: 'src/bin/berth.ts',
    // every top-level word (a split string keeps the list short)
    commands: (
      'container context image network system volume completion version info events inspect ' +
      'run create start attach exec logs ps stop restart kill rm wait pause unpause rename port update top stats cp ' +
      'export commit diff images pull push tag rmi history save load import login logout'
    ).split(' '),
    globalsWithValue: ['-H', '--host', '-c', '--context', '--config', '-l', '--log-level', '--tlscacert', '--tlscert', '--tlskey'],
    warmup: [['--version'], ['--help']],
    // Most calls never need TLS, crypto (contexts' hashes) or even HTTP (help, bad input,
    // completion): those load on first use.
    lazy: ['stream', 'http', 'https', 'crypto', 'net', 'tls', 'timers/promises', 'fs/promises', 'readline', 'stream/promises'],
  },
  // The daemon: one long-lived process, so start-up matters less; better-sqlite3 stays a real
  // module (its native binding is found relative to its own package).
  berthd: {
    entry: 'src/bin/berthd.ts',
    commands: [],
    globalsWithValue: [],
    warmup: [['--version']],
    external: ['better-sqlite3'],
  },
};

// The loader (the package's bin). `node --` before the script: Node 20 otherwise reads an
// `--env-file=X` among the program's own arguments (`berth run --env-file=X`) as its own option
// and dies when X is missing. It compiles the bundle with a V8 code cache of the functions
// the command it runs needs: one cache per command, since a cache of every command's code
// costs more to deserialize than most commands save by it. The cache of a command is written
// by its first successful run (that run compiles without a cache, so the cache holds just what
// that command compiled), next to the bundle, atomically, where this user may write (root, who
// runs the runtime, owns the package; elsewhere nothing is written and the shared cache made
// at build time is used). A cache is trusted code: it is only ever read from the package's own
// directory, and its name carries the bundle's hash, since V8 checks no more than the source's
// length and its own version before using one.
const loader = (name, { commands, globalsWithValue }, buildId) => `#!/usr/bin/env -S node --
'use strict';
// Generated by scripts/bundle.mjs: runs ${name}.main.cjs with a V8 code cache.
const fs = require('node:fs');
const vm = require('node:vm');
const COMMANDS = new Set(${JSON.stringify(commands)});
const WITH_VALUE = new Set(${JSON.stringify(globalsWithValue)});
let command = 'default';
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i];
  if (a === '--') break;
  if (a === '-h' || a === '--help') {
    command = 'default';
    break;
  }
  if (a[0] === '-') {
    if (WITH_VALUE.has(a)) i++;
    continue;
  }
  if (COMMANDS.has(a)) command = a;
  break;
}
const file = __dirname + '/${name}.main.cjs';
const cacheOf = (c) => __dirname + '/${name}.${buildId}.' + c + '.cache';
const read = (f) => {
  try {
    return fs.readFileSync(f);
  } catch {}
};
const cacheFile = cacheOf(command);
const mode = process.env.BERTH_WRITE_CODE_CACHE; // '1': write (the build's warmup), '0': never
const mayWrite = () => {
  if (mode === '1') return true;
  if (mode === '0' || command === 'default') return false;
  try {
    fs.accessSync(__dirname, fs.constants.W_OK);
    return true;
  } catch {
    return false;
  }
};
let cachedData = read(cacheFile);
const own = cachedData !== undefined;
// Without a cache of its own a command compiles afresh, so that the cache it writes holds just
// what it uses; when it cannot write one, it uses the shared one.
let writeOwn = mode === '1' || (!own && mayWrite());
if (!own && !writeOwn) cachedData = read(cacheOf('default'));
const script = new vm.Script(fs.readFileSync(file, 'latin1'), { filename: file, cachedData });
// A cache of another Node is rejected: this run compiled afresh, and replaces it.
if (own && script.cachedDataRejected && !writeOwn) writeOwn = mayWrite();
if (writeOwn) {
  process.once('exit', (code) => {
    if (code !== 0 && process.env.BERTH_WRITE_CODE_CACHE !== '1') return;
    const tmp = cacheFile + '.' + process.pid + '.tmp';
    try {
      fs.writeFileSync(tmp, script.createCachedData(), { mode: 0o644, flag: 'wx' });
      fs.renameSync(tmp, cacheFile);
    } catch {
      try {
        fs.unlinkSync(tmp);
      } catch {}
    }
  });
}
const mod = { exports: {}, filename: file, id: file, loaded: false };
script.runInThisContext().call(mod.exports, mod.exports, require, mod, file, __dirname);
`;

for (const [name, spec] of Object.entries(binaries)) {
  const { entry, warmup } = spec;

  await build({
    entryPoints: [entry],
    outfile: `dist/${name}.main.cjs`,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    // BERTH_NO_MINIFY=1: readable names in CPU profiles (node --cpu-prof) of the bundles
    minify: process.env.BERTH_NO_MINIFY !== '1',
    sourcemap: 'linked',
    define: {
      BERTH_VERSION: JSON.stringify(pkg.version),
      BERTH_COMMIT: JSON.stringify(commit),
      BERTH_BUILT: JSON.stringify(built),
      // Only two functions ask where the bundle is: node:url is loaded when they do.
      'import.meta.url': '__berth_meta.url',
    },
    // The bundle is a function expression that the loader calls as Node calls a module. The
    // ASCII-only output (esbuild escapes the rest) lets the loader read it as latin1, which
    // needs no UTF-8 decoding.
    banner: {
      js: `(function (exports, require, module, __filename, __dirname) {'use strict';
const __berth_meta = { get url() { return require('node:url').pathToFileURL(__filename).href; } };`,
    },
    footer: { js: '})' },
    charset: 'ascii',
    logLevel: 'warning',
    plugins: [lazyBuiltins(spec.lazy)],
    external: spec.external ?? [],
  });
  const bin = `dist/${name}.cjs`;
  const buildId = createHash('sha256')
    .update(await readFile(`dist/${name}.main.cjs`))
    .digest('hex')
    .slice(0, 12);
  await writeFile(bin, loader(name, spec, buildId));
  await chmod(bin, 0o755);
  // Caches of earlier builds (and of the old single-cache loader) are useless now.
  for (const f of await readdir('dist')) {
    if (f.startsWith(`${name}.`) && (f.endsWith('.cache') || f.endsWith('.tmp'))) await rm(`dist/${f}`, { force: true });
  }
  // The shared cache holds what these commands compiled; each run adds to it.
  for (const args of warmup) {
    try {
      execFileSync(process.execPath, [bin, ...args], { stdio: 'ignore', env: { ...process.env, BERTH_WRITE_CODE_CACHE: '1' } });
    } catch {
      // the cache of what ran is still written at exit
    }
  }
}

// Startup snapshots, built only with BERTH_SNAPSHOT=1 (an experiment; the package's bin stays
// the loader). A Node 20 user-land snapshot (node --build-snapshot) holds the heap after every
// module of the binary was initialised, so a call starts at main without reading, compiling or
// running any module code. dist/<name> is a /bin/sh wrapper that execs
// `node --snapshot-blob dist/<name>.blob -- ARGS`, or the loader when the snapshot is unusable.
//
// Why it is not the default (measured on Node 20.20 under load 5-12, CPU ms per call, perf
// stat; docs/status.md): with only module top levels compiled (no --no-lazy below), every call
// compiled its verb's functions from source and `run` was slower than the loader's
// per-command code cache (99-120 vs 91-95); with every function compiled (below) the blob is
// 5.1 MB and it is even within the noise: `run` 88-95 vs 94-95, create+start+delete 233 vs
// 194, exec 78 vs 73. Deserialising a blob read from a file costs about what compiling from
// the code cache saves; Node's own start and its internals (net, child_process: ~10% of
// `run`) stay.
//
// A snapshot only loads into the very Node binary that built it (another version exits with
// "Failed to load the startup snapshot"), and the wrapper must decide before exec'ing, as it
// cannot retry after: it runs the Node that built the blob, by its path, and only when that
// file's mtime is the blob's, which the build sets (test -nt/-ot are shell built-ins; no fork).
const wrapper = (name, node) => `#!/bin/sh
# Generated by scripts/bundle.mjs: runs ${name} from its startup snapshot (${name}.blob)
# when the Node that built it is still there unchanged, else through the loader ${name}.cjs.
case $0 in
*/*) dir=\${0%/*} ;;
*) dir=. ;;
esac
[ -L "$0" ] && dir=$(dirname "$(readlink -f "$0")")
node=${shq(node)}
blob=$dir/${name}.blob
if [ -f "$blob" ] && [ -x "$node" ] && ! [ "$node" -nt "$blob" ] && ! [ "$node" -ot "$blob" ]; then
  exec "$node" --snapshot-blob "$blob" -- "$@"
fi
exec node "$dir/${name}.cjs" "$@"
`;

// The script the snapshot is built from. A snapshot keeps the bytecode of the functions that
// were compiled when it was taken, and V8 compiles a function when it is first called: without
// more, only module top levels would be in it, and each call would compile its verb's functions
// from source. So the bundle is compiled with --no-lazy (every function, eagerly) and the flag
// is restored before the snapshot is taken: a blob is only loaded by a Node whose V8 flags hash
// as the builder's did.
const snapshotBuilder = (entry) => `'use strict';
const v8 = require('node:v8');
const vm = require('node:vm');
const file = ${JSON.stringify(resolve(entry))};
const source = require('node:fs').readFileSync(file, 'latin1');
v8.setFlagsFromString('--no-lazy');
const run = vm.runInThisContext('(function (require, __filename, __dirname) {' + source + '\\n})', { filename: file });
v8.setFlagsFromString('--lazy');
run(require, file, ${JSON.stringify(resolve('dist'))});
`;

function shq(s) {
  return `'${s.replaceAll("'", "'\\''")}'`;
}

for (const [name, spec] of Object.entries(binaries)) {
  await rm(`dist/${name}.blob`, { force: true });
  await rm(`dist/${name}`, { force: true });
  await rm(`dist/${name}.snapshot.cjs`, { force: true });
  await rm(`dist/${name}.snapshot-builder.cjs`, { force: true });
  if (spec.snapshot === undefined || process.env.BERTH_SNAPSHOT !== '1') continue;
  const entry = `dist/${name}.snapshot.cjs`;
  const builder = `dist/${name}.snapshot-builder.cjs`;
  const blob = `dist/${name}.blob`;
  await rm(blob, { force: true });
  await build({
    entryPoints: [spec.snapshot],
    outfile: entry,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    minify: true,
    define: {
      BERTH_VERSION: JSON.stringify(pkg.version),
      BERTH_COMMIT: JSON.stringify(commit),
      'import.meta.url': '__berth_meta.url',
    },
    // __berth_file is set by the snapshot's main to the bundle's path at run time (the path
    // of this file when the snapshot was built means nothing then).
    banner: {
      js: `'use strict';
var __berth_file = __filename;
const __berth_meta = { get url() { return require('node:url').pathToFileURL(__berth_file).href; } };`,
    },
    charset: 'ascii',
    logLevel: 'warning',
    plugins: [lazyBuiltins(spec.lazy)],
    external: spec.external ?? [],
  });
  try {
    await writeFile(builder, snapshotBuilder(entry));
    execFileSync(process.execPath, ['--snapshot-blob', blob, '--build-snapshot', builder], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    const st = await stat(process.execPath);
    await utimes(blob, st.atime, st.mtime);
  } catch (err) {
    await rm(blob, { force: true });
    console.warn(`bundle: no startup snapshot for ${name} (it runs through its loader): ${err.stderr ?? err.message}`);
  }
  await writeFile(`dist/${name}`, wrapper(name, process.execPath));
  await chmod(`dist/${name}`, 0o755);
}
