/**
 * What the image operations are composed from: the roles they use, passed in by the caller
 * (the engine, a test, the bench). No module here opens a store by itself.
 */
import type { ApplyLayer } from '../archive/types.js';
import type { ContentStore } from '../content/types.js';
import type { Snapshotter } from '../snapshots/types.js';
import type { ImageStore } from './store.js';

/** A resource a lease keeps alive: 'content' (digest), 'ingest' (ref), 'snapshot/<snapshotter>' (key). */
export interface LeaseResource {
  type: string;
  resource: string;
}

/** The part of the lease manager the image operations use. */
export interface Leases {
  create(options?: { id?: string; expiresAt?: Date; labels?: Record<string, string> }): Promise<{ id: string }> | { id: string };
  addResource(leaseId: string, resource: LeaseResource): Promise<void> | void;
  delete(leaseId: string): Promise<void> | void;
  list?(): Promise<{ id: string; labels: Record<string, string> }[]> | { id: string; labels: Record<string, string> }[];
}

export interface ImageDeps {
  content: ContentStore;
  images: ImageStore;
  snapshotter: Snapshotter;
  apply: ApplyLayer;
  leases: Leases;
}

export const snapshotResource = (snapshotter: Snapshotter, key: string): LeaseResource => ({
  type: `snapshot/${snapshotter.name}`,
  resource: key,
});
export const contentResource = (digest: string): LeaseResource => ({ type: 'content', resource: digest });
export const ingestResource = (ref: string): LeaseResource => ({ type: 'ingest', resource: ref });
