/**
 * Fitting an overlay's option string into the one page mount(2) copies. Pure: shared by the
 * host mounts of mount.ts and the container's rootfs mounts, which berth-nsinit makes inside the
 * container's mount namespace (src/runtime/plan/rootfs-mounts.ts).
 *
 * With 128 layers of absolute paths, `lowerdir=` exceeds 4096 bytes. As containerd does, the
 * lowerdirs are then made relative to their common parent directory, and the mount is made with
 * that directory as the caller's working directory (the kernel resolves relative lowerdirs
 * against the cwd of the process calling mount(2)).
 */
import path from 'node:path';

/** mount(2) copies at most one page of options (the terminating NUL included). */
export const PAGE_SIZE = 4096;

/**
 * When the options would not fit in a page, rewrites `lowerdir=` relative to the lowerdirs'
 * common parent and returns that directory as the cwd for the mount; undefined when not needed.
 */
export function compactLowerdir(options: string[]): { options: string[]; cwd: string } | undefined {
  if (options.join(',').length < PAGE_SIZE) return undefined;
  const i = options.findIndex((o) => o.startsWith('lowerdir='));
  if (i < 0) return undefined;
  const dirs = options[i]!.slice('lowerdir='.length).split(':');
  if (dirs.length < 2 || !dirs.every((d) => path.isAbsolute(d))) return undefined;
  // the common parent of the layer directories (<root>/<id>/fs → <root>)
  let common = path.dirname(dirs[0]!);
  for (const d of dirs) {
    while (common !== '/' && !d.startsWith(`${common}/`)) common = path.dirname(common);
  }
  if (common === '/') return undefined;
  const rel = dirs.map((d) => path.relative(common, d));
  const out = [...options];
  out[i] = `lowerdir=${rel.join(':')}`;
  return { options: out, cwd: common };
}
