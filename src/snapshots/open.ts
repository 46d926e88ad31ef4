/**
 * Opens the snapshotter a configuration names, with its root at `<base>/<name>` (the layout
 * the metadata schema describes: /var/lib/berth/snapshots/overlayfs/<id>/fs). 'auto' is
 * overlayfs where the backing filesystem allows it and native elsewhere; the reason for
 * falling back is returned so the engine can log it.
 */
import path from 'node:path';
import { invalid, isKind } from '../common/errors.js';
import type { Db } from '../metadata/db.js';
import { NativeSnapshotter } from './native.js';
import { OverlaySnapshotter } from './overlay.js';
import type { Snapshotter } from './types.js';

export type SnapshotterName = 'overlayfs' | 'native' | 'auto';

export async function openSnapshotter(
  name: SnapshotterName,
  base: string,
  db: Db,
): Promise<{ snapshotter: Snapshotter; fallback?: string }> {
  switch (name) {
    case 'overlayfs':
      return { snapshotter: await OverlaySnapshotter.open({ root: path.join(base, 'overlayfs'), db }) };
    case 'native':
      return { snapshotter: await NativeSnapshotter.open({ root: path.join(base, 'native'), db }) };
    case 'auto':
      try {
        return await openSnapshotter('overlayfs', base, db);
      } catch (err) {
        if (!isKind(err, 'failed-precondition')) throw err;
        return { snapshotter: await NativeSnapshotter.open({ root: path.join(base, 'native'), db }), fallback: (err as Error).message };
      }
    default:
      throw invalid(`open snapshotter '${String(name)}': unknown snapshotter (overlayfs, native or auto)`, String(name));
  }
}
