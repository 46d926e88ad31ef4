/** `berth version`: the client's and the server's versions, in `docker version`'s layout. */
import { arch, platform } from 'node:process';
import { MAX_API_VERSION as CLIENT_API_VERSION } from '../../../client/client.js';
import { tabwrite } from '../../format/index.js';
import { parseTemplate, runTemplate } from '../../templates.js';
import type { CliContext, CommandSpec } from '../../types.js';
import { CLIENT_BUILT, CLIENT_COMMIT, CLIENT_VERSION } from '../../version-info.js';

interface Component {
  Name: string;
  Version: string;
  Details?: Record<string, string>;
}
interface ServerVersion {
  Platform?: { Name?: string };
  Components?: Component[];
  [k: string]: unknown;
}

export interface VersionInfo {
  Client: Record<string, unknown>;
  Server?: ServerVersion;
}

const goArch = (a: string) => (a === 'x64' ? 'amd64' : a === 'ia32' ? '386' : a);

/** The Client section's data (docker's clientVersion: GoVersion holds the runtime's version, here Node's). */
export function clientInfo(ctx: CliContext, apiVersion: string, context: string): Record<string, unknown> {
  return {
    Version: CLIENT_VERSION,
    ApiVersion: apiVersion,
    DefaultAPIVersion: CLIENT_API_VERSION,
    GitCommit: CLIENT_COMMIT,
    GoVersion: process.version,
    Os: platform,
    Arch: goArch(arch),
    BuildTime: CLIENT_BUILT,
    Context: context,
  };
}

/** docker's defaultVersionTemplate, rendered (tabwriter 20/1). */
export function renderVersion(v: VersionInfo): string {
  const c = v.Client;
  let t = `Client:${(c.Platform as { Name?: string })?.Name ? ` ${(c.Platform as { Name: string }).Name}` : ''}\n`;
  t += ` Version:\t${c.Version}\n`;
  t += ` API version:\t${c.ApiVersion}${c.ApiVersion !== c.DefaultAPIVersion ? ` (downgraded from ${c.DefaultAPIVersion})` : ''}\n`;
  t += ` Node version:\t${c.GoVersion}\n`;
  t += ` Git commit:\t${c.GitCommit}\n`;
  t += ` Built:\t${c.BuildTime}\n`;
  t += ` OS/Arch:\t${c.Os}/${c.Arch}\n`;
  t += ` Context:\t${c.Context}`;
  const s = v.Server;
  if (s) {
    t += `\n\nServer:${s.Platform?.Name ? ` ${s.Platform.Name}` : ''}`;
    for (const comp of s.Components ?? []) {
      const d = comp.Details ?? {};
      t += `\n ${comp.Name}:`;
      if (comp.Name === 'Engine') {
        t += `\n  Version:\t${comp.Version}`;
        t += `\n  API version:\t${d.ApiVersion ?? ''} (minimum version ${d.MinAPIVersion ?? ''})`;
        t += `\n  Go version:\t${d.GoVersion ?? ''}`;
        t += `\n  Git commit:\t${d.GitCommit ?? ''}`;
        t += `\n  Built:\t${d.BuildTime ?? ''}`;
        t += `\n  OS/Arch:\t${d.Os ?? ''}/${d.Arch ?? ''}`;
        t += `\n  Experimental:\t${d.Experimental ?? ''}`;
      } else {
        t += `\n  Version:\t${comp.Version}`;
        for (const k of Object.keys(d).sort()) t += `\n  ${k}:\t${d[k]}`;
      }
    }
  }
  return `${tabwrite(t, { minwidth: 20, padding: 1 })}\n`;
}

export const versionCommand: CommandSpec = {
  name: 'version',
  usage: 'version [OPTIONS]',
  short: 'Show the Docker version information',
  flags: [
    {
      name: 'format',
      short: 'f',
      kind: 'string',
      usage:
        "Format output using a custom template:\n'json':             Print in JSON format\n'TEMPLATE':         Print output using the given Go template.\nRefer to https://docs.docker.com/go/formatting/ for more information about formatting output with templates",
    },
  ],
  args: { max: 0 },
  async run(ctx, inv) {
    const target = (ctx as { target?: () => { context: string } }).target?.();
    const format = inv.flags.string('format');
    // a bad template fails before the daemon is asked (docker's order)
    const template = format === '' ? undefined : parseTemplate(format === 'json' ? '{{json .}}' : format, 'version', 64);
    let server: ServerVersion | undefined;
    let apiVersion = CLIENT_API_VERSION;
    let failure: unknown;
    try {
      const client = await ctx.client();
      server = (await client.json<ServerVersion>('GET', '/version')).body;
      apiVersion = client.version; // negotiated by the first request
    } catch (err) {
      failure = err;
    }
    const info: VersionInfo = { Client: clientInfo(ctx, apiVersion, target?.context ?? 'default'), Server: server };
    if (format === '') ctx.stdout.write(renderVersion(info));
    else ctx.stdout.write(`${runTemplate(template as NonNullable<typeof template>, info)}\n`);
    if (failure !== undefined) throw failure;
    return 0;
  },
};
