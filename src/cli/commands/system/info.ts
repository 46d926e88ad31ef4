/**
 * `berth info` / `berth system info`: GET /info, printed in the docker CLI's layout (a Client
 * section, then the Server's fields as far as the engine gives them), or through `--format`.
 * The layout is computed by `infoText` (pure); the run function only fetches and writes.
 */
import { ConnectError } from '../../../client/types.js';
import type { CliContext, CommandSpec } from '../../types.js';
import { CliError } from '../../types.js';
import { CLIENT_VERSION } from '../../version-info.js';
import { goStruct, parseTemplate } from './render.js';
import { bytesSize, errorText, INSPECT_FORMAT_USAGE } from './shared.js';

// biome-ignore lint/suspicious/noExplicitAny: /info is a wide, loosely typed document; every use below is guarded
type Info = Record<string, any>;

export interface ClientInfo {
  Debug: boolean;
  Version: string;
  Context: string;
  Plugins: unknown[];
  Warnings: string[] | null;
}

/** Go's fmt.Println of label and value: one space between, even before an empty value. */
const line = (label: string, v: unknown) => `${label} ${String(v ?? '')}\n`;
const nonEmpty = (label: string, v: unknown) => (v === undefined || v === null || v === '' ? '' : line(label, v));

/** The "Client:" section. */
export function clientText(c: ClientInfo): string {
  return `Client:\n${nonEmpty(' Version:   ', c.Version)}${line(' Context:   ', c.Context)}${line(' Debug Mode:', c.Debug)}`;
}

/** Security options as the daemon sends them (`name=seccomp,profile=default`) → name and profile. */
function securityOptions(opts: string[]): { name: string; profile?: string }[] {
  return opts.map((o) => {
    if (!o.includes('=')) return { name: o };
    const kv = Object.fromEntries(o.split(',').map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)]));
    return { name: kv.name ?? '', ...(kv.profile !== undefined ? { profile: kv.profile } : {}) };
  });
}

/** The "Server:" section's lines (after the "Server:" title), from /info's answer. */
export function serverText(i: Info, clientDebug = false): string {
  let t = '';
  t += line(' Containers:', i.Containers ?? 0);
  t += line('  Running:', i.ContainersRunning ?? 0);
  t += line('  Paused:', i.ContainersPaused ?? 0);
  t += line('  Stopped:', i.ContainersStopped ?? 0);
  t += line(' Images:', i.Images ?? 0);
  t += nonEmpty(' Server Version:', i.ServerVersion);
  t += nonEmpty(' Storage Driver:', i.Driver);
  for (const [k, v] of (i.DriverStatus as [string, string][] | null) ?? []) t += `  ${k}: ${v}\n`;
  for (const [k, v] of (i.SystemStatus as [string, string][] | null) ?? []) t += ` ${k}: ${v}\n`;
  t += nonEmpty(' Logging Driver:', i.LoggingDriver);
  t += nonEmpty(' Cgroup Driver:', i.CgroupDriver);
  t += nonEmpty(' Cgroup Version:', i.CgroupVersion);
  const p = i.Plugins ?? {};
  t += ' Plugins:\n';
  t += line('  Volume:', (p.Volume ?? []).join(' '));
  t += line('  Network:', (p.Network ?? []).join(' '));
  if ((p.Authorization ?? []).length > 0) t += line('  Authorization:', p.Authorization.join(' '));
  t += line('  Log:', (p.Log ?? []).join(' '));
  if ((i.CDISpecDirs ?? []).length > 0) t += ` CDI spec directories:\n${i.CDISpecDirs.map((d: string) => `  ${d}\n`).join('')}`;
  t += line(' Swarm:', i.Swarm?.LocalNodeState ?? '');
  const runtimes = Object.keys(i.Runtimes ?? {});
  if (runtimes.length > 0) {
    t += line(' Runtimes:', runtimes.join(' '));
    t += line(' Default Runtime:', i.DefaultRuntime);
  }
  if (i.OSType === 'linux') {
    t += line(' Init Binary:', i.InitBinary);
    t += line(' containerd version:', i.ContainerdCommit?.ID);
    t += line(' runc version:', i.RuncCommit?.ID);
    t += line(' init version:', i.InitCommit?.ID);
    const sec = (i.SecurityOptions as string[] | null) ?? [];
    if (sec.length > 0) {
      t += ' Security Options:\n';
      for (const so of securityOptions(sec)) {
        t += `  ${so.name}\n`;
        if (so.profile !== undefined) t += line('   Profile:', so.profile);
      }
    }
  }
  if (i.OSType === 'windows') t += line(' Default Isolation:', i.Isolation);
  t += nonEmpty(' Kernel Version:', i.KernelVersion);
  t += nonEmpty(' Operating System:', i.OperatingSystem);
  t += nonEmpty(' OSType:', i.OSType);
  t += nonEmpty(' Architecture:', i.Architecture);
  t += line(' CPUs:', i.NCPU ?? 0);
  t += line(' Total Memory:', bytesSize(i.MemTotal ?? 0));
  t += nonEmpty(' Name:', i.Name);
  t += nonEmpty(' ID:', i.ID);
  t += line(' Docker Root Dir:', i.DockerRootDir);
  t += line(' Debug Mode:', i.Debug ?? false);
  if (i.Debug || clientDebug) {
    t += line('  File Descriptors:', i.NFd);
    t += line('  Goroutines:', i.NGoroutines);
    t += line('  System Time:', i.SystemTime);
    t += line('  EventsListeners:', i.NEventsListener);
  }
  t += nonEmpty(' HTTP Proxy:', i.HttpProxy);
  t += nonEmpty(' HTTPS Proxy:', i.HttpsProxy);
  t += nonEmpty(' No Proxy:', i.NoProxy);
  if ((i.Labels ?? []).length > 0) t += ` Labels:\n${i.Labels.map((l: string) => `  ${l}\n`).join('')}`;
  t += line(' Experimental:', i.ExperimentalBuild ?? false);
  const reg = i.RegistryConfig;
  const indexConfigs = Object.values(reg?.IndexConfigs ?? {}) as { Name: string; Secure: boolean }[];
  if (reg && ((reg.InsecureRegistryCIDRs ?? []).length > 0 || indexConfigs.length > 0)) {
    t += ' Insecure Registries:\n';
    for (const c of indexConfigs) if (!c.Secure) t += `  ${c.Name}\n`;
    for (const cidr of reg.InsecureRegistryCIDRs ?? []) t += `  ${typeof cidr === 'string' ? cidr : `${cidr.IP}/${cidr.Mask}`}\n`;
  }
  if ((reg?.Mirrors ?? []).length > 0) t += ` Registry Mirrors:\n${reg.Mirrors.map((m: string) => `  ${m}\n`).join('')}`;
  t += line(' Live Restore Enabled:', i.LiveRestoreEnabled ?? false);
  if (i.ProductLicense) t += line(' Product License:', i.ProductLicense);
  if ((i.DefaultAddressPools ?? []).length > 0) {
    t += ' Default Address Pools:\n';
    for (const pool of i.DefaultAddressPools) t += `   Base: ${pool.Base}, Size: ${pool.Size}\n`;
  }
  return `${t}\n`;
}

