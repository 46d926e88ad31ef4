/**
 * Image sizes, one definition for `images`, `image inspect`, `history`, `ps -s` (SizeRootFs),
 * `inspect -s` and `system df`: a layer counts its unpacked snapshot's usage (what it takes on
 * disk, as containerd reports it), or its blob's size while it is not unpacked.
 */
import { isKind } from '../common/errors.js';
import type { Snapshotter } from '../snapshots/types.js';

export async function layerSize(snapshotter: Snapshotter, chainId: string, blobSize: number): Promise<number> {
  try {
    return (await snapshotter.usage(chainId)).size;
  } catch (err) {
    if (isKind(err, 'not-found')) return blobSize;
    throw err;
  }
}

export async function imageSize(snapshotter: Snapshotter, layers: readonly { chainId: string; desc: { size: number } }[]): Promise<number> {
  let total = 0;
  for (const l of layers) total += await layerSize(snapshotter, l.chainId, l.desc.size);
  return total;
}
