/**
 * The files dockerd bind-mounts into every container: /etc/hostname, /etc/hosts and
 * /etc/resolv.conf, as text (pure) — the engine writes them into the container's directory.
 * With networking of our own still to come, a container has its own loopback only (`none`
 * semantics) or the host's network (`host`).
 */

export function hostnameFile(hostname: string): string {
  return `${hostname}\n`;
}

/** moby libnetwork/etchosts defaults, then --add-host entries ("name:ip"). */
export function hostsFile(opts: { extraHosts?: readonly string[]; hostNetwork?: boolean; hostHosts?: string }): string {
  if (opts.hostNetwork && opts.hostHosts !== undefined) return opts.hostHosts;
  const lines = [
    '127.0.0.1\tlocalhost',
    '::1\tlocalhost ip6-localhost ip6-loopback',
    'fe00::0\tip6-localnet',
    'ff00::0\tip6-mcastprefix',
    'ff02::1\tip6-allnodes',
    'ff02::2\tip6-allrouters',
  ];
  for (const e of opts.extraHosts ?? []) {
    const i = e.indexOf(':');
    if (i > 0) lines.push(`${e.slice(i + 1)}\t${e.slice(0, i)}`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * The host's resolv.conf with localhost nameservers removed (they mean nothing inside another
 * network namespace), Google's as a fallback, as dockerd does; --dns/--dns-search/--dns-option
 * replace the corresponding lines.
 */
export function resolvConf(
  host: string,
  opts: { dns?: readonly string[]; search?: readonly string[]; options?: readonly string[]; hostNetwork?: boolean },
): string {
  const lines = host.split('\n');
  const keep = (l: string) => {
    const t = l.trim();
    if (!opts.hostNetwork && /^nameserver\s+(127\.|::1\b|0\.0\.0\.0)/.test(t)) return false;
    if (opts.dns?.length && t.startsWith('nameserver')) return false;
    if (opts.search?.length && (t.startsWith('search') || t.startsWith('domain'))) return false;
    if (opts.options?.length && t.startsWith('options')) return false;
    return true;
  };
  const out = lines.filter(keep).filter((l, i, a) => !(l === '' && i === a.length - 1));
  if (opts.dns?.length) out.push(...opts.dns.map((d) => `nameserver ${d}`));
  else if (!out.some((l) => l.trim().startsWith('nameserver'))) out.push('nameserver 8.8.8.8', 'nameserver 8.8.4.4');
  if (opts.search?.length) out.push(`search ${opts.search.join(' ')}`);
  if (opts.options?.length) out.push(`options ${opts.options.join(' ')}`);
  return `${out.join('\n')}\n`;
}
