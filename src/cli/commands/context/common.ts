/** What the context verbs share: the contexts as the docker CLI shows them, `default` included. */

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type ContextMeta, contextDirName, currentContextName, defaultHost, listContexts, readContext } from '../../contexts.js';
import type { CliContext } from '../../types.js';

/** The globals main puts on the context (the contexts verbs need -H / --context as given). */
export interface WithGlobals {
  globals?: { hosts: string[]; context?: string };
}

export function current(ctx: CliContext & WithGlobals): string {
  return currentContextName(ctx.globals ?? { hosts: [] }, ctx.env, ctx.configDir);
}

export function defaultContext(ctx: CliContext): ContextMeta {
  return {
    Name: 'default',
    Metadata: {},
    Endpoints: { docker: { Host: ctx.env.DOCKER_HOST || defaultHost(ctx.env), SkipTLSVerify: false } },
  };
}

export function allContexts(ctx: CliContext): ContextMeta[] {
  return [defaultContext(ctx), ...listContexts(ctx.configDir).filter((c) => c.Name !== 'default')];
}

export function lookup(ctx: CliContext, name: string): ContextMeta {
  return name === 'default' ? defaultContext(ctx) : readContext(ctx.configDir, name);
}

export function storage(ctx: CliContext, name: string): { MetadataPath: string; TLSPath: string } {
  if (name === 'default') return { MetadataPath: '<IN MEMORY>', TLSPath: '<IN MEMORY>' };
  const d = contextDirName(name);
  return { MetadataPath: join(ctx.configDir, 'contexts', 'meta', d), TLSPath: join(ctx.configDir, 'contexts', 'tls', d) };
}

/** Go's json.MarshalIndent(v, "", "    ") with its HTML escaping. */
export function goJson(v: unknown, indent = '    '): string {
  return JSON.stringify(v, null, indent).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026');
}

export const HOST_WARNING =
  'Warning: DOCKER_HOST environment variable overrides the active context. To use a context, either set the global --context flag, or unset DOCKER_HOST environment variable.';

/** A context of that name is stored (`default` never is). */
export function exists(ctx: CliContext, name: string): boolean {
  return name !== 'default' && existsSync(join(ctx.configDir, 'contexts', 'meta', contextDirName(name), 'meta.json'));
}
