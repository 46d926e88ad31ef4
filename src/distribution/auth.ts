/**
 * Registry authentication: the `WWW-Authenticate` parser (pure), scopes, and the bearer token
 * flow of distribution's token spec as dockerd runs it (`registry/client/auth/session.go`):
 *
 *   - GET <realm>?service=…&scope=…&scope=…[&account=<user>] with Basic credentials when known;
 *   - POST <realm> (form) with grant_type=refresh_token when an identity token is known, falling
 *     back to the GET when the token server answers 404 (it has no OAuth endpoint);
 *   - `token` or `access_token` from the answer; `expires_in` below 60 s counts as 60 s;
 *   - tokens cached per (realm, service, scope set, account) until they expire.
 */
import { BerthError } from '../common/errors.js';
import { discard, header, readBody, type Transport } from './http.js';
import type { AuthConfig } from './types.js';

// ---------------------------------------------------------------- WWW-Authenticate (RFC 7235)

export interface Challenge {
  /** lower-case: `bearer`, `basic` */
  scheme: string;
  /** parameter names lower-case, values unquoted and unescaped */
  params: Record<string, string>;
  /** the token68 form (`Negotiate abc==`), when used instead of parameters */
  token68?: string;
}

const TCHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;
const TOKEN68 = /[A-Za-z0-9\-._~+/]/;

/**
 * Parses one or more `WWW-Authenticate` header values into challenges. Quoted strings may hold
 * commas, `=` and backslash escapes, so this is a small scanner rather than a split on commas.
 * Lenient like browsers: malformed parts are skipped; it never throws.
 */
export function parseWwwAuthenticate(value: string | string[] | undefined): Challenge[] {
  if (value === undefined) return [];
  if (Array.isArray(value)) return value.flatMap((v) => parseWwwAuthenticate(v));
  const s = value;
  const out: Challenge[] = [];
  let i = 0;
  const ws = () => {
    while (i < s.length && (s[i] === ' ' || s[i] === '\t')) i++;
  };
  const token = (): string => {
    const start = i;
    while (i < s.length && TCHAR.test(s[i]!)) i++;
    return s.slice(start, i);
  };
  const quoted = (): string => {
    // at the opening quote
    i++;
    let v = '';
    while (i < s.length && s[i] !== '"') {
      if (s[i] === '\\' && i + 1 < s.length) i++;
      v += s[i];
      i++;
    }
    i++; // closing quote (or end of input)
    return v;
  };
  /**
   * Does a `name = value` parameter start at i (rather than a new challenge's scheme, or a
   * token68 with `=` padding)?
   */
  const paramAhead = (): boolean => {
    const save = i;
    const name = token();
    ws();
    let isParam = false;
    if (name.length > 0 && s[i] === '=') {
      i++;
      ws();
      isParam = i < s.length && s[i] !== '=' && s[i] !== ',';
    }
    i = save;
    return isParam;
  };

  while (i < s.length) {
    ws();
    if (s[i] === ',') {
      i++;
      continue;
    }
    const scheme = token();
    if (scheme.length === 0) {
      // junk: skip to the next comma
      i++;
      while (i < s.length && s[i] !== ',') i++;
      continue;
    }
    const ch: Challenge = { scheme: scheme.toLowerCase(), params: {} };
    out.push(ch);
    ws();
    if (i < s.length && s[i] !== ',' && !paramAhead()) {
      // token68: its characters, then '=' padding, then the end or a comma
      const start = i;
      while (i < s.length && TOKEN68.test(s[i]!)) i++;
      while (s[i] === '=') i++;
      const end = i;
      ws();
      if (end > start && (i >= s.length || s[i] === ',')) ch.token68 = s.slice(start, end);
      else while (i < s.length && s[i] !== ',') i++;
      continue;
    }
    // auth-params, comma separated, until a token that is not followed by '='
    for (;;) {
      ws();
      if (i >= s.length) break;
      if (s[i] === ',') {
        i++;
        ws();
        if (!paramAhead()) break;
        continue;
      }
      if (!paramAhead()) {
        // not a parameter: skip junk up to the next comma
        while (i < s.length && s[i] !== ',') i++;
        continue;
      }
      const name = token().toLowerCase();
      ws();
      i++; // '='
      ws();
      const v = s[i] === '"' ? quoted() : token();
      // defineProperty: a hostile `__proto__=` must stay a plain key
      if (!Object.hasOwn(ch.params, name))
        Object.defineProperty(ch.params, name, { value: v, enumerable: true, writable: true, configurable: true });
    }
  }
  return out;
}

