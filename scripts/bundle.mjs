// Bundles each binary into one ESM file so that a command loads one file, not hundreds: Node's
// own start is the floor of every runtime call, and module resolution must not add to it.
import { chmod, readFile } from 'node:fs/promises';
import { build } from 'esbuild';

const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8'));
const binaries = { 'berth-runtime': 'src/bin/berth-runtime.ts' };

for (const [name, entry] of Object.entries(binaries)) {
  const outfile = `dist/${name}.mjs`;
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    minifyWhitespace: true,
    minifySyntax: true,
    sourcemap: 'linked',
    define: { BERTH_VERSION: JSON.stringify(pkg.version) },
    // commander is CommonJS: give the bundle a real require for its built-in imports.
    banner: { js: "#!/usr/bin/env node\nimport { createRequire as __cr } from 'node:module';\nconst require = __cr(import.meta.url);" },
    logLevel: 'warning',
  });
  await chmod(outfile, 0o755);
}
