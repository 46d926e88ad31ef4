/** Stream helpers shared by the store's writers and readers. */
import type { Writable } from 'node:stream';

/**
 * Settles when `dest` drains or closes, whichever comes first: a consumer destroyed while a
 * producer waits never drains, and a wait on 'drain' alone would hang the producer.
 */
export function drainOrClose(dest: Writable): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      dest.off('drain', done);
      dest.off('close', done);
      resolve();
    };
    dest.on('drain', done);
    dest.on('close', done);
  });
}
