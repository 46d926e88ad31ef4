/**
 * `berth commit`: a new image from a container's changes (`POST /commit`). The reference is
 * checked and split as docker's client does (normalized, no digest, the familiar repository
 * name and the tag sent apart); prints the new image's id.
 */
import { familiarName, parseReference } from '../../../distribution/reference.js';
import type { CommandSpec } from '../../types.js';
import { CliError } from '../../types.js';

/** Docker's messages for a bad reference (the reference library's reason, docker's words). */
export function commitTarget(reference: string): { repo: string; tag: string } {
  if (!reference) return { repo: '', tag: '' };
  let ref: ReturnType<typeof parseReference>;
  try {
    ref = parseReference(reference);
  } catch (err) {
    const why = (err as Error).message;
    if (why.endsWith('repository name must be lowercase')) {
      // docker names the normalized path: `library/Foo`
      const path = reference.includes('/') ? reference.replace(/[:@].*$/, '') : `library/${reference.replace(/[:@].*$/, '')}`;
      throw new CliError(`invalid reference format: repository name (${path}) must be lowercase`);
    }
    throw new CliError('invalid reference format');
  }
  if (ref.digest !== undefined) throw new CliError('refusing to create a tag with a digest reference');
  return { repo: familiarName(ref), tag: ref.tag ?? '' };
}

export const commitCommand: CommandSpec = {
  name: 'commit',
  usage: 'commit [OPTIONS] CONTAINER [REPOSITORY[:TAG]]',
  short: "Create a new image from a container's changes",
  flags: [
    { name: 'author', short: 'a', kind: 'string', usage: 'Author (e.g., "John Hannibal Smith <hannibal@a-team.com>")' },
    { name: 'change', short: 'c', kind: 'list', valueName: 'list', usage: 'Apply Dockerfile instruction to the created image' },
    { name: 'message', short: 'm', kind: 'string', usage: 'Commit message' },
    { name: 'pause', short: 'p', kind: 'bool', default: true, usage: 'Pause container during commit' },
  ],
  args: { min: 1, max: 2 },
  interspersed: false,
  topLevel: 'commit',
  async run(ctx, inv) {
    const [container, reference = ''] = inv.args as [string, string | undefined];
    const { repo, tag } = commitTarget(reference);
    const client = await ctx.client();
    const res = await client.json<{ Id?: string }>('POST', '/commit', {
      query: {
        container,
        repo,
        tag,
        comment: inv.flags.string('message'),
        author: inv.flags.string('author'),
        changes: inv.flags.list('change'),
        pause: inv.flags.bool('pause') ? undefined : '0',
      },
    });
    ctx.stdout.write(`${res.body?.Id ?? ''}\n`);
    return 0;
  },
};
