import path from 'node:path';
import type { Command } from 'commander';
import { run } from '../../runtime/container/run.js';
import { buildKey } from '../../runtime/container/run-template.js';
import { nsinitPath } from '../../runtime/launcher/nsinit.js';
import { type Context, type CreateFlags, createFlags, processSignals, warn } from '../context.js';

/**
 * A foreground run from the installed runtime (the C front's Node, dist/berth-runtime.cjs) leaves
 * the bundle's template for the front (docs/runtime-front.md), unless the environment points the
 * runtime at other helpers or another cgroup driver, which the front does not read.
 */
function runTemplateKey(env: NodeJS.ProcessEnv = process.env): { key: string } | undefined {
  const script = process.argv[1];
  if (!script?.endsWith('berth-runtime.cjs')) return undefined;
  if (env.BERTH_NSINIT || env.BERTH_CGROUP_BPF || env.BERTH_CGROUP_DRIVER || env.LISTEN_FDS) return undefined;
  let nsinit: string;
  try {
    nsinit = nsinitPath();
  } catch {
    return undefined;
  }
  // the loader, the bundle it runs, and the helper: a rebuild of any makes the templates stale
  const key = buildKey([script, path.join(path.dirname(script), 'berth-runtime.main.cjs'), nsinit]);
  return key ? { key } : undefined;
}

export function register(program: Command, ctx: Context): void {
  createFlags(program.command('run').description('create and run a container').argument('<container-id>'))
    .option('-d, --detach', 'detach from the container process')
    .action(async (id: string, flags: CreateFlags & { detach?: boolean }) => {
      const detach = flags.detach ?? false;
      const result = await run({
        root: ctx.root(),
        id,
        ...ctx.createOptions(flags),
        detach,
        forwardSignals: processSignals,
        runTemplate: detach ? undefined : runTemplateKey(),
      });
      warn(result.warnings);
      process.exitCode = result.exitCode;
    });
}
