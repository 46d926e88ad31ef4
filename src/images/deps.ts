/**
 * What the image operations are composed from: the roles they use, passed in by the caller
 * (the engine, a test, the bench). No module here opens a store by itself.
 */
import type { ApplyLayer } from '../archive/types.js';
import type { ContentStore } from '../content/types.js';
import type { Leases as LeaseManager, LeaseResource } from '../metadata/leases.js';
import type { Snapshotter } from '../snapshots/types.js';
import type { ImageStore } from './store.js';

export type { LeaseResource };

/** The part of the lease manager (src/metadata/leases.ts) the image operations use. */
export type Leases = Pick<LeaseManager, 'create' | 'addResource' | 'delete' | 'list'>;

export interface ImageDeps {
  content: ContentStore;
  images: ImageStore;
  snapshotter: Snapshotter;
  apply: ApplyLayer;
  leases: Leases;
}

export const snapshotResource = (snapshotter: Snapshotter, key: string): LeaseResource => ({
  type: `snapshot/${snapshotter.name}`,
  id: key,
});
export const contentResource = (digest: string): LeaseResource => ({ type: 'content', id: digest });
export const ingestResource = (ref: string): LeaseResource => ({ type: 'ingest', id: ref });
