/**
 * The pull that `run` and `create` do for a missing image (or always, with `--pull always`), as
 * the docker CLI does it: `POST /images/create?fromImage=<normalized name>&tag=<tag or digest>`
 * with `X-Registry-Auth` from config.json, the daemon's progress shown on stderr.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { authFromEntry, entryFor, parseDockerConfig } from '../../../distribution/credentials.js';
import { DEFAULT_TAG, familiar, normalizeReference } from '../../../distribution/reference.js';
import type { Reference } from '../../../distribution/types.js';
import { type CliContext, CliError } from '../../types.js';

/** `busybox` → `busybox:latest`, as the CLI names an image in `Unable to find image '…' locally`. */
export function familiarWithTag(image: string): string {
  try {
    return familiar(normalizeReference(image));
  } catch {
    return image;
  }
}

/** The X-Registry-Auth value for a registry host: base64url JSON of config.json's credentials, `e30=` ({}) without. */
export function registryAuthHeader(configDir: string, host: string): string {
  let auth: Record<string, string> = {};
  try {
    const config = parseDockerConfig(readFileSync(join(configDir, 'config.json'), 'utf8'));
    const entry = entryFor(config, host);
    const a = entry === undefined ? undefined : authFromEntry(entry, host);
    if (a !== undefined) {
      auth = {};
      if (a.username !== undefined) auth.username = a.username;
      if (a.password !== undefined) auth.password = a.password;
      if (a.identityToken !== undefined) auth.identitytoken = a.identityToken;
      auth.serveraddress = host;
    }
  } catch {
    // No config.json, or one we cannot read: anonymous, as the docker CLI falls back to.
  }
  return Buffer.from(JSON.stringify(auth)).toString('base64url') || 'e30=';
}

export interface PullOptions {
  quiet: boolean;
  platform?: string;
}

export async function pullImage(ctx: CliContext, image: string, opts: PullOptions): Promise<void> {
  let ref: Reference;
  try {
    ref = normalizeReference(image);
  } catch (err) {
    throw new CliError((err as Error).message, 125);
  }
  const client = await ctx.client();
  const res = await client.stream('POST', '/images/create', {
    query: {
      fromImage: `${ref.domain}/${ref.path}`,
      tag: ref.digest ?? ref.tag ?? DEFAULT_TAG,
      platform: opts.platform || undefined,
    },
    headers: { 'X-Registry-Auth': registryAuthHeader(ctx.configDir, ref.domain) },
  });
  // The pull's progress goes to stderr: stdout is for the container (and `-d`'s id) only.
  const sink = opts.quiet ? new Writable({ write: (_c, _e, cb) => cb() }) : ctx.stderr;
  await showProgress(res, sink);
}

/** Plain status lines of the daemon's JSON messages; fails on an `errorDetail`. */
async function showProgress(stream: AsyncIterable<Buffer | string>, out: Writable): Promise<void> {
  let rest = '';
  const handle = (line: string) => {
    if (line.trim() === '') return;
    const m = JSON.parse(line) as { status?: string; id?: string; progress?: string; errorDetail?: { message?: string }; error?: string };
    if (m.errorDetail !== undefined || m.error !== undefined) throw new CliError(m.errorDetail?.message ?? m.error ?? 'pull failed', 1);
    if (m.status === undefined || m.progress !== undefined) return;
    out.write(m.id === undefined ? `${m.status}\n` : `${m.id}: ${m.status}\n`);
  };
  for await (const chunk of stream) {
    rest += chunk.toString();
    const lines = rest.split('\n');
    rest = lines.pop() ?? '';
    for (const l of lines) handle(l);
  }
  handle(rest);
}
