/**
 * The named lock's transport (common/lock.ts) through the addon instead of node:net, whose
 * loading is ~3 ms of each short-lived berth-runtime call that takes a container's lock. The same
 * abstract names, so holders and waiters of either kind exclude and wake each other.
 */
import { closeSync, readSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { LockTransport } from '../common/lock.js';
import { nativeIfLoadable } from './addon.js';

/** The transport, or undefined where the addon cannot load (the caller keeps node:net's). */
export function nativeLockTransport(): LockTransport | undefined {
  const addon = nativeIfLoadable();
  if (!addon?.lockBind) return undefined;
  return {
    async tryBind(name) {
      const fd = addon.lockBind(name.slice(1));
      if (fd < 0) return undefined;
      let held = true;
      return {
        release: async () => {
          if (!held) return;
          held = false;
          // waiters in our queue see their connections reset
          closeSync(fd);
        },
      };
    },
    async holderGone(name) {
      for (;;) {
        const fd = addon.lockConnect(name.slice(1));
        if (fd === -1) return; // nobody holds it
        if (fd === -2) {
          // the holder's queue is full (thousands waiting): a little later
          await sleep(5);
          continue;
        }
        await new Promise<void>((resolve) => {
          const buf = Buffer.alloc(64);
          const watch = addon.watchFd(fd, () => {
            try {
              // a holder never writes: data is ignored, EOF or a reset is the release
              if (readSync(fd, buf) > 0) return;
            } catch (err) {
              if ((err as NodeJS.ErrnoException).code === 'EAGAIN') return;
            }
            addon.unwatchFd(watch);
            closeSync(fd);
            resolve();
          });
        });
        return;
      }
    },
  };
}
