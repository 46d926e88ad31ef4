/**
 * Image names as the image store keeps them: a normalized reference string
 * (`docker.io/library/busybox:latest`, `localhost:5000/a/b@sha256:…`), and Docker's familiar
 * form for `docker save`'s manifest.json and repositories. Parsing and formatting are the
 * registry client's (src/distribution/reference.ts); these are the image side's uses of them.
 */
import { familiarName, formatReference, normalizeReference, parseReference } from '../distribution/reference.js';
import type { Reference } from '../distribution/types.js';

export { formatReference };

/** Parses, filling in the default tag when there is neither tag nor digest. */
export function parseName(text: string): Reference {
  return normalizeReference(text);
}

/** The normalized name of any reference text: `busybox` → `docker.io/library/busybox:latest`. */
export function normalizeName(text: string): string {
  return formatReference(normalizeReference(text));
}

/** Docker's familiar repository: `busybox`, `alice/app`, `localhost:5000/x` (no tag). */
export const familiarRepository = (ref: Reference): string => familiarName(ref);

/** `busybox:latest` for a tagged name; undefined for a digest-only name. */
export function familiarTagged(name: string): string | undefined {
  const ref = parseReference(name);
  return ref.tag === undefined ? undefined : `${familiarName(ref)}:${ref.tag}`;
}
