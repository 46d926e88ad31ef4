/** `berth push` / `berth image push`: POST /images/{name}/push?tag=… with X-Registry-Auth, Docker's progress. */
import { formatReference, repositoryName } from '../../../distribution/reference.js';
import { discardOutput, displayProgress } from '../../progress.js';
import { registryAuthHeader } from '../../registry-auth.js';
import { CliError, type CommandSpec } from '../../types.js';
import { apiTag } from './pull.js';
import { parseCliReference } from './reference.js';

/** Go's semver-ish compare of API versions (`1.41` < `1.46`). */
function versionBelow(v: string, min: string): boolean {
  const [a1 = 0, a2 = 0] = v.split('.').map(Number);
  const [b1 = 0, b2 = 0] = min.split('.').map(Number);
  return a1 < b1 || (a1 === b1 && a2 < b2);
}

export const push: CommandSpec = {
  name: 'push',
  usage: 'push [OPTIONS] NAME[:TAG]',
  short: 'Upload an image to a registry',
  topLevel: 'push',
  args: { min: 1, max: 1 },
  flags: [
    { name: 'all-tags', short: 'a', kind: 'bool', usage: 'Push all tags of an image to the repository' },
    { name: 'disable-content-trust', kind: 'bool', default: true, usage: 'Skip image signing' },
    {
      name: 'platform',
      kind: 'string',
      usage:
        "Push a platform-specific manifest as a single-platform image to the registry.\nImage index won't be pushed, meaning that other manifests, including attestations won't be preserved.\n'os[/arch[/variant]]': Explicit platform (eg. linux/amd64)",
    },
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
    if (ref.digest !== undefined) throw new CliError('cannot push a digest reference');
    const client = await ctx.client();
    const platform = inv.flags.string('platform');
    if (platform && versionBelow(client.version, '1.46'))
      throw new CliError(`"platform" requires API version 1.46, but the Docker daemon API version is ${client.version}`);
    const query: Record<string, string> = {};
    if (!all) query.tag = apiTag(ref);
    const res = await client.stream('POST', `/images/${repositoryName(ref)}/push`, {
      query,
      headers: { 'X-Registry-Auth': await registryAuthHeader(ctx, ref.domain) },
    });
    // aux ({Tag, Digest, Size}) is for signing: shown by nobody, as in the docker CLI.
    await displayProgress(res, quiet ? discardOutput() : ctx.stdout, { onAux: () => {} });
    if (quiet) ctx.stdout.write(`${formatReference(ref)}\n`);
    return 0;
  },
};
