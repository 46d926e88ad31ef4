/**
 * `-v` (HostConfig.Binds) and `--mount` (HostConfig.Mounts) parsed as moby's Linux mount parser
 * does (volume/mounts/linux_parser.go), with its error texts, and host-path binds turned into the
 * OCI mounts dockerd writes. Named and anonymous volumes come back as data for the volume layer
 * to resolve (it gives their host directory, then bindMount() makes the mount). Pure: whether a
 * `--mount` bind source exists is asked through a function.
 */
import { BerthError } from '../../common/errors.js';
import type { Mount } from '../../oci/spec.js';
import type { MountSpec } from './create-config.js';
import { cleanPath } from './merge.js';
import { tmpfsMounts } from './oci-spec.js';

export interface MountPoint {
  type: 'bind' | 'volume' | 'tmpfs';
  /** Host path (bind), volume name ('' for an anonymous volume), or '' (tmpfs). */
  source: string;
  destination: string;
  readOnly: boolean;
  /** Bind propagation ('' for volumes: none is set). */
  propagation: string;
  /** "bind" instead of "rbind" (--mount bind-nonrecursive). */
  nonRecursive: boolean;
  /** The -v mode string as given ("ro,z"), or ''. */
  mode: string;
  /** Volume: do not copy the image's content into a new volume. */
  noCopy: boolean;
  /** --mount type=tmpfs: tmpfs-size and tmpfs-mode as data options. */
  tmpfsData?: string;
}

const PROPAGATIONS = new Set(['shared', 'rshared', 'slave', 'rslave', 'private', 'rprivate']);
const bad = (field: string, message: string) => new BerthError('invalid-argument', message, { object: field });
const invalidSpec = (raw: string) => bad('Binds', `invalid volume specification: '${raw}'`);

/** moby's ValidMountMode: at most one of each of rw|ro, z|Z, a propagation, nocopy. */
function validMode(mode: string): boolean {
  if (mode === '') return true;
  const seen = { rw: 0, label: 0, propagation: 0, copy: 0 };
  for (const o of mode.split(',')) {
    if (o === 'rw' || o === 'ro') seen.rw++;
    else if (o === 'z' || o === 'Z') seen.label++;
    else if (PROPAGATIONS.has(o)) seen.propagation++;
    else if (o === 'nocopy') seen.copy++;
    else return false;
  }
  return seen.rw <= 1 && seen.label <= 1 && seen.propagation <= 1 && seen.copy <= 1;
}

function checkTarget(type: string, target: string): string {
  if (!target.startsWith('/'))
    throw bad('Mounts', `invalid mount config for type "${type}": invalid mount path: '${target}' mount path must be absolute`);
  const clean = cleanPath(target);
  if (clean === '/') throw bad('Mounts', "invalid specification: destination can't be '/'");
  return clean;
}

/** One `-v` string: "/dst", "name:/dst[:mode]", "/src:/dst[:mode]". */
export function parseBind(raw: string): MountPoint {
  const arr = raw.split(':');
  // Go's SplitN(raw, ":", 4): a fourth field means too many.
  if (arr[0] === '' || arr.length > 3) throw invalidSpec(raw);
  let source = '';
  let target: string;
  let mode = '';
  if (arr.length === 1) target = arr[0]!;
  else if (arr.length === 2) {
    // "/foo:rw" is a destination with a mode, which a volume cannot have.
    if (validMode(arr[1]!)) throw invalidSpec(raw);
    [source, target] = [arr[0]!, arr[1]!];
  } else [source, target, mode] = [arr[0]!, arr[1]!, arr[2]!];
  if (!validMode(mode)) throw bad('Binds', `invalid mode: ${mode}`);
  const opts = mode === '' ? [] : mode.split(',');
  const type = source.startsWith('/') ? 'bind' : 'volume';
  let destination: string;
  try {
    destination = checkTarget(type, target);
  } catch (e) {
    throw bad('Binds', `${invalidSpec(raw).message}: ${(e as Error).message}`);
  }
  // The local driver's name rules (its texts; dockerd reports them when it creates the volume).
  if (type === 'volume' && source.length === 1)
    throw bad('Binds', 'volume name is too short, names should be at least two alphanumeric characters');
  if (type === 'volume' && source !== '' && !/^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/.test(source))
    throw bad(
      'Binds',
      // dockerd reports it from the volume create, hence its `create <name>:` prefix
      `create ${source}: "${source}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`,
    );
  return {
    type,
    source: type === 'bind' ? cleanPath(source) : source,
    destination,
    readOnly: opts.includes('ro'),
    propagation: type === 'bind' ? (opts.find((o) => PROPAGATIONS.has(o)) ?? 'rprivate') : '',
    nonRecursive: false,
    mode,
    noCopy: opts.includes('nocopy'),
  };
}

