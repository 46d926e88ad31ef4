/**
 * Image references, parsed and normalized as Docker's `distribution/reference` does
 * (ParseNormalizedNamed + TagNameOnly): `busybox` → `docker.io/library/busybox:latest`.
 * Pure. The grammar:
 *
 *   reference  := name [ ":" tag ] [ "@" digest ]
 *   name       := [ domain "/" ] path-component ( "/" path-component )*
 *   domain     := host [ ":" port ]         host: DNS name, IPv4 or [IPv6]
 *   path-comp. := [a-z0-9]+ ( ( "." | "_" | "__" | "-"+ ) [a-z0-9]+ )*
 *   tag        := [\w][\w.-]{0,127}
 *
 * The first component is a domain only when it contains `.` or `:`, is `localhost`, or has an
 * upper-case letter (which a path component cannot); otherwise the name is on Docker Hub.
 */
import { BerthError } from '../common/errors.js';
import { assertDigest } from '../oci/image.js';
import type { Reference } from './types.js';

export const DOCKER_HUB = 'docker.io';
/** Docker Hub's legacy name, normalized away like Docker does. */
const LEGACY_HUB = 'index.docker.io';
export const DEFAULT_TAG = 'latest';
/** distribution/reference NameTotalLengthMax: domain and path together. */
export const NAME_MAX = 255;

const ALNUM = '[a-z0-9]+';
const SEPARATOR = '(?:[._]|__|[-]+)';
const PATH_COMPONENT = `${ALNUM}(?:${SEPARATOR}${ALNUM})*`;
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const IPV6 = '\\[(?:[a-fA-F0-9:]+)\\]';
const HOST = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|${IPV6})`;
const DOMAIN = `${HOST}(?::[0-9]+)?`;
const TAG = '[\\w][\\w.-]{0,127}';
const DIGEST = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}';

const DOMAIN_RE = new RegExp(`^${DOMAIN}$`);
const PATH_RE = new RegExp(`^${PATH_COMPONENT}(?:/${PATH_COMPONENT})*$`);
const TAG_RE = new RegExp(`^${TAG}$`);
const DIGEST_RE = new RegExp(`^${DIGEST}$`);
const HEX64_RE = /^[a-f0-9]{64}$/;

function bad(input: string, why: string): BerthError {
  return new BerthError('invalid-argument', `parse reference '${printable(input)}': ${why}`, { object: input });
}

/** Long or binary input shortened and escaped for a message. */
function printable(s: string): string {
  const cut = s.length > 300 ? `${s.slice(0, 300)}…` : s;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: escaping them is the point
  return cut.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/**
 * Splits `name` (everything before `:tag`/`@digest` is decided by the grammar, so the whole
 * string is passed) into domain and remainder, Docker's splitDockerDomain.
 */
function splitDomain(s: string): { domain: string; rest: string } {
  const slash = s.indexOf('/');
  const first = slash < 0 ? '' : s.slice(0, slash);
  let domain: string;
  let rest: string;
  if (slash < 0 || (!/[.:]/.test(first) && first !== 'localhost' && first.toLowerCase() === first)) {
    domain = DOCKER_HUB;
    rest = s;
  } else {
    domain = first;
    rest = s.slice(slash + 1);
  }
  if (domain === LEGACY_HUB) domain = DOCKER_HUB;
  if (domain === DOCKER_HUB && !rest.includes('/')) rest = `library/${rest}`;
  return { domain, rest };
}

/**
 * Parses a reference as the Docker CLI and dockerd do, without adding a default tag: the result
 * has a tag, a digest, both, or neither. Throws invalid-argument with Docker's reason.
 */
export function parseReference(input: string): Reference {
  if (input.length === 0) throw bad(input, 'repository name must have at least one component');
  if (HEX64_RE.test(input)) throw bad(input, 'cannot specify 64-byte hexadecimal strings');
  const { domain, rest } = splitDomain(input);

  // The remainder is path[:tag][@digest]; a ':' after the last '/' starts the tag.
  let digest: string | undefined;
  let nameTag = rest;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    nameTag = rest.slice(0, at);
  }
  let tag: string | undefined;
  let path = nameTag;
  const colon = nameTag.lastIndexOf(':');
  if (colon > nameTag.lastIndexOf('/')) {
    tag = nameTag.slice(colon + 1);
    path = nameTag.slice(0, colon);
  }

  if (path.toLowerCase() !== path) throw bad(input, 'repository name must be lowercase');
  if (!DOMAIN_RE.test(domain) || !PATH_RE.test(path)) throw bad(input, 'invalid reference format');
  if (tag !== undefined && !TAG_RE.test(tag)) throw bad(input, 'invalid reference format');
  if (digest !== undefined) {
    if (!DIGEST_RE.test(digest)) throw bad(input, 'invalid reference format');
    try {
      assertDigest(digest);
    } catch (err) {
      throw new BerthError('invalid-argument', `parse reference '${printable(input)}': ${(err as Error).message}`, {
        object: input,
        cause: err,
      });
    }
  }
  if (domain.length + 1 + path.length > NAME_MAX) throw bad(input, `repository name must not be more than ${NAME_MAX} characters`);

  const ref: Reference = { domain, path };
  if (tag !== undefined) ref.tag = tag;
  if (digest !== undefined) ref.digest = digest;
  return ref;
}

/** parseReference, then `latest` when neither tag nor digest is given (Docker's TagNameOnly). */
export function normalizeReference(input: string): Reference {
  const ref = parseReference(input);
  if (ref.tag === undefined && ref.digest === undefined) ref.tag = DEFAULT_TAG;
  return ref;
}

/** `domain/path`: the repository, as the registry and the image store name it. */
export function repositoryName(ref: Reference): string {
  return `${ref.domain}/${ref.path}`;
}

/** The full form: `docker.io/library/busybox:latest`, `host:5000/a/b@sha256:…`. */
export function formatReference(ref: Reference): string {
  return `${repositoryName(ref)}${ref.tag === undefined ? '' : `:${ref.tag}`}${ref.digest === undefined ? '' : `@${ref.digest}`}`;
}

/** Docker's familiar form for display: `busybox:latest`, `alice/app`, `localhost:5000/x:1`. */
export function familiarName(ref: Reference): string {
  if (ref.domain !== DOCKER_HUB) return repositoryName(ref);
  // Docker drops `docker.io/` even when the next component would then read as a domain
  // (`docker.io/a.b/c`); keeping it makes the familiar form parse back to the same name.
  if (splitDomain(ref.path).domain !== DOCKER_HUB) return repositoryName(ref);
  const rest =
    ref.path.startsWith('library/') && ref.path.indexOf('/', 'library/'.length) < 0 ? ref.path.slice('library/'.length) : ref.path;
  return rest;
}

export function familiar(ref: Reference): string {
  return `${familiarName(ref)}${ref.tag === undefined ? '' : `:${ref.tag}`}${ref.digest === undefined ? '' : `@${ref.digest}`}`;
}

/** The tag or digest the registry is asked for: the digest wins, as in Docker. */
export function manifestReference(ref: Reference): string {
  const r = ref.digest ?? ref.tag;
  if (r === undefined) throw bad(formatReference(ref), 'no tag or digest');
  return r;
}
