/** `berth import` / `berth image import`: POST /images/create?fromSrc=… with a file, stdin (`-`) or a URL for the daemon to fetch. */
import type { Readable } from 'node:stream';
import { displayProgress } from '../../progress.js';
import type { CommandSpec } from '../../types.js';
import { openInput } from './open-file.js';
import { parseCliReference } from './reference.js';

export const importImage: CommandSpec = {
  name: 'import',
  usage: 'import [OPTIONS] file|URL|- [REPOSITORY[:TAG]]',
  short: 'Import the contents from a tarball to create a filesystem image',
  topLevel: 'import',
  args: { min: 1, max: 2 },
  flags: [
    { name: 'change', short: 'c', kind: 'list', usage: 'Apply Dockerfile instruction to the created image' },
    { name: 'message', short: 'm', kind: 'string', usage: 'Set commit message for imported image' },
    { name: 'platform', kind: 'string', usage: 'Set platform if server is multi-platform capable' },
  ],
  async run(ctx, inv) {
    const [source, repo = ''] = inv.args as [string, string?];
    if (repo) parseCliReference(repo);
    let body: Readable | undefined;
    let fromSrc = source;
    if (source === '-') body = ctx.stdin;
    else if (!source.startsWith('http://') && !source.startsWith('https://')) {
      // A local file is sent as the body; a URL is the daemon's to fetch (berthd refuses it: no network).
      body = await openInput(source, ctx.cwd);
      fromSrc = '-';
    }
    const query: Record<string, string | string[]> = { fromSrc, repo, tag: '', message: inv.flags.string('message') };
    const platform = inv.flags.string('platform');
    if (platform) query.platform = platform.toLowerCase();
    const changes = inv.flags.list('change');
    if (changes.length) query.changes = changes;
    const client = await ctx.client();
    try {
      const res = await client.stream('POST', '/images/create', body ? { query, body } : { query });
      await displayProgress(res, ctx.stdout);
    } finally {
      if (body && body !== ctx.stdin) body.destroy();
    }
    return 0;
  },
};
