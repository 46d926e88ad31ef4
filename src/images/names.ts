/**
 * Image names as the image store keeps them: a normalized reference string
 * (`docker.io/library/busybox:latest`, `localhost:5000/a/b@sha256:…`), and back to Docker's
 * familiar form for `docker save`'s manifest.json and repositories. Pure.
 *
 * Parsing is the registry client's (src/distribution/reference.ts); this file only formats.
 */
import { invalid } from '../common/errors.js';
import type { Reference } from '../distribution/types.js';
import { parseReference } from './reference.js';

/** `domain/path[:tag][@digest]`; a reference with neither tag nor digest gets `latest`. */
export function formatReference(ref: Reference): string {
  let s = `${ref.domain}/${ref.path}`;
  if (ref.tag !== undefined) s += `:${ref.tag}`;
  if (ref.digest !== undefined) s += `@${ref.digest}`;
  if (ref.tag === undefined && ref.digest === undefined) s += ':latest';
  return s;
}

/** The normalized name of any reference text: `busybox` → `docker.io/library/busybox:latest`. */
export function normalizeName(text: string): string {
  return formatReference(parseName(text));
}

/** Parses, filling in the default tag when there is neither tag nor digest. */
export function parseName(text: string): Reference {
  const ref = parseReference(text);
  if (ref.tag === undefined && ref.digest === undefined) return { ...ref, tag: 'latest' };
  return ref;
}

/** The repository part of a normalized name: `docker.io/library/busybox`. */
export function repositoryOf(ref: Reference): string {
  return `${ref.domain}/${ref.path}`;
}

/** Docker's familiar form: `busybox`, `alice/app`, `localhost:5000/x` (no tag). */
export function familiarRepository(ref: Reference): string {
  if (ref.domain === 'docker.io') return ref.path.startsWith('library/') && ref.path.split('/').length === 2 ? ref.path.slice(8) : ref.path;
  return `${ref.domain}/${ref.path}`;
}

/** `busybox:latest` for a tagged name; undefined for a digest-only name. */
export function familiarTagged(name: string): string | undefined {
  const ref = parseReference(name);
  return ref.tag === undefined ? undefined : `${familiarRepository(ref)}:${ref.tag}`;
}

/** The name `repo@digest` recording where a pulled image came from (Docker's RepoDigests). */
export function digestName(ref: Reference, digest: string): string {
  return `${repositoryOf(ref)}@${digest}`;
}

export function assertTagged(ref: Reference, text: string): void {
  if (ref.tag === undefined) throw invalid(`reference '${text}': a tag is required`, text);
}
