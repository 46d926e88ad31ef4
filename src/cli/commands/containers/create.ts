/**
 * `berth create` (`container create`), and the create that `run` shares with it: the body
 * from the flags (options.ts), the tty's size as ConsoleSize, `--pull` (missing: pull on 404
 * and create again), the daemon's warnings, `--cidfile`.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { EngineClient } from '../../../client/types.js';
import { ApiError } from '../../../client/types.js';
import { familiar, normalizeReference } from '../../../distribution/reference.js';
import { type CliContext, CliError, type CommandSpec, type Flags, type Invocation } from '../../types.js';
import { pullImage } from '../images/pull.js';
import { type ContainerCreateRequest, containerCreateRequest, createFlags, type ProxyConfig } from './options.js';

export type { ContainerCreateRequest as CreateRequest } from './options.js';

/** The create request for run or create, from the flags and arguments (IMAGE [COMMAND] [ARG...]). */
export function createRequest(ctx: CliContext, inv: Invocation, command: 'run' | 'create', client: EngineClient): ContainerCreateRequest {
  const proxy = proxyConfig(ctx.configDir, client.host);
  return containerCreateRequest(inv.flags, inv.args, {
    readFile: (path) => readFileSync(resolve(ctx.cwd, path)),
    env: ctx.env,
    cwd: ctx.cwd,
    command,
    prog: ctx.prog,
    apiVersion: client.version,
    ...(proxy !== undefined ? { proxy } : {}),
    ...(client.host.startsWith('unix://') ? { apiSocket: client.host.slice('unix://'.length) } : {}),
  });
}

/** config.json's `proxies` for this daemon (by its host), else the `default` entry. */
function proxyConfig(configDir: string, host: string): ProxyConfig | undefined {
  try {
    const j = JSON.parse(readFileSync(join(configDir, 'config.json'), 'utf8')) as { proxies?: Record<string, ProxyConfig> };
    return j.proxies?.[host] ?? j.proxies?.default;
  } catch {
    return undefined;
  }
}

/** `busybox` → `busybox:latest`, as docker names the image in `Unable to find image '…' locally`. */
function familiarWithTag(image: string): string {
  try {
    return familiar(normalizeReference(image));
  } catch {
    return image;
  }
}

/**
 * Creates the container as docker's createContainer does; returns its id. Errors are the
 * daemon's (ApiError) or the pull's.
 */
export async function createContainer(ctx: CliContext, client: EngineClient, req: ContainerCreateRequest, flags: Flags): Promise<string> {
  const pull = req.pull;
  const quiet = flags.bool('quiet');
  const image = req.body.Image ?? '';
  const cidfile = flags.string('cidfile');
  if (cidfile !== '' && existsSync(resolve(ctx.cwd, cidfile))) {
    throw new Error(`container ID file found, make sure the other container isn't running or delete ${cidfile}`);
  }
  const out = ctx.stdout as { isTTY?: boolean; rows?: number; columns?: number };
  if (out.isTTY === true && req.body.HostConfig !== undefined) {
    req.body.HostConfig.ConsoleSize = [out.rows ?? 0, out.columns ?? 0];
  }
  // The pull talks on stderr: stdout is for the container's output (or the id) only.
  const pullIt = async () => {
    let ref: ReturnType<typeof normalizeReference>;
    try {
      ref = normalizeReference(image);
    } catch (err) {
      throw new CliError((err as Error).message, 125);
    }
    await pullImage(ctx, ref, { ...(quiet ? {} : { out: ctx.stderr }), ...(req.platform ? { platform: req.platform } : {}) });
  };
  if (pull === 'always') await pullIt();
  const create = () =>
    client.json<{ Id: string; Warnings?: string[] | null }>('POST', '/containers/create', {
      query: { name: req.name || undefined, platform: req.platform || undefined },
      body: req.body,
    });
  let res: Awaited<ReturnType<typeof create>>;
  try {
    res = await create();
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 404 && pull === 'missing')) throw err;
    ctx.stderr.write(`Unable to find image '${familiarWithTag(image)}' locally\n`);
    await pullIt();
    res = await create();
  }
  for (const w of res.body.Warnings ?? []) ctx.stderr.write(`WARNING: ${w}\n`);
  if (cidfile !== '') {
    try {
      writeFileSync(resolve(ctx.cwd, cidfile), res.body.Id, { flag: 'wx' });
    } catch (err) {
      throw new Error(`failed to create the container ID file: ${(err as Error).message}`);
    }
  }
  return res.body.Id;
}

export const create: CommandSpec = {
  name: 'create',
  usage: 'create [OPTIONS] IMAGE [COMMAND] [ARG...]',
  short: 'Create a new container',
  flags: createFlags,
  args: { min: 1 },
  interspersed: false,
  topLevel: 'create',
  async run(ctx, inv) {
    const client = await ctx.client();
    const req = createRequest(ctx, inv, 'create', client);
    let id: string;
    try {
      id = await createContainer(ctx, client, req, inv.flags);
    } catch (err) {
      // docker create reports the daemon's refusals plainly, exit 1 (only run adds its help hint).
      if (err instanceof ApiError) throw new CliError(`Error response from daemon: ${err.message}`, 1);
      throw err;
    }
    ctx.stdout.write(`${id}\n`);
    return 0;
  },
};
