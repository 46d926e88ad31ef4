/** The route files other parts contribute to berthd (images, volumes, archive), wired to the engine. */
import type { Route } from '../api/types.js';
import type { ExecStore } from './containers/exec.js';
import type { Engine } from './engine.js';

export function imageRouteFactory(): ((engine: Engine, execs: ExecStore) => Route[])[] {
  return [];
}