/** The client's version and context for the Client section. */
export function clientInfo(ctx: CliContext, version: string): ClientInfo {
  const context = ctx.env.DOCKER_HOST ? 'default' : ctx.env.DOCKER_CONTEXT || 'default';
  return { Debug: ctx.debug, Version: version, Context: context, Plugins: [], Warnings: null };
}

export const infoCommand: CommandSpec = {
  name: 'info',
  usage: 'info [OPTIONS]',
  short: 'Display system-wide information',
  topLevel: 'info',
  args: { max: 0 },
  flags: [{ name: 'format', short: 'f', kind: 'string', default: '', usage: INSPECT_FORMAT_USAGE }],
  async run(ctx, { flags }) {
    const format = flags.string('format');
    const client = clientInfo(ctx, CLIENT_VERSION);
    let info: Info | undefined;
    let serverError: string | undefined;
    let unreachable: unknown;
    try {
      info = (await (await ctx.client()).json<Info>('GET', '/info')).body;
    } catch (err) {
      if (err instanceof ConnectError) unreachable = err;
      serverError = errorText(err);
    }
    if (format === '') {
      ctx.stdout.write(`${clientText(client)}\nServer:\n`);
      if (info) ctx.stdout.write(serverText(info, ctx.debug));
      for (const w of (info?.Warnings as string[] | null) ?? []) ctx.stderr.write(`${w}\n`);
      // No daemon: the sections' titles, then the error as every command reports it (v28).
      if (unreachable) throw unreachable;
      if (serverError) {
        ctx.stderr.write(`ERROR: ${serverError}\n`);
        throw new CliError('errors pretty printing info');
      }
      return 0;
    }
    if (serverError) ctx.stderr.write(`${serverError}\n`);
    const data = goStruct(
      'system.dockerInfo',
      { ...(info ?? {}), ...(serverError ? { ServerErrors: [serverError] } : {}), ClientInfo: client },
      false,
    );
    const tmpl = parseTemplate(format === 'json' ? '{{json .}}' : format, 'template parsing error: ', 64);
    let out: string;
    try {
      out = tmpl(data);
    } catch (err) {
      // Go writes what it rendered, then the newline, then reports the execution error.
      ctx.stdout.write('\n');
      throw new CliError(err instanceof Error ? err.message.replace(/^template parsing error: /, '') : String(err));
    }
    ctx.stdout.write(`${out}\n`);
    return 0;
  },
};
