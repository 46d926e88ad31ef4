/**
 * One error class for all of Berth. A BerthError carries a kind (what callers branch on), the
 * object it concerns, and the cause; its message reads "verb 'object': cause", in lower case,
 * like crun's and containerd's. Kinds map to exit codes and, later, to HTTP statuses.
 *
 * Codes are stable identifiers meant to be searched for: never reuse or renumber one.
 */
export type ErrorKind =
  | 'not-found'
  | 'already-exists'
  | 'invalid-argument'
  | 'failed-precondition'
  | 'permission-denied'
  | 'not-implemented'
  | 'unavailable'
  | 'internal';

export class BerthError extends Error {
  override readonly name = 'BerthError';
  constructor(
    readonly kind: ErrorKind,
    message: string,
    options?: { cause?: unknown; object?: string; status?: number },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.object = options?.object;
    this.status = options?.status;
  }
  readonly object: string | undefined;
  /** The HTTP status to answer with where Docker's differs from the kind's (e.g. 401). */
  readonly status: number | undefined;
}

/** Walks the cause chain, like Go's errors.Is on a sentinel kind. */
export function isKind(err: unknown, kind: ErrorKind): boolean {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    if (e instanceof BerthError && e.kind === kind) return true;
  }
  return false;
}

export const notFound = (message: string, object?: string) => new BerthError('not-found', message, { object });
export const invalid = (message: string, object?: string) => new BerthError('invalid-argument', message, { object });
export const precondition = (message: string, object?: string) => new BerthError('failed-precondition', message, { object });
export const exists = (message: string, object?: string) => new BerthError('already-exists', message, { object });

const errnoKinds: Record<string, ErrorKind> = {
  ENOENT: 'not-found',
  ENOTDIR: 'not-found',
  EEXIST: 'already-exists',
  EACCES: 'permission-denied',
  EPERM: 'permission-denied',
  EINVAL: 'invalid-argument',
  EBUSY: 'unavailable',
};

/** Node's errno text ("no such file or directory") without the path it repeats. */
function errnoText(err: NodeJS.ErrnoException): string {
  const m = /^[A-Z]+: ([^,]+)/.exec(err.message);
  return m?.[1] ?? err.message;
}

/**
 * Wraps a failed system call as "verb 'object': cause", e.g.
 * `open '/x/config.json': no such file or directory`.
 */
export function fromErrno(verb: string, object: string, err: unknown): BerthError {
  if (err instanceof BerthError) return err;
  const e = err as NodeJS.ErrnoException;
  const kind = (e?.code && errnoKinds[e.code]) || 'internal';
  const text = e?.code ? errnoText(e) : String((e as Error)?.message ?? err);
  return new BerthError(kind, `${verb} '${object}': ${text}`, { cause: err, object });
}

export function errnoCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}
