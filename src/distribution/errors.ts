/**
 * Registry errors → BerthError. The registry's `errors[]` JSON (distribution's errcode) gives the
 * kind and the text; the full answer (status, code, message, detail) rides in the cause, so the
 * engine can answer 401/403/404/429 like dockerd and show the registry's own words.
 */
import { BerthError, type ErrorKind } from '../common/errors.js';
import { registryErrorText } from './auth.js';

export interface RegistryErrorInfo {
  status: number;
  /** the first error's code (`MANIFEST_UNKNOWN`, `UNAUTHORIZED`, …), when the registry sent one */
  code?: string;
  message?: string;
  detail?: unknown;
  errors?: { code?: string; message?: string; detail?: unknown }[];
}

const codeKinds: Record<string, ErrorKind> = {
  BLOB_UNKNOWN: 'not-found',
  BLOB_UPLOAD_UNKNOWN: 'not-found',
  MANIFEST_UNKNOWN: 'not-found',
  NAME_UNKNOWN: 'not-found',
  UNAUTHORIZED: 'permission-denied',
  DENIED: 'permission-denied',
  TOOMANYREQUESTS: 'unavailable',
  UNAVAILABLE: 'unavailable',
  UNSUPPORTED: 'not-implemented',
  MANIFEST_BLOB_UNKNOWN: 'failed-precondition',
  BLOB_UPLOAD_INVALID: 'invalid-argument',
  DIGEST_INVALID: 'invalid-argument',
  SIZE_INVALID: 'invalid-argument',
  MANIFEST_INVALID: 'invalid-argument',
  MANIFEST_UNVERIFIED: 'invalid-argument',
  NAME_INVALID: 'invalid-argument',
  TAG_INVALID: 'invalid-argument',
  RANGE_INVALID: 'invalid-argument',
  PAGINATION_NUMBER_INVALID: 'invalid-argument',
};

export function statusKind(status: number): ErrorKind {
  if (status === 401 || status === 403) return 'permission-denied';
  if (status === 404) return 'not-found';
  if (status === 405 || status === 501) return 'not-implemented';
  if (status === 409) return 'failed-precondition';
  if (status === 429 || status >= 500) return 'unavailable';
  if (status >= 400) return 'invalid-argument';
  return 'internal';
}

function statusText(status: number): string {
  switch (status) {
    case 401:
      return 'unauthorized: authentication required';
    case 403:
      return 'denied: requested access to the resource is denied';
    case 404:
      return 'not found';
    case 429:
      return 'toomanyrequests: too many requests';
    default:
      return `unexpected status ${status}`;
  }
}

/**
 * The error for a failed registry answer: `verb 'object': <code>: <message>` from the JSON body
 * when there is one (HEAD answers have none), else from the status.
 */
export function registryError(verb: string, object: string, status: number, body: Buffer | undefined): BerthError {
  const info: RegistryErrorInfo = { status };
  let text = statusText(status);
  let kind = statusKind(status);
  if (body?.length) {
    try {
      const j = JSON.parse(body.toString('utf8'));
      if (Array.isArray(j?.errors) && j.errors.length) {
        const errors = (j.errors as unknown[]).filter((e): e is Record<string, unknown> => typeof e === 'object' && e !== null);
        info.errors = errors.map((e) => ({
          code: typeof e.code === 'string' ? e.code : undefined,
          message: typeof e.message === 'string' ? e.message : undefined,
          detail: e.detail,
        }));
        const first = info.errors[0];
        if (first) {
          info.code = first.code;
          info.message = first.message;
          info.detail = first.detail;
          text = info.errors.map((e) => registryErrorText(e.code, e.message)).join('; ');
          const k = first.code ? codeKinds[first.code] : undefined;
          if (k) kind = k;
        }
      }
    } catch {
      const plain = body.toString('utf8').trim().slice(0, 200);
      // biome-ignore lint/suspicious/noControlCharactersInRegex: a registry's body is untrusted
      if (plain && !/[\u0000-\u0008]/.test(plain)) text = `${statusText(status)}: ${plain}`;
    }
  }
  return new BerthError(kind, `${verb} '${object}': ${text}`, { object, cause: info });
}

/** The registry's error code behind a BerthError (walking the cause chain), if any. */
export function registryErrorInfo(err: unknown): RegistryErrorInfo | undefined {
  for (let e: unknown = err; e !== undefined && e !== null; ) {
    if (e instanceof Error) {
      e = e.cause;
      continue;
    }
    if (typeof e === 'object' && typeof (e as RegistryErrorInfo).status === 'number') return e as RegistryErrorInfo;
    return undefined;
  }
  return undefined;
}
