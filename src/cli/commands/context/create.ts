/**
 * `berth context create NAME`: a context in the docker CLI's store (meta.json, TLS files), as
 * `docker context create` writes it, so either CLI uses it.
 */
import { copyFileSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type ContextMeta, contextDirName, contextTls } from '../../contexts.js';
import { splitCsv } from '../../flags.js';
import { CliError, type CommandSpec } from '../../types.js';
import { current, exists, lookup } from './common.js';

const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.+-]+$/;
const KEYS = ['from', 'host', 'ca', 'cert', 'key', 'skip-tls-verify'];

/** `--docker host=…,ca=…`: docker's endpoint options (a CSV of key=value). */
export function parseDockerOption(s: string): Record<string, string> {
  const r = splitCsv(s);
  if ('error' in r) throw new CliError(`unable to create docker endpoint config: ${r.error}`);
  const out: Record<string, string> = {};
  for (const field of r.values) {
    const eq = field.indexOf('=');
    const k = eq < 0 ? field : field.slice(0, eq);
    if (!KEYS.includes(k)) throw new CliError(`unable to create docker endpoint config: unrecognized config key: ${k}`);
    out[k] = eq < 0 ? '' : field.slice(eq + 1);
  }
  return out;
}

export const createCommand: CommandSpec = {
  name: 'create',
  usage: 'create [OPTIONS] CONTEXT',
  short: 'Create a context',
  flags: [
    { name: 'description', kind: 'string', usage: 'Description of the context' },
    { name: 'docker', kind: 'list', valueName: 'stringToString', usage: 'set the docker endpoint (default [])' },
    { name: 'from', kind: 'string', usage: 'create context from a named context' },
  ],
  args: { min: 1, max: 1 },
  async run(ctx, inv) {
    const name = inv.args[0] as string;
    if (name === 'default') throw new CliError('"default" is a reserved context name');
    if (!NAME.test(name))
      throw new CliError(`context name ${JSON.stringify(name)} is invalid, names are validated against regexp "${NAME.source}"`);
    if (exists(ctx, name)) throw new CliError(`context ${JSON.stringify(name)} already exists`);
    const docker: Record<string, string> = {};
    for (const d of inv.flags.list('docker')) Object.assign(docker, parseDockerOption(d));
    const description = inv.flags.string('description');
    let meta: ContextMeta;
    let tlsFrom: { ca?: string; cert?: string; key?: string } = {};
    // without --docker, the endpoint of the context in use is copied
    const from = inv.flags.string('from') || docker.from || (inv.flags.list('docker').length === 0 ? current(ctx) : '');
    if (from) {
      // a copy of another context's endpoint (and its description, unless one is given)
      const src = lookup(ctx, from);
      meta = { Name: name, Metadata: { ...src.Metadata }, Endpoints: { docker: { ...src.Endpoints.docker } } };
      if (from === 'default') meta.Metadata = { Description: 'Current DOCKER_HOST based configuration' };
      if (description) meta.Metadata = { ...meta.Metadata, Description: description };
      if (from !== 'default') tlsFrom = contextTls(ctx.configDir, from, false) ?? {};
      if (docker.host) (meta.Endpoints.docker as { Host?: string }).Host = docker.host;
    } else {
      meta = {
        Name: name,
        Metadata: description ? { Description: description } : {},
        Endpoints: { docker: { Host: docker.host ?? '', SkipTLSVerify: docker['skip-tls-verify'] === 'true' } },
      };
    }
    for (const k of ['ca', 'cert', 'key'] as const) if (docker[k]) tlsFrom[k] = docker[k];
    const id = contextDirName(name);
    const tlsDir = join(ctx.configDir, 'contexts', 'tls', id, 'docker');
    for (const k of ['ca', 'cert', 'key'] as const) {
      const src = tlsFrom[k];
      if (!src) continue;
      mkdirSync(tlsDir, { recursive: true, mode: 0o700 });
      copyFileSync(src, join(tlsDir, `${k}.pem`));
    }
    const dir = join(ctx.configDir, 'contexts', 'meta', id);
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    const tmp = join(dir, `.meta.json.${process.pid}`);
    writeFileSync(tmp, JSON.stringify(meta), { mode: 0o644 });
    renameSync(tmp, join(dir, 'meta.json'));
    ctx.stdout.write(`${name}\n`);
    ctx.stderr.write(`Successfully created context ${JSON.stringify(name)}\n`);
    return 0;
  },
};
