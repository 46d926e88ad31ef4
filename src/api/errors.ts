/**
 * How a thrown error becomes an HTTP answer: a BerthError's kind picks the status the Go client
 * maps back to its error classes (404 drives pull-on-run, 409 conflicts), unless the error
 * carries Docker's own status; anything else is a 500 with its message and never a stack.
 */
import { BerthError, type ErrorKind } from '../common/errors.js';

const STATUS: Record<ErrorKind, number> = {
  'not-found': 404,
  'already-exists': 409,
  'failed-precondition': 409,
  'invalid-argument': 400,
  'permission-denied': 403,
  'not-implemented': 501,
  unavailable: 503,
  internal: 500,
};

export function statusOf(err: unknown): number {
  if (err instanceof BerthError) {
    const s = err.status;
    if (s !== undefined && Number.isInteger(s) && s >= 400 && s <= 599) return s;
    return STATUS[err.kind];
  }
  return 500;
}

export function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}

/** `{"message": …}` as dockerd writes it (Go's encoder ends it with a newline). */
export function errorBody(err: unknown): string {
  return `${JSON.stringify({ message: messageOf(err) })}\n`;
}
