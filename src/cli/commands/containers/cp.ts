/**
 * `berth cp`: copy between a container and the local filesystem, either way, as docker's cp
 * does it (cli/command/container/cp.go with moby's archive rules, in cp-local.ts). From a
 * container: `GET /containers/{id}/archive` and the tar extracted locally, or written to stdout
 * with `-`. Into one: `HEAD …/archive` to learn what the destination is, then `PUT …/archive`
 * with a tar of the local source (or stdin's tar with `-`). When stdout is a terminal (and
 * without `-q`) the v28 CLI's "Successfully copied 2.05kB to …" goes to stderr; the size
 * counts the archive's bytes, as docker's does.
 */

import path from 'node:path';
import type { Writable } from 'node:stream';
import { PassThrough, type Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { EngineClient } from '../../../client/types.js';
import { humanSizeWithPrecision } from '../../format/index.js';
import type { CliContext, CommandSpec } from '../../types.js';
import { CliError } from '../../types.js';
import {
  type CopyInfo,
  copyInfoDestinationPath,
  copyInfoSourcePath,
  extractArchive,
  GO_MODE_DIR,
  GO_MODE_SYMLINK,
  getRebaseName,
  goClean,
  isAbs,
  outputModeError,
  prepareArchiveCopy,
  type Rebase,
  resolveLocalPath,
  splitCpArg,
  splitPathDirEntry,
  tarResource,
  validateOutputPath,
} from './cp-local.js';
import { containerPath } from './each.js';

const STAT_HEADER = 'x-docker-container-path-stat';

/** The stat docker's archive endpoints send in a header (Go FileMode bits in `mode`). */
export interface PathStat {
  name: string;
  size: number;
  mode: number;
  mtime: string;
  linkTarget: string;
}

export function decodePathStat(header: string | string[] | undefined): PathStat | undefined {
  const v = Array.isArray(header) ? header[0] : header;
  if (!v) return undefined;
  try {
    const s = JSON.parse(Buffer.from(v, 'base64').toString('utf8')) as PathStat;
    return s && typeof s === 'object' ? s : undefined;
  } catch {
    return undefined;
  }
}

async function statPath(client: EngineClient, ctr: string, p: string): Promise<PathStat | undefined> {
  try {
    const res = await client.json('HEAD', containerPath(ctr, '/archive'), { query: { path: p } });
    return decodePathStat(res.headers[STAT_HEADER]);
  } catch {
    return undefined;
  }
}

/** A pass-through that counts the bytes (docker's copyProgressPrinter). */
function counter(): Transform & { bytes: number } {
  const t = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      t.bytes += chunk.length;
      cb(null, chunk);
    },
  }) as Transform & { bytes: number };
  t.bytes = 0;
  return t;
}

function summary(ctx: CliContext, quiet: boolean, bytes: number, dest: string): void {
  if (!quiet) ctx.stderr.write(`Successfully copied ${humanSizeWithPrecision(bytes, 3)} to ${dest}\n`);
}

async function copyFromContainer(ctx: CliContext, ctr: string, srcPath: string, dstArg: string, o: CpOptions): Promise<void> {
  let dstPath = dstArg;
  if (dstPath !== '-') {
    dstPath = resolveLocalPath(dstPath, ctx.cwd);
    await validateOutputPath(dstPath).catch((err: Error) => {
      throw new CliError(err.message);
    });
  }
  const client = await ctx.client();
  let rebaseName = '';
  if (o.followLink) {
    const st = await statPath(client, ctr, srcPath);
    if (st && ((st.mode >>> 0) & GO_MODE_SYMLINK) !== 0) {
      let target = st.linkTarget;
      if (!isAbs(target)) target = goClean(path.posix.join(splitPathDirEntry(srcPath)[0], target));
      [srcPath, rebaseName] = getRebaseName(srcPath, target);
    }
  }
  const res = await client.stream('GET', containerPath(ctr, '/archive'), { query: { path: srcPath } });
  if (dstPath === '-') {
    await pipeline(res, ctx.stdout as Writable, { end: false });
    return;
  }
  const st = decodePathStat(res.headers[STAT_HEADER]);
  const src: CopyInfo = { path: srcPath, exists: true, isDir: (((st?.mode ?? 0) >>> 0) & GO_MODE_DIR) !== 0, rebaseName };
  const rebases: Rebase[] = [];
  if (rebaseName) rebases.push({ from: splitPathDirEntry(srcPath)[1], to: rebaseName });
  const count = counter();
  try {
    const dst = await copyInfoDestinationPath(dstPath);
    const prep = prepareArchiveCopy(src, dst);
    if (prep.rebase) rebases.push(prep.rebase);
    await extractArchive(res.pipe(count), prep.dstDir, rebases);
  } catch (err) {
    res.destroy();
    throw new CliError((err as Error).message);
  }
  summary(ctx, o.quiet, count.bytes, dstPath);
}

