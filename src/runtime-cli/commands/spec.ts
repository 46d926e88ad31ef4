import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { fromErrno } from '../../common/errors.js';
import { defaultSpec, formatSpec, rootlessSpec } from '../../oci/default-spec.js';
import { type Context, usageError } from '../context.js';

export function register(program: Command, _ctx: Context): void {
  program
    .command('spec')
    .description('create a new specification file (config.json)')
    .option('-b, --bundle <path>', 'path to the root of the bundle directory')
    .option('--rootless', 'generate a configuration for a rootless container')
    .action((flags: { bundle?: string; rootless?: boolean }) => {
      const dir = flags.bundle ?? '.';
      const file = path.join(dir, 'config.json');
      if (existsSync(file)) throw usageError('File config.json exists. Remove it first');
      const uid = process.geteuid?.() ?? 0;
      const gid = process.getegid?.() ?? 0;
      const spec = flags.rootless ? rootlessSpec(uid, gid) : defaultSpec();
      try {
        writeFileSync(file, formatSpec(spec), { mode: 0o666 });
      } catch (err) {
        throw fromErrno('write', file, err);
      }
    });
}
