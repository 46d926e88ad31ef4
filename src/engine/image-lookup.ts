/**
 * A local image by the reference a container create names, as dockerd's GetImage resolves it
 * (src/images/resolve-local.ts): `name[:tag]`, `name@digest`, `sha256:<id>`, an id prefix.
 * 404 "No such image: …" (the text that makes the CLI pull) when none matches.
 */
import { notFound } from '../common/errors.js';
import type { ResolvedImage } from '../images/resolve.js';
import { localImages } from '../images/resolve-local.js';
import type { ImageService } from '../images/service.js';
import type { Image } from '../images/types.js';

export interface LocalImage {
  /** A row naming the image (the snapshotter prepares the rootfs from it). */
  image: Image;
  resolved: ResolvedImage;
}

export async function lookupImage(svc: ImageService, ref: string): Promise<LocalImage> {
  const { row, resolved } = await localImages({ images: svc.images, content: svc.content }).named(ref);
  if (!row) throw notFound(`No such image: ${ref}`, ref);
  return { image: row, resolved };
}
