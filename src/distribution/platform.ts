/**
 * Platform selection from an index or manifest list (engine-api.md §B5), after containerd's
 * platforms matcher as dockerd uses it. Pure: the host's architecture is passed in.
 *
 *   - Node's `process.arch` → OCI: x64→amd64, arm64→arm64 (v8), arm→arm (v7 by default),
 *     ia32→386, ppc64→ppc64le, s390x→s390x;
 *   - arm falls back to older variants (v7 runs v6 and v5 images); arm64's empty variant is v8;
 *   - attestation entries (`unknown/unknown`, `vnd.docker.reference.type: attestation-manifest`)
 *     are never chosen;
 *   - no match fails with dockerd's text: `no matching manifest for linux/arm64/v8 in the
 *     manifest list entries`.
 */
import { BerthError } from '../common/errors.js';
import type { Descriptor, Index, Platform } from '../oci/image.js';

const NODE_ARCH: Record<string, { architecture: string; variant?: string }> = {
  x64: { architecture: 'amd64' },
  arm64: { architecture: 'arm64', variant: 'v8' },
  arm: { architecture: 'arm', variant: 'v7' },
  ia32: { architecture: '386' },
  ppc64: { architecture: 'ppc64le' },
  s390x: { architecture: 's390x' },
  riscv64: { architecture: 'riscv64' },
  loong64: { architecture: 'loong64' },
  mips64el: { architecture: 'mips64le' },
};

/** The OCI platform of a Node host (`process.arch`); `armVersion` is `process.config.variables.arm_version` when known. */
export function hostPlatform(nodeArch: string, armVersion?: string): Platform {
  const a = NODE_ARCH[nodeArch];
  if (!a) throw new BerthError('not-implemented', `platform: unknown architecture '${nodeArch}'`, { object: nodeArch });
  const p: Platform = { os: 'linux', architecture: a.architecture };
  if (a.architecture === 'arm') p.variant = armVersion && /^[5-8]$/.test(armVersion) ? `v${armVersion}` : 'v7';
  else if (a.variant) p.variant = a.variant;
  return p;
}

/** containerd's normalizeArch: common aliases to OCI names, and the default variants. */
export function normalizePlatform(p: Platform): Platform {
  let arch = p.architecture.toLowerCase();
  let variant = p.variant?.toLowerCase() ?? '';
  switch (arch) {
    case 'i386':
      arch = '386';
      variant = '';
      break;
    case 'x86_64':
    case 'x86-64':
    case 'amd64':
      arch = 'amd64';
      if (variant === 'v1') variant = '';
      break;
    case 'aarch64':
    case 'arm64':
      arch = 'arm64';
      if (variant === '8' || variant === 'v8' || variant === 'v8.0') variant = '';
      break;
    case 'armhf':
      arch = 'arm';
      variant = 'v7';
      break;
    case 'armel':
      arch = 'arm';
      variant = 'v6';
      break;
    case 'arm':
      if (variant === '' || variant === '7') variant = 'v7';
      else if (/^[5-8]$/.test(variant)) variant = `v${variant}`;
      break;
  }
  const out: Platform = { os: p.os.toLowerCase(), architecture: arch };
  if (variant) out.variant = variant;
  return out;
}

/**
 * Parses `os/arch[/variant]` as `docker pull --platform` takes it (lower case). A single part is
 * an architecture on linux, or an OS on the host architecture.
 */
export function parsePlatform(spec: string, host: Platform = { os: 'linux', architecture: 'amd64' }): Platform {
  const parts = spec.split('/');
  const ok = parts.length <= 3 && parts.every((s) => /^[a-z0-9_.-]+$/.test(s));
  if (!ok) {
    throw new BerthError('invalid-argument', `parse platform '${spec}': want os/arch[/variant] in lower case`, { object: spec });
  }
  const OSES = new Set([
    'linux',
    'windows',
    'darwin',
    'freebsd',
    'netbsd',
    'openbsd',
    'solaris',
    'illumos',
    'aix',
    'plan9',
    'js',
    'wasip1',
  ]);
  if (parts.length === 1) {
    const only = parts[0]!;
    if (OSES.has(only)) return normalizePlatform({ ...host, os: only });
    return normalizePlatform({ os: 'linux', architecture: only });
  }
  const p: Platform = { os: parts[0]!, architecture: parts[1]! };
  if (parts[2]) p.variant = parts[2];
  return normalizePlatform(p);
}

/** `linux/arm64/v8`: the form dockerd prints (arm64 shows its default v8). */
export function formatPlatform(p: Platform): string {
  const n = normalizePlatform(p);
  const variant = n.variant ?? (n.architecture === 'arm64' ? 'v8' : undefined);
  return `${n.os}/${n.architecture}${variant ? `/${variant}` : ''}`;
}

/** How well a candidate fits `want`: 0 best, higher worse, undefined when it cannot run. */
function rank(want: Platform, have: Platform): number | undefined {
  const w = normalizePlatform(want);
  const h = normalizePlatform(have);
  if (w.os !== h.os || w.architecture !== h.architecture) return undefined;
  if (w.architecture === 'arm') {
    // v7 runs v7, then v6, then v5 images
    const wv = Number((w.variant ?? 'v7').slice(1));
    const hv = Number((h.variant ?? 'v7').slice(1));
    return hv <= wv && hv >= 5 ? wv - hv : undefined;
  }
  return (w.variant ?? '') === (h.variant ?? '') ? 0 : undefined;
}

export function isAttestation(d: Descriptor): boolean {
  return (
    d.annotations?.['vnd.docker.reference.type'] === 'attestation-manifest' ||
    (d.platform?.os === 'unknown' && d.platform?.architecture === 'unknown')
  );
}

/** The index entry to pull for `want`: the best rank, the first in index order among equals. */
export function selectManifest(index: Pick<Index, 'manifests'>, want: Platform): Descriptor {
  let best: Descriptor | undefined;
  let bestRank = Number.POSITIVE_INFINITY;
  for (const d of index.manifests ?? []) {
    if (isAttestation(d) || !d.platform || typeof d.platform.os !== 'string' || typeof d.platform.architecture !== 'string') continue;
    const r = rank(want, d.platform);
    if (r !== undefined && r < bestRank) {
      best = d;
      bestRank = r;
    }
  }
  if (!best)
    throw new BerthError('not-found', `no matching manifest for ${formatPlatform(want)} in the manifest list entries`, {
      object: formatPlatform(want),
    });
  return best;
}