async function copyToContainer(ctx: CliContext, srcArg: string, ctr: string, dstPath: string, o: CpOptions): Promise<void> {
  const srcPath = srcArg === '-' ? '-' : resolveLocalPath(srcArg, ctx.cwd);
  const client = await ctx.client();
  const dst: CopyInfo = { path: dstPath, exists: false, isDir: false, rebaseName: '' };
  let st = await statPath(client, ctr, dstPath);
  if (st && ((st.mode >>> 0) & GO_MODE_SYMLINK) !== 0) {
    let target = st.linkTarget;
    if (!isAbs(target)) target = goClean(path.posix.join(splitPathDirEntry(dstPath)[0], target));
    dst.path = target;
    st = await statPath(client, ctr, target);
  }
  if (st) {
    const why = outputModeError(st.mode);
    if (why) throw new CliError(`destination "${ctr}:${dstPath}" must be a directory or a regular file: ${why}`);
    dst.exists = true;
    dst.isDir = ((st.mode >>> 0) & GO_MODE_DIR) !== 0;
  }
  let content: Readable;
  let resolvedDst: string;
  const count = counter();
  if (srcPath === '-') {
    if (!dst.isDir) throw new CliError(`destination "${ctr}:${dstPath}" must be a directory`);
    content = ctx.stdin.pipe(new PassThrough());
    resolvedDst = dst.path;
  } else {
    let src: CopyInfo;
    let prep: ReturnType<typeof prepareArchiveCopy>;
    try {
      src = await copyInfoSourcePath(srcPath, o.followLink);
      prep = prepareArchiveCopy(src, dst);
    } catch (err) {
      throw new CliError((err as Error).message);
    }
    content = tarResource(src, prep.rebase ? [prep.rebase] : []).pipe(count);
    resolvedDst = prep.dstDir;
  }
  await client.upload('PUT', containerPath(ctr, '/archive'), content, {
    query: { path: resolvedDst, noOverwriteDirNonDir: 'true', copyUIDGID: o.copyUIDGID ? 'true' : undefined },
  });
  summary(ctx, o.quiet, count.bytes, `${ctr}:${dst.path}`);
}

interface CpOptions {
  followLink: boolean;
  copyUIDGID: boolean;
  quiet: boolean;
}

export const cpCommand: CommandSpec = {
  name: 'cp',
  usage: 'cp [OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n\tberth cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH',
  short: 'Copy files/folders between a container and the local filesystem',
  flags: [
    { name: 'archive', short: 'a', kind: 'bool', usage: 'Archive mode (copy all uid/gid information)' },
    { name: 'follow-link', short: 'L', kind: 'bool', usage: 'Always follow symbol link in SRC_PATH' },
    {
      name: 'quiet',
      short: 'q',
      kind: 'bool',
      usage: 'Suppress progress output during copy. Progress output is automatically suppressed if no terminal is attached',
    },
  ],
  args: { min: 2, max: 2 },
  topLevel: 'cp',
  async run(ctx, inv) {
    const [source, destination] = inv.args as [string, string];
    if (source === '') throw new CliError('source can not be empty');
    if (destination === '') throw new CliError('destination can not be empty');
    const o: CpOptions = {
      followLink: inv.flags.bool('follow-link'),
      copyUIDGID: inv.flags.bool('archive'),
      quiet: inv.flags.changed('quiet') ? inv.flags.bool('quiet') : ctx.stdout.isTTY !== true,
    };
    const src = splitCpArg(source);
    const dst = splitCpArg(destination);
    if (src.container && dst.container) throw new CliError('copying between containers is not supported');
    if (src.container) await copyFromContainer(ctx, src.container, src.path, dst.path, o);
    else if (dst.container) await copyToContainer(ctx, src.path, dst.container, dst.path, o);
    else throw new CliError('must specify at least one container source');
    return 0;
  },
};
