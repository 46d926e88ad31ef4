/** `berth pull` / `berth image pull`: POST /images/create?fromImage=…&tag=…, Docker's progress, then the reference. */
import type { Writable } from 'node:stream';
import { formatReference, repositoryName } from '../../../distribution/reference.js';
import type { Reference } from '../../../distribution/types.js';
import { discardOutput, displayProgress } from '../../progress.js';
import { registryAuthHeader } from '../../registry-auth.js';
import { type CliContext, CliError, type CommandSpec } from '../../types.js';
import { parseCliReference } from './reference.js';

export interface PullOptions {
  /** Where the progress goes (stdout for `pull`, stderr for pull-on-run); nothing when quiet. */
  out?: Writable & { isTTY?: boolean; columns?: number };
  platform?: string;
  /** Every tag of the repository (`ref` must then be a name only). */
  allTags?: boolean;
}

/** The `tag` query value: the digest when there is one, else the tag (Docker's getAPITagFromNamedRef). */
export function apiTag(ref: Reference): string {
  return ref.digest ?? ref.tag ?? 'latest';
}

/**
 * Pulls `ref` through the daemon with the registry's credentials from config.json and shows
 * Docker's progress on `opts.out`. For `run`'s pull-on-run too. Rejects with ApiError (the
 * daemon refused) or CliError (an error in the stream).
 */
export async function pullImage(ctx: CliContext, ref: Reference, opts: PullOptions = {}): Promise<void> {
  const client = await ctx.client();
  const query: Record<string, string> = { fromImage: repositoryName(ref) };
  if (!opts.allTags) query.tag = apiTag(ref);
  if (opts.platform) query.platform = opts.platform.toLowerCase();
  const res = await client.stream('POST', '/images/create', {
    query,
    headers: { 'X-Registry-Auth': await registryAuthHeader(ctx, ref.domain) },
  });
  // Quiet still reads every message: an error in the stream still fails the pull.
  await displayProgress(res, opts.out ?? discardOutput());
}

export const pull: CommandSpec = {
  name: 'pull',
  usage: 'pull [OPTIONS] NAME[:TAG|@DIGEST]',
  short: 'Download an image from a registry',
  topLevel: 'pull',
  args: { min: 1, max: 1 },
  flags: [
    { name: 'all-tags', short: 'a', kind: 'bool', usage: 'Download all tagged images in the repository' },
    { name: 'disable-content-trust', kind: 'bool', default: true, usage: 'Skip image verification' },
    { name: 'platform', kind: 'string', usage: 'Set platform if server is multi-platform capable' },
    { name: 'quiet', short: 'q', kind: 'bool', usage: 'Suppress verbose output' },
  ],
  async run(ctx, inv) {
    const all = inv.flags.bool('all-tags');
    const quiet = inv.flags.bool('quiet');
    const ref = parseCliReference(inv.args[0]!);
    const nameOnly = ref.tag === undefined && ref.digest === undefined;
    if (all && !nameOnly) throw new CliError("tag can't be used with --all-tags/-a");
    if (!all && nameOnly) {
      ref.tag = 'latest';
      if (!quiet) ctx.stdout.write('Using default tag: latest\n');
    }
    const platform = inv.flags.changed('platform') ? inv.flags.string('platform') : (ctx.env.DOCKER_DEFAULT_PLATFORM ?? '');
    await pullImage(ctx, ref, {
      ...(quiet ? {} : { out: ctx.stdout }),
      ...(platform ? { platform } : {}),
      allTags: all,
    });
    ctx.stdout.write(`${formatReference(ref)}\n`);
    return 0;
  },
};
