import path from 'node:path';
import { startupSnapshot } from 'node:v8';
import { main, preloadCommands } from '../runtime-cli/main.js';

// The entry of berth-runtime's startup snapshot, an opt-in build (BERTH_SNAPSHOT=1
// scripts/bundle.mjs; dist/berth-runtime then runs `node --snapshot-blob
// dist/berth-runtime.blob -- ARGS`). Every command's module is initialised while the snapshot
// is built (and every function compiled, by the builder), so a call neither reads nor compiles
// the bundle: it starts at main. Nothing here may open a handle or read the environment at
// build time.

/** The bundle's file name, which the banner's `import.meta.url` stand-in reads (see bundle.mjs). */
declare let __berth_file: string;

void preloadCommands().then(() => {
  startupSnapshot.setDeserializeMainFunction(() => {
    // The bundle finds berth-nsinit and the cgroup helpers relative to itself: here, relative
    // to the snapshot blob it was started from, which sits next to the bundle in dist/.
    const i = process.execArgv.indexOf('--snapshot-blob');
    const blob = i >= 0 ? process.execArgv[i + 1] : undefined;
    if (blob !== undefined) __berth_file = path.join(path.dirname(path.resolve(blob)), 'berth-runtime.main.cjs');
    // After `--`, argv is [node, ...the user's arguments].
    void main(process.argv.slice(1)).then((code) => process.exit(code));
  });
});
