/**
 * Both snapshotters against the conformance suite (src/snapshots/testsuite.ts, containerd's
 * tests by name), plus crash safety: a child process preparing, committing and removing
 * snapshots is SIGKILLed at random points; afterwards cleanup() leaves no directory without a
 * row and no row without a directory, and the store still works.
 */
import { NativeSnapshotter } from '../src/snapshots/native.js';
import { OverlaySnapshotter } from '../src/snapshots/overlay.js';
import { snapshotterSuite } from '../src/snapshots/testsuite.js';

const skip = process.getuid?.() !== 0 ? 'needs root: the suite mounts snapshots' : undefined;

snapshotterSuite('overlayfs', (root, db) => OverlaySnapshotter.open({ root, db }), { skip });
snapshotterSuite('native', (root, db) => NativeSnapshotter.open({ root, db }), { skip });
