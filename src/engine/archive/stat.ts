/** `HEAD /containers/{id}/archive`: the X-Docker-Container-Path-Stat object of a path. */
import { goFileMode, rfc3339Nano } from './mode.js';
import { closeQuietly, linkTargetOf, openRoot, type Resource, release, resolveResource } from './resolve.js';

/** Docker's types.ContainerPathStat, as JSON. */
export interface PathStat {
  name: string;
  size: number;
  /** Go os.FileMode bits (uint32). */
  mode: number;
  /** RFC3339 (Go's RFC3339Nano: no trailing zeros). */
  mtime: string;
  /** For a link: its target fully evaluated in the container's root, absolute; else ''. */
  linkTarget: string;
}

/** The stat of `requested` in the container whose root is `root` (404 in Docker's words). */
export function statPath(root: string, requested: string, container: string): PathStat {
  const rootfd = openRoot(root);
  try {
    const r = resolveResource(rootfd, requested, container);
    try {
      return statOf(rootfd, r, container);
    } finally {
      release(r);
    }
  } finally {
    closeQuietly(rootfd);
  }
}

/** The stat of a resolved resource (the one that is then archived: no second lookup). */
export function statOf(rootfd: number, r: Resource, container: string): PathStat {
  const mode = Number(r.st.mode);
  const isLink = (mode & 0o170000) === 0o120000;
  return {
    name: r.req.name,
    size: Number(r.st.size),
    mode: goFileMode(mode),
    mtime: rfc3339Nano(r.st.mtimeNs),
    linkTarget: isLink ? linkTargetOf(rootfd, r, container) : '',
  };
}

/** The header value: base64 of the JSON. */
export function encodePathStat(s: PathStat): string {
  return Buffer.from(JSON.stringify(s)).toString('base64');
}
