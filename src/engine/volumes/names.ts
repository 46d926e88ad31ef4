/**
 * Volume names as dockerd's local driver validates them (volume/local/local.go validateName),
 * with its texts, and anonymous volumes as Docker ≥ 23 makes them: 64 random hex digits and the
 * label `com.docker.volume.anonymous` (what `docker volume prune` removes by default at API 1.42).
 */
import { randomBytes } from 'node:crypto';
import { BerthError } from '../../common/errors.js';

export const VOLUME_NAME_CHARS = '[a-zA-Z0-9][a-zA-Z0-9_.-]';
const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;
/** A directory name: longer ones fail in mkdir (ENAMETOOLONG), so refuse them as bad input. */
const MAX_NAME = 255;

export const ANONYMOUS_LABEL = 'com.docker.volume.anonymous';
export const LOCAL_DRIVER = 'local';

/** The error dockerd's volume store returns: "create <name>: <cause>" (its OpErr). */
export function opError(kind: BerthError['kind'], op: string, name: string, cause: string): BerthError {
  return new BerthError(kind, `${op}${name ? ` ${name}` : ''}: ${cause}`, { object: name });
}

/** Throws invalid-argument with dockerd's text when `name` is not a valid local volume name. */
export function checkVolumeName(name: string): void {
  if (name.length === 1)
    throw opError('invalid-argument', 'create', name, 'volume name is too short, names should be at least two alphanumeric characters');
  if (!NAME_RE.test(name))
    throw opError(
      'invalid-argument',
      'create',
      name,
      `${JSON.stringify(name)} includes invalid characters for a local volume name, only "${VOLUME_NAME_CHARS}" are allowed. If you intended to pass a host directory, use absolute path`,
    );
  if (name.length > MAX_NAME) throw opError('invalid-argument', 'create', name, `volume name is too long (at most ${MAX_NAME} characters)`);
}

export function isVolumeName(name: string): boolean {
  return NAME_RE.test(name) && name.length <= MAX_NAME;
}

/** A new anonymous volume's name (stringid.GenerateRandomID: 64 lowercase hex). */
export function anonymousName(): string {
  return randomBytes(32).toString('hex');
}

export function isAnonymous(labels: Record<string, string> | null): boolean {
  return labels !== null && Object.hasOwn(labels, ANONYMOUS_LABEL);
}
