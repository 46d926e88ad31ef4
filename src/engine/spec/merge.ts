/**
 * The container's Config from an image's config and a create request, as dockerd computes it
 * (moby daemon/commit.go merge, daemon/create.go, container.CreateDaemonEnvironment). Pure.
 *
 * The result is what `docker inspect` shows as Config; processOf() derives what the runtime runs.
 */
import { BerthError } from '../../common/errors.js';
import type { ContainerConfig } from '../../oci/image.js';
import type { CreateConfig, HealthConfig } from './create-config.js';

/** system.DefaultPathEnv for Linux. */
export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Go's path.Clean for absolute paths ("/a/../b/" → "/b"). */
export function cleanPath(p: string): string {
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') out.pop();
    else out.push(part);
  }
  return `/${out.join('/')}`;
}

const envKey = (e: string) => {
  const i = e.indexOf('=');
  return i < 0 ? e : e.slice(0, i);
};

function mergeHealthcheck(user: HealthConfig | undefined, image: ContainerConfig['Healthcheck']): HealthConfig | undefined {
  if (!image) return user;
  if (!user) return { ...image };
  return {
    ...user,
    Test: user.Test?.length ? user.Test : image.Test,
    Interval: user.Interval || image.Interval,
    Timeout: user.Timeout || image.Timeout,
    StartPeriod: user.StartPeriod || image.StartPeriod,
    Retries: user.Retries || image.Retries,
  };
}

function sortedKeys<T>(m: Record<string, T> | null | undefined): Record<string, T> | undefined {
  if (!m) return undefined;
  return Object.fromEntries(Object.entries(m).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

export interface MergeInput {
  /** The image's `config` (absent for an image without one). */
  image: ContainerConfig | undefined;
  /** The request's Config, decoded (create-config.ts). */
  request: CreateConfig;
  /** The new container's id (64 hex). */
  id: string;
}

/**
 * moby's merge(userConf, imageConf), then the create-time normalisations: an `--entrypoint ""`
 * ([""]) clears the image's entrypoint and its Cmd, the working directory is cleaned, the
 * hostname defaults to the short id. Throws "No command specified" as dockerd does.
 */
export function mergeConfig({ image, request, id }: MergeInput): CreateConfig {
  const img = image ?? {};
  const c: CreateConfig = { ...request };
  if (!c.User) c.User = img.User ?? '';

  if (!c.ExposedPorts || Object.keys(c.ExposedPorts).length === 0) {
    if (img.ExposedPorts) c.ExposedPorts = { ...img.ExposedPorts };
  } else {
    c.ExposedPorts = Object.fromEntries([...Object.keys(img.ExposedPorts ?? {}), ...Object.keys(c.ExposedPorts)].map((p) => [p, {}]));
  }

  if (!c.Env?.length) c.Env = img.Env ? [...img.Env] : c.Env;
  else {
    const keys = new Set(c.Env.map(envKey));
    c.Env = [...c.Env, ...(img.Env ?? []).filter((e) => !keys.has(envKey(e)))];
  }

  // Object.fromEntries defines keys as data: a label named __proto__ stays a label.
  const own = c.Labels ?? {};
  c.Labels = Object.fromEntries([...Object.entries(img.Labels ?? {}).filter(([k]) => !Object.hasOwn(own, k)), ...Object.entries(own)]);

  // A request entrypoint of any length (even [""]) replaces the image's and drops its Cmd.
  if (!c.Entrypoint?.length) {
    if (!c.Cmd?.length) {
      c.Cmd = img.Cmd ?? null;
      if (img.ArgsEscaped !== undefined) c.ArgsEscaped = img.ArgsEscaped;
    }
    if (c.Entrypoint === undefined || c.Entrypoint === null) c.Entrypoint = img.Entrypoint ?? null;
  }
  if (c.Entrypoint?.length === 1 && c.Entrypoint[0] === '') c.Entrypoint = null;
  if (!c.Entrypoint?.length && !c.Cmd?.length) throw new BerthError('invalid-argument', 'No command specified', { object: 'Cmd' });

  const health = mergeHealthcheck(c.Healthcheck ?? undefined, img.Healthcheck);
  if (health) c.Healthcheck = health;
  if (!c.WorkingDir) c.WorkingDir = img.WorkingDir ?? '';
  if (c.WorkingDir) c.WorkingDir = cleanPath(c.WorkingDir);

  if (!c.Volumes || Object.keys(c.Volumes).length === 0) {
    if (img.Volumes) c.Volumes = { ...img.Volumes };
  } else c.Volumes = Object.fromEntries([...Object.keys(c.Volumes), ...Object.keys(img.Volumes ?? {})].map((p) => [p, {}]));
  if (!c.StopSignal && img.StopSignal) c.StopSignal = img.StopSignal;
  // Even with --network host or --uts host (dockerd 20.10 does the same).
  if (!c.Hostname) c.Hostname = id.slice(0, 12);
  c.Domainname ??= '';
  if (c.Image === undefined) c.Image = '';
  // Go's encoding/json writes map keys sorted: so do we, for inspect to read the same.
  c.Labels = sortedKeys(c.Labels) ?? {};
  if (c.ExposedPorts) c.ExposedPorts = sortedKeys(c.ExposedPorts);
  if (c.Volumes) c.Volumes = sortedKeys(c.Volumes);
  return c;
}

/**
 * moby's ReplaceOrAppendEnvValues: an override KEY=V replaces the default with that key in place
 * or is appended; a bare KEY removes the default. Overrides are not matched against each other.
 */
export function replaceOrAppendEnv(defaults: readonly string[], overrides: readonly string[]): string[] {
  const out: (string | undefined)[] = [...defaults];
  const index = new Map<string, number>();
  for (const [i, e] of defaults.entries()) index.set(envKey(e), i);
  for (const v of overrides) {
    const i = index.get(envKey(v));
    if (!v.includes('=')) {
      if (i !== undefined) out[i] = undefined;
      continue;
    }
    if (i !== undefined) out[i] = v;
    else out.push(v);
  }
  return out.filter((e): e is string => e !== undefined);
}

/** container.CreateDaemonEnvironment: PATH, HOSTNAME, TERM for a tty, then the Config's Env. */
export function containerEnv(config: CreateConfig): string[] {
  const defaults = [`PATH=${DEFAULT_PATH}`, `HOSTNAME=${config.Hostname ?? ''}`];
  if (config.Tty) defaults.push('TERM=xterm');
  return replaceOrAppendEnv(defaults, config.Env ?? []);
}

/** What the runtime executes: daemon.getEntrypointAndArgs, as [path, ...args] and the cwd. */
export function processOf(config: CreateConfig): { path: string; args: string[]; cwd: string } {
  const argv = [...(config.Entrypoint ?? []), ...(config.Cmd ?? [])];
  if (argv.length === 0) throw new BerthError('invalid-argument', 'No command specified', { object: 'Cmd' });
  return { path: argv[0]!, args: argv.slice(1), cwd: config.WorkingDir || '/' };
}
