/** The one place the CLI makes its EngineClient (src/client/client.ts): lazy, nothing is dialed until the first request. */
import { connect } from '../client/client.js';
import type { EngineClient } from '../client/types.js';
import type { Target } from './contexts.js';

export function openClient(target: Target): EngineClient {
  return connect({ host: target.host, tls: target.tls, apiVersion: target.apiVersion });
}