/** The inverse, for tests and for error messages: quoted values escaped. */
export function formatChallenge(ch: Challenge): string {
  if (ch.token68 !== undefined) return `${ch.scheme} ${ch.token68}`;
  const params = Object.entries(ch.params).map(([k, v]) => `${k}="${v.replace(/["\\]/g, (c) => `\\${c}`)}"`);
  return params.length ? `${ch.scheme} ${params.join(', ')}` : ch.scheme;
}

// ---------------------------------------------------------------- scopes

export function pullScope(path: string): string {
  return `repository:${path}:pull`;
}
export function pushScope(path: string): string {
  return `repository:${path}:pull,push`;
}
/** A push that may mount blobs from other repositories also needs pull on each of them. */
export function pushScopes(path: string, mountFrom: readonly string[] = []): string[] {
  return [pushScope(path), ...mountFrom.filter((p) => p !== path).map(pullScope)];
}

export function basicAuthorization(auth: AuthConfig): string | undefined {
  if (auth.username === undefined || auth.username === '' || auth.password === undefined) return undefined;
  return `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
}

// ---------------------------------------------------------------- token flow

export interface TokenRequest {
  realm: string;
  service?: string;
  scopes: string[];
  auth?: AuthConfig;
  /** what the token is for, named in errors: the reference or the registry */
  object: string;
  userAgent?: string;
  signal?: AbortSignal;
  /** a login: ask for a refresh token (offline_token=true&client_id=docker) */
  offline?: boolean;
}

export interface Token {
  token: string;
  refreshToken?: string;
  /** ms since the epoch */
  expiresAt: number;
}

/** The shortest lifetime a token is assumed to have, as session.go's minimumTokenLifetimeSeconds. */
export const MIN_TOKEN_LIFETIME_S = 60;
const TOKEN_BODY_LIMIT = 1 << 20;

export class TokenCache {
  private readonly cache = new Map<string, Promise<Token>>();
  constructor(
    private readonly transport: Transport,
    private readonly now: () => number = Date.now,
  ) {}

  /** A cached token when it is still valid, else a fresh one; concurrent callers share a fetch. */
  async get(req: TokenRequest, options: { fresh?: boolean } = {}): Promise<Token> {
    const key = JSON.stringify([
      req.realm,
      req.service ?? '',
      [...new Set(req.scopes)].sort(),
      req.auth?.username ?? '',
      req.auth?.identityToken ? 'idt' : '',
    ]);
    const hit = this.cache.get(key);
    if (hit && !options.fresh) {
      try {
        const tok = await hit;
        if (tok.expiresAt > this.now()) return tok;
      } catch {
        /* a failed fetch is not cached: fetch again */
      }
    }
    const p = this.fetch(req);
    this.cache.set(key, p);
    p.catch(() => {
      if (this.cache.get(key) === p) this.cache.delete(key);
    });
    return p;
  }

  clear(): void {
    this.cache.clear();
  }

  private async fetch(req: TokenRequest): Promise<Token> {
    if (req.auth?.identityToken) {
      const tok = await this.fetchOAuth(req);
      if (tok !== undefined) return tok;
    }
    return this.fetchGet(req);
  }

  /** POST grant_type=refresh_token; undefined when the server has no OAuth endpoint (404). */
  private async fetchOAuth(req: TokenRequest): Promise<Token | undefined> {
    const form = new URLSearchParams();
    form.set('grant_type', 'refresh_token');
    form.set('refresh_token', req.auth!.identityToken!);
    if (req.service !== undefined) form.set('service', req.service);
    form.set('client_id', 'docker');
    if (req.scopes.length) form.set('scope', req.scopes.join(' '));
    if (req.offline) form.set('access_type', 'offline');
    const url = this.realmUrl(req);
    const res = await this.send(req, {
      method: 'POST',
      url,
      headers: { 'Content-Type': 'application/x-www-form-urlencoded; charset=utf-8', ...this.ua(req) },
      body: Buffer.from(form.toString()),
    });
    if (res.statusCode === 404) {
      discard(res);
      return undefined;
    }
    return this.answer(req, url, res);
  }

  private async fetchGet(req: TokenRequest): Promise<Token> {
    const url = this.realmUrl(req);
    if (req.service !== undefined) url.searchParams.set('service', req.service);
    for (const scope of req.scopes) url.searchParams.append('scope', scope);
    const headers: Record<string, string> = { ...this.ua(req) };
    const basic = req.auth ? basicAuthorization(req.auth) : undefined;
    if (basic) {
      url.searchParams.set('account', req.auth!.username!);
      headers.Authorization = basic;
    }
    if (req.offline) {
      url.searchParams.set('offline_token', 'true');
      url.searchParams.set('client_id', 'docker');
    }
    const res = await this.send(req, { method: 'GET', url, headers });
    return this.answer(req, url, res);
  }

  private realmUrl(req: TokenRequest): URL {
    let url: URL;
    try {
      url = new URL(req.realm);
    } catch (err) {
      throw new BerthError('invalid-argument', `fetch token for '${req.object}': invalid realm '${req.realm}'`, {
        object: req.object,
        cause: err,
      });
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw new BerthError('invalid-argument', `fetch token for '${req.object}': realm '${req.realm}' is not an http(s) URL`, {
        object: req.object,
      });
    }
    return url;
  }

  private ua(req: TokenRequest): Record<string, string> {
    return req.userAgent ? { 'User-Agent': req.userAgent } : {};
  }

  private async send(req: TokenRequest, r: Parameters<Transport['send']>[0]) {
    try {
      return await this.transport.send({ ...r, signal: req.signal });
    } catch (err) {
      if (err instanceof BerthError) throw err;
      throw new BerthError(
        'unavailable',
        `fetch token for '${req.object}' from '${r.url.origin}${r.url.pathname}': ${(err as Error).message}`,
        {
          object: req.object,
          cause: err,
        },
      );
    }
  }

  private async answer(req: TokenRequest, url: URL, res: Awaited<ReturnType<Transport['send']>>): Promise<Token> {
    const where = `${url.origin}${url.pathname}`;
    const body = await readBody(res, TOKEN_BODY_LIMIT, where);
    const status = res.statusCode ?? 0;
    if (status !== 200) {
      const kind =
        status === 401 || status === 403 ? 'permission-denied' : status === 429 || status >= 500 ? 'unavailable' : 'invalid-argument';
      throw new BerthError(kind, `fetch token for '${req.object}' from '${where}': ${tokenErrorText(status, body)}`, {
        object: req.object,
        cause: { status, body: body.toString('utf8').slice(0, 1000), contentType: header(res, 'content-type') },
      });
    }
    let json: { token?: unknown; access_token?: unknown; expires_in?: unknown; refresh_token?: unknown };
    try {
      json = JSON.parse(body.toString('utf8'));
    } catch (err) {
      throw new BerthError('invalid-argument', `fetch token for '${req.object}' from '${where}': answer is not JSON`, {
        object: req.object,
        cause: err,
      });
    }
    const token =
      typeof json.token === 'string' && json.token ? json.token : typeof json.access_token === 'string' ? json.access_token : '';
    if (!token)
      throw new BerthError('invalid-argument', `fetch token for '${req.object}' from '${where}': answer has no token`, {
        object: req.object,
      });
    const expiresIn =
      typeof json.expires_in === 'number' && json.expires_in >= MIN_TOKEN_LIFETIME_S ? json.expires_in : MIN_TOKEN_LIFETIME_S;
    const tok: Token = { token, expiresAt: this.now() + expiresIn * 1000 };
    if (typeof json.refresh_token === 'string' && json.refresh_token) tok.refreshToken = json.refresh_token;
    return tok;
  }
}

/** The token server's reason: its `errors[]` (distribution), `details` (Docker Hub), or the status. */
function tokenErrorText(status: number, body: Buffer): string {
  try {
    const j = JSON.parse(body.toString('utf8'));
    if (Array.isArray(j?.errors) && j.errors.length) {
      return j.errors.map((e: { code?: string; message?: string }) => registryErrorText(e.code, e.message)).join('; ');
    }
    if (typeof j?.details === 'string') return j.details;
    if (typeof j?.error === 'string') return j.error_description ? `${j.error}: ${j.error_description}` : j.error;
  } catch {
    /* not JSON */
  }
  return status === 401 ? 'unauthorized: authentication required' : `token server answered ${status}`;
}

/** distribution's errcode text: `manifest unknown: manifest unknown`. */
export function registryErrorText(code: string | undefined, message: string | undefined): string {
  const c = (code ?? 'unknown').toLowerCase().replace(/_/g, ' ');
  return message ? `${c}: ${message}` : c;
}
