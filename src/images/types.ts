/**
 * Image records and the progress events of pull, push, load and save. The event fields are the
 * ones Docker's JSON progress stream carries, so the engine forwards them as they are.
 */
import type { Descriptor } from '../oci/image.js';

export interface Image {
  /** normalized reference: docker.io/library/busybox:latest, or repo@sha256:… */
  name: string;
  /** the manifest or index */
  target: Descriptor;
  createdAt: Date;
  updatedAt: Date;
  labels: Record<string, string>;
}

/**
 * One event of a long operation. `id` is a layer's short digest (12 hex) or the reference;
 * `status` is Docker's wording: 'Pulling fs layer', 'Waiting', 'Downloading', 'Verifying
 * Checksum', 'Download complete', 'Extracting', 'Pull complete', 'Already exists', 'Pushing',
 * 'Pushed', 'Layer already exists', 'Mounted from <repo>', 'Loading layer', …
 */
export interface ProgressEvent {
  id?: string;
  status: string;
  current?: number;
  total?: number;
}

export type ProgressSink = (event: ProgressEvent) => void;
