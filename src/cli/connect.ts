/**
 * The one place the CLI makes its EngineClient: swap the stand-in for src/client/client.ts's
 * `connect` here when it lands.
 */
import type { EngineClient } from '../client/types.js';
import type { Target } from './contexts.js';
import { connectStandIn } from './stand-in-client.js';

export function openClient(target: Target): Promise<EngineClient> {
  return connectStandIn(target);
}
