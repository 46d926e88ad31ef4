/**
 * Pure path rules of `docker cp` (moby `container.ResolvePath`, `archive.PreserveTrailingDotOrSeparator`):
 * a request path is absolute in the container; a trailing `/` or `/.` is meaningful (follow the
 * last symlink / copy a directory's contents), so it survives the cleaning.
 */
import path from 'node:path/posix';

export interface RequestPath {
  /** `/a/b`, `/a/b/` or `/a/b/.`: cleaned, with the trailing separator or dot kept. */
  abs: string;
  /** The directory part, resolved (following links) in the root: `/a`. */
  dir: string;
  /** The last element: `b`; `` after a trailing `/` (or for the root); `.` after a trailing `/.`. */
  base: string;
  /** What the stat and the archive call the resource: `b` (also for `b/`), `.`, or `/` for the root. */
  name: string;
}

export function parseRequestPath(requested: string): RequestPath {
  const cleaned = path.join('/', requested).replace(/\/+$/, '') || '/';
  let abs = cleaned;
  if (cleaned !== '/') {
    if (requested.endsWith('/.')) abs = `${cleaned}/.`;
    else if (requested.endsWith('/')) abs = `${cleaned}/`;
  }
  if (abs === '/') return { abs, dir: '/', base: '', name: '/' };
  const slash = abs.lastIndexOf('/');
  const dir = abs.slice(0, slash) || '/';
  const base = abs.slice(slash + 1);
  return { abs, dir, base, name: base === '' ? path.basename(abs) : base };
}

/** The tar name of `rel` (a path below the archived resource, '' for itself) under `rebase`. */
export function entryName(rebase: string, rel: string, isDir: boolean): string {
  // moby TarWithOptions: the root `/` is replaced by '' so that names do not start with `//`
  const prefix = rebase === '/' ? '' : rebase;
  let name = rel === '' ? prefix : `${prefix}/${rel}`;
  if (name === '') name = '/';
  if (isDir && !name.endsWith('/')) name += '/';
  return name;
}
