/**
 * `GET /containers/{id}/changes` (docker diff): the container's rootfs changes over its image,
 * as dockerd's overlay2 driver reports them (src/engine/containers/changes.ts). `null` when
 * nothing changed, as dockerd answers (a nil Go slice).
 */
import { BerthError } from '../../common/errors.js';
import { type Change, overlayChanges } from '../../engine/containers/changes.js';
import type { Route, RouteFactory } from '../types.js';

export interface ContainerChangesDeps {
  /** The container's overlay directories (upper, lowers top first), or undefined when its snapshotter has none. */
  layers(ref: string): Promise<{ id: string; upper: string; lowers: string[] } | undefined>;
}

export const containerChangesRoutes: RouteFactory<ContainerChangesDeps> = (deps): Route[] => [
  {
    method: 'GET',
    path: '/containers/{id}/changes',
    handler: async (req, res) => {
      const dirs = await deps.layers(req.params.id!);
      if (!dirs) {
        throw new BerthError(
          'not-implemented',
          `changes '${req.params.id}': the snapshotter has no upper directory to compare (overlayfs only)`,
          {
            object: req.params.id!,
          },
        );
      }
      const changes: Change[] = await overlayChanges(dirs.upper, dirs.lowers);
      res.json(changes.length ? changes : null);
    },
  },
];
