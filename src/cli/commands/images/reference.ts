/**
 * Image references as the docker CLI parses them before it calls the daemon
 * (distribution/reference ParseNormalizedNamed), with its error texts:
 * `invalid reference format`, `invalid reference format: repository name (library/BAD) must be
 * lowercase`.
 */
import { BerthError } from '../../../common/errors.js';
import { DOCKER_HUB, normalizeReference, parseReference } from '../../../distribution/reference.js';
import type { Reference } from '../../../distribution/types.js';
import { CliError } from '../../types.js';

/** The path part of a name (Docker's "remote name"), as typed, for the lowercase message. */
function remoteName(input: string): string {
  const name = input.split('@')[0]!;
  const slash = name.indexOf('/');
  const first = slash < 0 ? '' : name.slice(0, slash);
  let rest = name;
  let hub = true;
  if (slash >= 0 && (/[.:]/.test(first) || first === 'localhost' || first.toLowerCase() !== first)) {
    rest = name.slice(slash + 1);
    hub = first === DOCKER_HUB || first === 'index.docker.io';
  }
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) rest = rest.slice(0, colon);
  return hub && !rest.includes('/') ? `library/${rest}` : rest;
}

/** Docker's message for a reference it cannot parse. */
export function referenceErrorText(input: string, err: unknown): string {
  const why = err instanceof BerthError ? err.message.replace(/^parse reference '.*?': /s, '') : String(err);
  if (/^[a-f0-9]{64}$/.test(input)) return `invalid repository name (${input}), cannot specify 64-byte hexadecimal strings`;
  if (why === 'repository name must be lowercase')
    return `invalid reference format: repository name (${remoteName(input)}) must be lowercase`;
  if (why.startsWith('repository name must')) return why;
  return 'invalid reference format';
}

/** ParseNormalizedNamed: a CliError with Docker's text on bad input. `tagged` adds `latest` when neither tag nor digest is given. */
export function parseCliReference(input: string, tagged = false): Reference {
  try {
    return tagged ? normalizeReference(input) : parseReference(input);
  } catch (err) {
    throw new CliError(referenceErrorText(input, err));
  }
}
