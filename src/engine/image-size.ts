/**
 * Image sizes, one definition for `images`, `image inspect`, `history`, `ps -s` (SizeRootFs),
 * `inspect -s` and `system df`, as dockerd counts them: a layer is the bytes of its unpacked
 * regular files (moby's layer size, summed from the tar's file entries as it unpacks), or its
 * blob's size while it is not unpacked (src/engine/containers/size.ts ownBytes).
 */
import { isKind } from '../common/errors.js';
import type { Snapshotter } from '../snapshots/types.js';
import { ownBytes } from './containers/size.js';

/**
 * Counted once per layer and snapshotter: a chain ID names the same files for as long as any
 * snapshot has it (content-addressed), so the count never goes stale.
 */
const counted = new WeakMap<Snapshotter, Map<string, number>>();

export async function layerSize(snapshotter: Snapshotter, chainId: string, blobSize: number): Promise<number> {
  let sizes = counted.get(snapshotter);
  const known = sizes?.get(chainId);
  if (known !== undefined) return known;
  let size: number;
  try {
    size = await ownBytes(snapshotter, chainId, { regularOnly: true });
  } catch (err) {
    if (isKind(err, 'not-found')) return blobSize;
    throw err;
  }
  if (!sizes) {
    sizes = new Map();
    counted.set(snapshotter, sizes);
  }
  sizes.set(chainId, size);
  return size;
}

export async function imageSize(snapshotter: Snapshotter, layers: readonly { chainId: string; desc: { size: number } }[]): Promise<number> {
  let total = 0;
  for (const l of layers) total += await layerSize(snapshotter, l.chainId, l.desc.size);
  return total;
}
