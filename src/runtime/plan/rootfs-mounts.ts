/**
 * The container's root filesystem as mounts (a snapshotter's `Mount[]`: an overlay of image
 * layers, or a bind of one directory) → `rootfs-mount` records, which berth-nsinit stacks on the
 * rootfs directory inside the container's new mount namespace. Pure.
 *
 * Why there and not on the host: a mount made by the runtime on the host outlives a runtime that
 * dies, and every mount namespace created while it exists (other containers') gets a copy of it,
 * which keeps the layers busy after the host unmounts it. Made in the container's own namespace,
 * it lives exactly as long as the container's processes.
 */
import path from 'node:path';
import { invalid } from '../../common/errors.js';
import { compactLowerdir, PAGE_SIZE } from '../../snapshots/compact.js';
import type { Mount } from '../../snapshots/types.js';
import { MS, PROPAGATION, parseMountOptions } from './mount-options.js';
import type { PlanRootfsMount } from './plan.js';

/** Overlay options that name directories: relative ones would resolve against nsinit's cwd. */
const OVERLAY_DIRS = ['lowerdir=', 'upperdir=', 'workdir='];

export function planRootfsMounts(mounts: readonly Mount[]): PlanRootfsMount[] {
  return mounts.map((m, i) => {
    const what = `rootfsMounts[${i}]`;
    if (!m.type) throw invalid(`${what}: type: required`, what);
    for (const o of m.options) {
      if (o in PROPAGATION)
        throw invalid(`${what}: option '${o}': the rootfs's propagation is linux.rootfsPropagation, not a mount option`, what);
      if (o === 'remount') throw invalid(`${what}: option 'remount': a rootfs mount makes a new mount`, what);
      const dir = OVERLAY_DIRS.find((p) => o.startsWith(p));
      if (m.type === 'overlay' && dir) {
        for (const d of o.slice(dir.length).split(':'))
          if (!path.isAbsolute(d)) throw invalid(`${what}: ${dir.slice(0, -1)} '${d}' is not an absolute path`, what);
      }
    }
    let options = m.options;
    let cwd = '';
    if (m.type === 'overlay') {
      const compact = compactLowerdir(options);
      if (compact) ({ options, cwd } = compact);
    }
    const opts = parseMountOptions(options);
    const bind = m.type === 'bind' || (opts.flags & MS.BIND) !== 0;
    if (bind) {
      if (!path.isAbsolute(m.source)) throw invalid(`${what}: a bind mount needs an absolute source, got '${m.source}'`, what);
      // a bare `bind` type means the whole tree, as mount(8) reads it
      const flags = m.type === 'bind' && (opts.flags & MS.BIND) === 0 ? opts.flags | MS.BIND | MS.REC : opts.flags;
      return { source: m.source, fstype: '', flags, data: opts.data, cwd: '' };
    }
    if (opts.data.length >= PAGE_SIZE)
      throw invalid(`${what}: ${m.type} options of ${opts.data.length} bytes do not fit in the ${PAGE_SIZE} bytes mount(2) takes`, what);
    return { source: m.source, fstype: m.type, flags: opts.flags, data: opts.data, cwd };
  });
}
