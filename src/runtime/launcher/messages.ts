/**
 * The messages of a launched helper (berth-nsinit's `pid`, `hooks`, `created`, `error`, then EOF),
 * queued for a reader that awaits them one at a time. Both launchers (berth-nsinit as our child,
 * and the engine's shim relaying it) deliver through one of these.
 */
import { constants } from 'node:os';
import { BerthError, type ErrorKind } from '../../common/errors.js';
import { decodeField } from '../plan/encode.js';
import type { LaunchMessage } from './launcher.js';

export const ERRNO_KINDS: Record<number, ErrorKind> = {
  [constants.errno.ENOENT]: 'not-found',
  [constants.errno.EPERM]: 'permission-denied',
  [constants.errno.EACCES]: 'permission-denied',
  [constants.errno.EEXIST]: 'already-exists',
  [constants.errno.EINVAL]: 'invalid-argument',
  [constants.errno.EBUSY]: 'unavailable',
};

/** `error <errno> <message>` (fields percent-encoded) → its parts. */
export function parseErrorLine(line: string): { errno: number; message: string } {
  const [, code = '', message = ''] = line.split(' ');
  const errno = Number(decodeField(code));
  if (!Number.isInteger(errno) || errno < 0) return { errno: 0, message: `nsinit: malformed error line '${line}'` };
  return { errno, message: decodeField(message) };
}

/**
 * A failure reported by berth-nsinit as a BerthError whose kind follows the errno: ENOENT is
 * not-found, EPERM and EACCES permission-denied, EEXIST already-exists, EINVAL invalid-argument,
 * EBUSY unavailable; a plan the helper refused is our own bug (internal); anything else is
 * failed-precondition. The message is nsinit's own ("mount 'proc' on '/proc': operation not permitted").
 */
export function nsinitError(e: { errno: number; message: string }, object?: string): BerthError {
  const kind: ErrorKind = ERRNO_KINDS[e.errno] ?? (e.message.startsWith('plan:') ? 'internal' : 'failed-precondition');
  return new BerthError(kind, e.message, { object });
}

export class MessageQueue {
  private readonly queue: LaunchMessage[] = [];
  private waiter: ((m: LaunchMessage) => void) | undefined;
  private closed = false;

  /** `whenEof` explains an EOF that came instead of the message `expect` waited for (it throws). */
  constructor(private readonly whenEof: (expected: LaunchMessage['type']) => Promise<never>) {}

  push(m: LaunchMessage): void {
    if (this.closed) return;
    if (m.type === 'eof') this.closed = true;
    const w = this.waiter;
    if (w) {
      this.waiter = undefined;
      w(m);
    } else this.queue.push(m);
  }

  /** The next message; after EOF, EOF forever. */
  next(): Promise<LaunchMessage> {
    const m = this.queue.shift();
    if (m) return Promise.resolve(m);
    if (this.closed) return Promise.resolve({ type: 'eof' });
    return new Promise((resolve) => {
      this.waiter = resolve;
    });
  }

  /** Waits for a message of the given type; an `error` message or EOF becomes a BerthError. */
  async expect<T extends LaunchMessage['type']>(type: T): Promise<Extract<LaunchMessage, { type: T }>> {
    const m = await this.next();
    if (m.type === type) return m as Extract<LaunchMessage, { type: T }>;
    if (m.type === 'error') throw nsinitError(m);
    if (m.type === 'eof') return this.whenEof(type);
    throw new BerthError('internal', `nsinit: expected '${type}', got '${m.type}'`);
  }
}
