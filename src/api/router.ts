/**
 * The Engine API's router: pure. It strips and checks the `/v1.NN` prefix as moby's version
 * middleware does, decodes the path as Go's URL.Path is (so `%2F` in a name is a slash, as
 * gorilla/mux sees it), and matches `{name}` segments and greedy `{name:.*}` parameters.
 * Methods match exactly: dockerd registers `HEAD /_ping` and `HEAD /containers/{id}/archive` as
 * routes of their own, so there is no implicit HEAD-to-GET fallback.
 */
import { BerthError } from '../common/errors.js';
import { API_VERSION, MIN_API_VERSION, type Route } from './types.js';

export interface RouteMatch {
  route: Route;
  params: Record<string, string>;
  /** The decoded path without the version prefix. */
  path: string;
  version: string;
}

interface Compiled {
  route: Route;
  regex: RegExp;
  names: string[];
}

const VERSIONED = /^\/v([0-9][0-9.]*)(\/.*)$/;

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** `/images/{name:.*}/json` → `^/images/(.*)/json$`; a plain `{id}` is one non-empty segment. */
export function compilePattern(pattern: string): { regex: RegExp; names: string[] } {
  const names: string[] = [];
  let source = '';
  let last = 0;
  for (const m of pattern.matchAll(/\{([A-Za-z_][A-Za-z0-9_]*)(?::([^}]*))?\}/g)) {
    source += escapeRegex(pattern.slice(last, m.index));
    names.push(m[1] as string);
    if (m[2] === undefined) source += '([^/]+)';
    else if (m[2] === '.*') source += '(.+)';
    else throw new Error(`route ${pattern}: only {name} and {name:.*} are supported`);
    last = (m.index ?? 0) + m[0].length;
  }
  source += escapeRegex(pattern.slice(last));
  return { regex: new RegExp(`^${source}$`), names };
}

/** Compares dotted versions numerically: `1.9` < `1.24` < `1.41`. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map((x) => Number.parseInt(x, 10) || 0);
  const pb = b.split('.').map((x) => Number.parseInt(x, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}

/** moby's version middleware: a 400 with its exact texts when outside [MIN_API_VERSION, API_VERSION]. */
export function checkVersion(version: string): void {
  if (compareVersions(version, API_VERSION) > 0) {
    throw new BerthError('invalid-argument', `client version ${version} is too new. Maximum supported API version is ${API_VERSION}`);
  }
  if (compareVersions(version, MIN_API_VERSION) < 0) {
    throw new BerthError(
      'invalid-argument',
      `client version ${version} is too old. Minimum supported API version is ${MIN_API_VERSION}, please upgrade your client to a newer version`,
    );
  }
}

export const pageNotFound = (): BerthError => new BerthError('not-found', 'page not found');

export class Router {
  private readonly compiled: Compiled[];
  constructor(routes: readonly Route[]) {
    this.compiled = routes.map((route) => ({ route, ...compilePattern(route.path) }));
  }

  /**
   * The route for a request line's method and URL path (no query), or a BerthError: 404 `page
   * not found` (an unknown path or method, as dockerd answers), 400 for a bad version or path.
   */
  match(method: string, urlPath: string): RouteMatch {
    let path: string;
    try {
      path = decodeURIComponent(urlPath);
    } catch {
      throw new BerthError('invalid-argument', `invalid URL escape in path ${JSON.stringify(urlPath)}`);
    }
    let version = API_VERSION;
    const v = VERSIONED.exec(path);
    if (v) {
      version = v[1] as string;
      path = v[2] as string;
    }
    for (const c of this.compiled) {
      if (c.route.method !== method) continue;
      const m = c.regex.exec(path);
      if (!m) continue;
      const params: Record<string, string> = {};
      c.names.forEach((name, i) => {
        params[name] = m[i + 1] as string;
      });
      checkVersion(version);
      return { route: c.route, params, path, version };
    }
    throw pageNotFound();
  }
}
