// Bundles each binary into one CommonJS file so that a command loads one file, not hundreds:
// Node's own start is the floor of every runtime call, and module loading must not add to it.
// CommonJS because Node 20's ESM loader costs ~10 ms more per start than require() of one file.
import { chmod, readFile } from 'node:fs/promises';
import { build } from 'esbuild';

const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8'));
const binaries = { 'berth-runtime': 'src/bin/berth-runtime.ts' };

for (const [name, entry] of Object.entries(binaries)) {
  const outfile = `dist/${name}.cjs`;
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    minify: true,
    sourcemap: 'linked',
    define: { BERTH_VERSION: JSON.stringify(pkg.version), 'import.meta.url': '__berth_import_meta_url' },
    banner: { js: "#!/usr/bin/env node\nconst __berth_import_meta_url = require('node:url').pathToFileURL(__filename).href;" },
    logLevel: 'warning',
  });
  await chmod(outfile, 0o755);
}
