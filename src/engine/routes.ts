/** The route files other parts contribute to berthd (images, volumes, archive), wired to the engine. */
import { containerChangesRoutes } from '../api/routes/container-changes.js';
import { imageTransferRoutes } from '../api/routes/image-transfer.js';
import type { Route } from '../api/types.js';
import { overlayDirs } from './containers/commit.js';
import type { ExecStore } from './containers/exec.js';
import type { Engine } from './engine.js';

export function imageRouteFactory(): ((engine: Engine, execs: ExecStore) => Route[])[] {
  return [
    (engine) => imageTransferRoutes({ images: engine.images, events: engine.events }),
    (engine) =>
      containerChangesRoutes({
        layers: async (ref) => {
          const rec = engine.containers.get(ref);
          const dirs = overlayDirs(await engine.images.snapshotter.mounts(rec.SnapshotKey));
          return dirs ? { id: rec.Id, ...dirs } : undefined;
        },
      }),
  ];
}
