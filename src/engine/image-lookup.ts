/**
 * A local image by the reference a container create names: `name[:tag]`, `name@digest`,
 * `sha256:<id>`, or an id prefix, as dockerd's GetImage resolves it. 404 "No such image: …"
 * (the text that makes the CLI pull) when none matches.
 */
import { BerthError, notFound } from '../common/errors.js';
import { familiar, formatReference, normalizeReference } from '../distribution/reference.js';
import { type ResolvedImage, resolveImage } from '../images/resolve.js';
import type { ImageService } from '../images/service.js';
import type { Image } from '../images/types.js';

export interface LocalImage {
  image: Image;
  resolved: ResolvedImage;
}

export async function lookupImage(svc: ImageService, ref: string): Promise<LocalImage> {
  const byName = (() => {
    try {
      const r = normalizeReference(ref);
      return svc.images.find(formatReference(r.digest ? { ...r, tag: undefined } : r));
    } catch {
      return undefined;
    }
  })();
  if (byName) return { image: byName, resolved: await resolveImage(svc.content, byName.target, byName.name) };
  const hex = ref.startsWith('sha256:') ? ref.slice(7) : ref;
  if (/^[0-9a-f]{1,64}$/.test(hex)) {
    let found: LocalImage | undefined;
    for (const image of svc.images.list()) {
      let resolved: ResolvedImage;
      try {
        resolved = await resolveImage(svc.content, image.target, image.name);
      } catch {
        continue;
      }
      if (!resolved.id.slice(7).startsWith(hex)) continue;
      if (found && found.resolved.id !== resolved.id)
        throw new BerthError('invalid-argument', `multiple IDs found with provided prefix: ${ref}`, { object: ref });
      found ??= { image, resolved };
    }
    if (found) return found;
  }
  let shown = ref;
  try {
    shown = familiar(normalizeReference(ref));
  } catch {}
  throw notFound(`No such image: ${shown}`, ref);
}
