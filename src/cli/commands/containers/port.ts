/**
 * `berth port`: the port mappings of a container, read from its inspect's
 * NetworkSettings.Ports, printed and sorted as docker prints them (`80/tcp -> 0.0.0.0:8080`).
 */
import type { CommandSpec } from '../../types.js';
import { CliError } from '../../types.js';
import { containerPath } from './each.js';

type PortBindings = Record<string, { HostIp?: string; HostPort?: string }[] | null> | null | undefined;

/** Go's net.JoinHostPort: an IPv6 host goes in brackets. */
export function joinHostPort(host: string, port: string): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** strconv.ParseUint(s, 10, 16)'s verdict, in its words, or undefined when `s` is a port number. */
export function portNumberError(s: string): string | undefined {
  if (!/^[0-9]+$/.test(s)) return `strconv.ParseUint: parsing ${JSON.stringify(s)}: invalid syntax`;
  if (Number(s) > 65535) return `strconv.ParseUint: parsing ${JSON.stringify(s)}: value out of range`;
  return undefined;
}

/** fvbommel/sortorder's NaturalLess: runs of digits compare as numbers, the rest byte-wise. */
export function naturalCompare(a: string, b: string): number {
  const re = /(\d+|\D+)/g;
  const pa = a.match(re) ?? [];
  const pb = b.match(re) ?? [];
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const x = pa[i]!;
    const y = pb[i]!;
    if (x === y) continue;
    const dx = /^\d/.test(x);
    const dy = /^\d/.test(y);
    if (dx && dy) {
      const nx = BigInt(x);
      const ny = BigInt(y);
      if (nx !== ny) return nx < ny ? -1 : 1;
      // equal values: fewer leading zeros first
      return x.length - y.length;
    }
    return x < y ? -1 : 1;
  }
  return pa.length - pb.length;
}

/** The lines docker prints for `port CONTAINER [PRIVATE_PORT[/PROTO]]`, or the error it gives. */
export function portLines(ports: PortBindings, container: string, wanted?: string): string[] {
  const out: string[] = [];
  if (wanted !== undefined) {
    const slash = wanted.indexOf('/');
    const port = slash < 0 ? wanted : wanted.slice(0, slash);
    const proto = (slash < 0 ? '' : wanted.slice(slash + 1)) || 'tcp';
    const bad = portNumberError(port);
    if (bad) throw new CliError(`Error: invalid port (${port}): ${bad}`);
    const frontends = ports?.[`${port}/${proto}`];
    if (!frontends || frontends.length === 0) throw new CliError(`Error: No public port '${wanted}' published for ${container}`);
    for (const f of frontends) out.push(joinHostPort(f.HostIp ?? '', f.HostPort ?? ''));
  } else {
    for (const [from, frontends] of Object.entries(ports ?? {}))
      for (const f of frontends ?? []) out.push(`${from} -> ${joinHostPort(f.HostIp ?? '', f.HostPort ?? '')}`);
  }
  return out.sort(naturalCompare);
}

export const portCommand: CommandSpec = {
  name: 'port',
  usage: 'port CONTAINER [PRIVATE_PORT[/PROTO]]',
  short: 'List port mappings or a specific mapping for the container',
  flags: [],
  args: { min: 1, max: 2 },
  topLevel: 'port',
  async run(ctx, inv) {
    const [container, wanted] = inv.args as [string, string | undefined];
    const client = await ctx.client();
    const res = await client.json<{ NetworkSettings?: { Ports?: PortBindings } }>('GET', containerPath(container, '/json'));
    const lines = portLines(res.body?.NetworkSettings?.Ports, container, wanted);
    if (lines.length > 0) ctx.stdout.write(`${lines.join('\n')}\n`);
    return 0;
  },
};
