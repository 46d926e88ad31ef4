/**
 * The `berth` front's request to berthd's CLI host, as bytes (pure; the front writes it in
 * native/cli/front.c): a little-endian u32 length, then that many bytes of NUL-terminated
 * strings:
 *
 *   "berth-cli 1"  cwd  argc  argv[1]…argv[argc]  envc  env[0]…env[envc-1]
 *
 * (argc and envc in decimal), sent with the front's stdin, stdout and stderr as SCM_RIGHTS.
 * Answers are lines: `exit <code>`, `die <signal number>`, `fallback`; the front sends
 * `sig <signal number>` lines for the signals it catches. docs/cli.md "The front and berthd's
 * CLI host".
 */
import { constants } from 'node:os';
import { BerthError } from '../../common/errors.js';

export const MAGIC = 'berth-cli 1';
/** Larger requests (a huge environment) are not served: the front then runs the command itself. */
export const MAX_REQUEST = 1 << 20;

export interface CliRequest {
  cwd: string;
  argv: string[];
  env: Record<string, string>;
}

const bad = (why: string) => new BerthError('invalid-argument', `berth front request: ${why}`, { object: 'cli.sock' });

/** The request's total size once its first 4 bytes are in, or undefined before. */
export function requestLength(head: Buffer): number | undefined {
  if (head.length < 4) return undefined;
  const n = head.readUInt32LE(0);
  if (n === 0 || n > MAX_REQUEST) throw bad(`length ${n} out of range`);
  return 4 + n;
}

export function parseRequest(buf: Buffer): CliRequest {
  const total = requestLength(buf);
  if (total === undefined || buf.length !== total) throw bad('truncated');
  const body = buf.subarray(4);
  if (body[body.length - 1] !== 0) throw bad('not NUL-terminated');
  const parts = body
    .subarray(0, body.length - 1)
    .toString('utf8')
    .split('\0');
  let i = 0;
  const next = (what: string) => {
    if (i >= parts.length) throw bad(`missing ${what}`);
    return parts[i++]!;
  };
  const count = (what: string) => {
    const s = next(what);
    if (!/^\d{1,6}$/.test(s)) throw bad(`${what} '${s.slice(0, 20)}' is not a count`);
    return Number(s);
  };
  if (next('magic') !== MAGIC) throw bad('unknown protocol');
  const cwd = next('cwd');
  if (!cwd.startsWith('/')) throw bad(`cwd '${cwd.slice(0, 100)}' is not absolute`);
  const argc = count('argc');
  const argv: string[] = [];
  for (let k = 0; k < argc; k++) argv.push(next('argument'));
  const envc = count('envc');
  const env: Record<string, string> = {};
  for (let k = 0; k < envc; k++) {
    const kv = next('environment entry');
    const eq = kv.indexOf('=');
    // as Node builds process.env: an entry without '=' is skipped, the first of a name wins
    if (eq <= 0) continue;
    const key = kv.slice(0, eq);
    if (!(key in env)) env[key] = kv.slice(eq + 1);
  }
  if (i !== parts.length) throw bad('trailing data');
  return { cwd, argv, env };
}

/** Builds a request as the front does (tests, and the reference for front.c). */
export function encodeRequest(r: CliRequest): Buffer {
  const strings = [MAGIC, r.cwd, String(r.argv.length), ...r.argv];
  const env = Object.entries(r.env).map(([k, v]) => `${k}=${v}`);
  strings.push(String(env.length), ...env);
  const body = Buffer.from(`${strings.join('\0')}\0`, 'utf8');
  const head = Buffer.alloc(4);
  head.writeUInt32LE(body.length, 0);
  return Buffer.concat([head, body]);
}

/** The signals the front forwards, by number (Linux x86/arm numbering, from os.constants). */
export function signalName(n: number): NodeJS.Signals | undefined {
  for (const [name, no] of Object.entries(constants.signals)) if (no === n) return name as NodeJS.Signals;
  return undefined;
}

export function signalNumber(sig: NodeJS.Signals): number {
  return constants.signals[sig];
}
