/**
 * Starting a berth-shim: the request and the plan as frames on its stdin, one JSON line back on
 * stdout once the monitor (stage 3) runs on its own; stage 1 then exits and is reaped here.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BerthError } from '../../common/errors.js';
import { encodeFrame, Kind, type ShimRequest } from './protocol.js';

/** The shim next to the bundle (dist/ → native/build/) or in the source tree. */
export function shimPath(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (const c of [path.join(here, '../native/build/berth-shim'), path.join(here, '../../../native/build/berth-shim')]) {
    if (existsSync(c)) return c;
  }
  throw new BerthError('not-found', `find 'berth-shim': not built (run 'npm run build')`, { object: 'berth-shim' });
}

export interface StartedShim {
  pid: number;
  start_time: string;
  socket: string;
}

/** Starts a shim; resolves once it serves its socket. Its stdio never holds one of ours. */
export function startShim(req: ShimRequest, plan?: string, binary = shimPath()): Promise<StartedShim> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, [], { stdio: ['pipe', 'pipe', 'pipe'], argv0: 'berth-shim' });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      err += d;
    });
    child.stdin.on('error', () => {});
    child.once('error', (e) => reject(new BerthError('not-found', `spawn '${binary}': ${e.message}`, { cause: e, object: binary })));
    child.once('close', (code) => {
      if (code === 0) {
        try {
          resolve(JSON.parse(out) as StartedShim);
          return;
        } catch {
          // fall through
        }
      }
      const msg = err.trim().replace(/^berth-shim: /, '') || `exited with status ${code}`;
      reject(new BerthError('failed-precondition', `start shim for '${req.id}': ${msg}`, { object: req.id }));
    });
    const frames = [encodeFrame(Kind.json, JSON.stringify(req))];
    if (plan !== undefined) frames.push(encodeFrame(Kind.plan, plan));
    child.stdin.end(Buffer.concat(frames));
  });
}
