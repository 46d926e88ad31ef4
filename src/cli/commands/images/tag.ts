/** `berth tag` / `berth image tag`: POST /images/{source}/tag?repo=…&tag=…, references checked first as the docker CLI does. */
import { parseReference, repositoryName } from '../../../distribution/reference.js';
import { CliError, type CommandSpec } from '../../types.js';
import { referenceErrorText } from './reference.js';

/** The source may be any reference, an image ID or a digest (ParseAnyReference). */
function checkSource(source: string): void {
  if (/^(sha256:)?[a-f0-9]{64}$/.test(source)) return;
  try {
    parseReference(source);
  } catch (err) {
    throw new CliError(`Error parsing reference: "${source}" is not a valid repository/tag: ${referenceErrorText(source, err)}`);
  }
}

export const tag: CommandSpec = {
  name: 'tag',
  usage: 'tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]',
  short: 'Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE',
  topLevel: 'tag',
  args: { min: 2, max: 2 },
  flags: [],
  async run(ctx, inv) {
    const [source, target] = inv.args as [string, string];
    checkSource(source);
    let ref: ReturnType<typeof parseReference>;
    try {
      ref = parseReference(target);
    } catch (err) {
      throw new CliError(`Error parsing reference: "${target}" is not a valid repository/tag: ${referenceErrorText(target, err)}`);
    }
    if (ref.digest !== undefined) throw new CliError('refusing to create a tag with a digest reference');
    const client = await ctx.client();
    await client.json('POST', `/images/${source}/tag`, { query: { repo: repositoryName(ref), tag: ref.tag ?? 'latest' } });
    return 0;
  },
};