/** One `--mount` (HostConfig.Mounts entry); `exists` answers whether a bind source exists. */
export function parseMount(m: MountSpec, exists: (hostPath: string) => boolean): MountPoint {
  const type = m.Type ?? '';
  if (type !== 'bind' && type !== 'volume' && type !== 'tmpfs') throw bad('Mounts', `mount type unknown: '${type}'`);
  if (!m.Target) throw bad('Mounts', `invalid mount config for type "${type}": field Target must not be empty`);
  const destination = checkTarget(type, m.Target);
  const bind = (m.BindOptions ?? {}) as { Propagation?: string; NonRecursive?: boolean };
  const tmpfs = (m.TmpfsOptions ?? {}) as { SizeBytes?: number; Mode?: number };
  const base = { destination, readOnly: m.ReadOnly === true, mode: '', noCopy: false, nonRecursive: false, propagation: '' };
  if (type === 'bind') {
    if (!m.Source) throw bad('Mounts', 'invalid mount config for type "bind": field Source must not be empty');
    if (!m.Source.startsWith('/'))
      throw bad('Mounts', `invalid mount config for type "bind": invalid mount path: '${m.Source}' mount path must be absolute`);
    if (m.VolumeOptions) throw bad('Mounts', 'invalid mount config for type "bind": field VolumeOptions must not be specified');
    const source = cleanPath(m.Source);
    if (!exists(source)) throw bad('Mounts', `invalid mount config for type "bind": bind source path does not exist: ${source}`);
    const p = bind.Propagation ?? '';
    if (p !== '' && !PROPAGATIONS.has(p)) throw bad('Mounts', `invalid mount config for type "bind": invalid propagation mode: ${p}`);
    return { ...base, type, source, propagation: p || 'rprivate', nonRecursive: bind.NonRecursive === true };
  }
  if (type === 'tmpfs') {
    if (m.Source) throw bad('Mounts', 'invalid mount config for type "tmpfs": field Source must not be specified');
    // moby ConvertTmpfsOptions: ro, mode in octal, size with the largest suffix that divides it.
    const data: string[] = [];
    if (m.ReadOnly) data.push('ro');
    if (tmpfs.Mode) data.push(`mode=${tmpfs.Mode.toString(8)}`);
    if (tmpfs.SizeBytes) {
      const unit = (
        [
          ['g', 2 ** 30],
          ['m', 2 ** 20],
          ['k', 2 ** 10],
        ] as const
      ).find(([, d]) => tmpfs.SizeBytes! % d === 0);
      data.push(unit ? `size=${tmpfs.SizeBytes / unit[1]}${unit[0]}` : `size=${tmpfs.SizeBytes}`);
    }
    return { ...base, type, source: '', tmpfsData: data.join(',') };
  }
  if (m.BindOptions) throw bad('Mounts', 'invalid mount config for type "volume": field BindOptions must not be specified');
  const vol = (m.VolumeOptions ?? {}) as { NoCopy?: boolean };
  return { ...base, type, source: m.Source ?? '', noCopy: vol.NoCopy === true };
}

/** Every mount point of a container; two at one destination are refused as dockerd does. */
export function mountPoints(binds: readonly string[], mounts: readonly MountSpec[], exists: (hostPath: string) => boolean): MountPoint[] {
  const out: MountPoint[] = [];
  const seen = new Set<string>();
  for (const mp of [...binds.map(parseBind), ...mounts.map((m) => parseMount(m, exists))]) {
    if (seen.has(mp.destination)) throw bad('Mounts', `Duplicate mount point: ${mp.destination}`);
    seen.add(mp.destination);
    out.push(mp);
  }
  return out;
}

/**
 * The OCI mount for a bind or a volume whose host directory is `hostPath` (for a bind, its own
 * source): "rbind" (or "bind"), "ro" when read-only, then the propagation when there is one.
 */
export function bindMount(mp: MountPoint, hostPath: string = mp.source): Mount {
  const options = [mp.nonRecursive ? 'bind' : 'rbind'];
  if (mp.readOnly) options.push('ro');
  if (mp.propagation) options.push(mp.propagation);
  return { destination: mp.destination, type: 'bind', source: hostPath, options };
}

/**
 * The OCI mounts of mount points, for buildSpec's extraMounts: binds from their source, volumes
 * from the host directory `volumePath` gives (the volume layer), tmpfs as --tmpfs.
 */
export function specMounts(points: readonly MountPoint[], volumePath: (mp: MountPoint) => string): Mount[] {
  return points.map((mp) => {
    if (mp.type === 'tmpfs') return tmpfsMounts({ [mp.destination]: mp.tmpfsData ?? '' })[0]!;
    return bindMount(mp, mp.type === 'bind' ? mp.source : volumePath(mp));
  });
}
