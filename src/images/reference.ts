/**
 * Reference parsing for the image side. Docker's rules: the first component is a registry host
 * when it has a '.' or a ':' or is `localhost`, otherwise the name is on docker.io and a
 * one-component path gets `library/`. Pure.
 *
 * TEMPORARY: src/distribution/reference.ts (h-dist) is the real parser; this is replaced by a
 * re-export of it once that branch is merged.
 */
import { invalid } from '../common/errors.js';
import type { Reference } from '../distribution/types.js';
import { isDigest } from '../oci/image.js';

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DOMAIN =
  /^(?:localhost|[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:]+\])(?::[0-9]+)?$/;

export function parseReference(text: string): Reference {
  const bad = (why: string) => invalid(`reference '${text}': ${why}`, text);
  if (text.length === 0 || text.length > 4096) throw bad('invalid reference format');
  let rest = text;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!isDigest(digest)) throw bad('invalid digest');
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw bad('invalid tag');
  }
  let domain = 'docker.io';
  let path = rest;
  const slash = rest.indexOf('/');
  if (slash >= 0) {
    const first = rest.slice(0, slash);
    if (first.includes('.') || first.includes(':') || first === 'localhost') {
      domain = first;
      path = rest.slice(slash + 1);
      if (!DOMAIN.test(domain)) throw bad('invalid domain');
    }
  }
  if (domain === 'index.docker.io' || domain === 'registry-1.docker.io') domain = 'docker.io';
  if (domain === 'docker.io' && !path.includes('/')) path = `library/${path}`;
  if (path.length === 0 || !path.split('/').every((c) => COMPONENT.test(c))) {
    throw bad(/[A-Z]/.test(path) ? 'repository name must be lowercase' : 'invalid reference format');
  }
  const ref: Reference = { domain, path };
  if (tag !== undefined) ref.tag = tag;
  if (digest !== undefined) ref.digest = digest;
  return ref;
}
