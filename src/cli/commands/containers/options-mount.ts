/**
 * `--mount type=…,src=…,dst=…` (docker/cli opts.MountOpt.Set, v28): one CSV record of key=value
 * fields to a moby mount.Mount, with the CLI's messages. Pure; `abs` resolves `./x` sources.
 */
import { ramInBytes, readCsvRecord, setKey } from './options-values.js';

export interface MountBody {
  Type: string;
  Source?: string;
  Target?: string;
  ReadOnly?: boolean;
  Consistency?: string;
  BindOptions?: {
    Propagation?: string;
    NonRecursive?: boolean;
    ReadOnlyNonRecursive?: boolean;
    ReadOnlyForceRecursive?: boolean;
  };
  VolumeOptions?: {
    NoCopy?: boolean;
    Labels?: Record<string, string>;
    Subpath?: string;
    DriverConfig?: { Name?: string; Options?: Record<string, string> };
  };
  ImageOptions?: { Subpath?: string };
  TmpfsOptions?: { SizeBytes?: number; Mode?: number };
}

/** strconv.ParseBool. */
export function parseGoBool(v: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(v)) return false;
  return undefined;
}

export function parseMount(value: string, abs: (p: string) => string): MountBody {
  const fields = readCsvRecord(value);
  const m: MountBody = { Type: 'volume' };
  let volumeOptions: NonNullable<MountBody['VolumeOptions']> | undefined;
  let driver: { Name?: string; Options?: Record<string, string> } | undefined;
  const vol = () => {
    if (!volumeOptions) volumeOptions = {};
    if (!driver) {
      driver = {};
      volumeOptions.DriverConfig = driver;
    }
    return { opts: volumeOptions, driver };
  };
  const bind = () => {
    m.BindOptions ??= {};
    return m.BindOptions;
  };
  const tmpfs = () => {
    m.TmpfsOptions ??= {};
    return m.TmpfsOptions;
  };
  const setOnMap = (target: Record<string, string>, kv: string) => {
    const eq = kv.indexOf('=');
    const k = eq < 0 ? kv : kv.slice(0, eq);
    if (k !== '') setKey(target, k, eq < 0 ? '' : kv.slice(eq + 1));
  };
  for (const field of fields) {
    const eq = field.indexOf('=');
    const key = (eq < 0 ? field : field.slice(0, eq)).toLowerCase();
    const val = eq < 0 ? '' : field.slice(eq + 1);
    if (eq < 0) {
      if (key === 'readonly' || key === 'ro') m.ReadOnly = true;
      else if (key === 'volume-nocopy') vol().opts.NoCopy = true;
      else if (key === 'bind-nonrecursive') bind().NonRecursive = true;
      else throw new Error(`invalid field '${field}' must be a key=value pair`);
      continue;
    }
    const boolOf = (msgKey: string): boolean => {
      const b = parseGoBool(val);
      if (b === undefined) throw new Error(`invalid value for ${msgKey}: ${val}`);
      return b;
    };
    switch (key) {
      case 'type':
        m.Type = val.toLowerCase();
        break;
      case 'source':
      case 'src':
        m.Source = val.startsWith('./') || val === '.' ? abs(val) : val;
        break;
      case 'target':
      case 'dst':
      case 'destination':
        m.Target = val;
        break;
      case 'readonly':
      case 'ro':
        m.ReadOnly = boolOf(key);
        break;
      case 'consistency':
        m.Consistency = val.toLowerCase();
        break;
      case 'bind-propagation':
        bind().Propagation = val.toLowerCase();
        break;
      case 'bind-nonrecursive':
        bind().NonRecursive = boolOf(key);
        break;
      case 'bind-recursive':
        if (val === 'enabled') break;
        if (val === 'disabled') bind().NonRecursive = true;
        else if (val === 'writable') bind().ReadOnlyNonRecursive = true;
        else if (val === 'readonly') bind().ReadOnlyForceRecursive = true;
        else {
          throw new Error(`invalid value for ${key}: ${val} (must be "enabled", "disabled", "writable", or "readonly")`);
        }
        break;
      case 'volume-subpath':
        vol().opts.Subpath = val;
        break;
      case 'volume-nocopy': {
        const b = parseGoBool(val);
        if (b === undefined) throw new Error(`invalid value for volume-nocopy: ${val}`);
        vol().opts.NoCopy = b;
        break;
      }
      case 'volume-label': {
        const o = vol().opts;
        o.Labels ??= {};
        setOnMap(o.Labels, val);
        break;
      }
      case 'volume-driver':
        vol().driver.Name = val;
        break;
      case 'volume-opt': {
        const d = vol().driver;
        d.Options ??= {};
        setOnMap(d.Options, val);
        break;
      }
      case 'image-subpath':
        m.ImageOptions ??= {};
        m.ImageOptions.Subpath = val;
        break;
      case 'tmpfs-size': {
        let size: number;
        try {
          size = ramInBytes(val);
        } catch {
          throw new Error(`invalid value for ${key}: ${val}`);
        }
        tmpfs().SizeBytes = size;
        break;
      }
      case 'tmpfs-mode': {
        if (!/^[0-7]+$/.test(val) || Number.parseInt(val, 8) > 0xffffffff) {
          throw new Error(`invalid value for ${key}: ${val}`);
        }
        tmpfs().Mode = Number.parseInt(val, 8);
        break;
      }
      default:
        throw new Error(`unexpected key '${key}' in '${field}'`);
    }
  }
  if (volumeOptions) m.VolumeOptions = volumeOptions;
  if (m.Type === '') throw new Error('type is required');
  if (!m.Target) throw new Error('target is required');
  if (m.VolumeOptions && m.Type !== 'volume') {
    throw new Error(`cannot mix 'volume-*' options with mount type '${m.Type}'`);
  }
  if (m.ImageOptions && m.Type !== 'image') {
    throw new Error(`cannot mix 'image-*' options with mount type '${m.Type}'`);
  }
  if (m.BindOptions && m.Type !== 'bind') {
    throw new Error(`cannot mix 'bind-*' options with mount type '${m.Type}'`);
  }
  if (m.TmpfsOptions && m.Type !== 'tmpfs') {
    throw new Error(`cannot mix 'tmpfs-*' options with mount type '${m.Type}'`);
  }
  if (m.BindOptions?.ReadOnlyNonRecursive && !m.ReadOnly) {
    throw new Error("option 'bind-recursive=writable' requires 'readonly' to be specified in conjunction");
  }
  if (m.BindOptions?.ReadOnlyForceRecursive) {
    if (!m.ReadOnly) {
      throw new Error("option 'bind-recursive=readonly' requires 'readonly' to be specified in conjunction");
    }
    if (m.BindOptions.Propagation !== 'rprivate') {
      throw new Error("option 'bind-recursive=readonly' requires 'bind-propagation=rprivate' to be specified in conjunction");
    }
  }
  return ordered(m);
}

/** Go's field order, so the JSON reads like the docker CLI's. */
function ordered(m: MountBody): MountBody {
  const out: MountBody = { Type: m.Type };
  if (m.Source) out.Source = m.Source;
  if (m.Target) out.Target = m.Target;
  if (m.ReadOnly) out.ReadOnly = true;
  if (m.Consistency) out.Consistency = m.Consistency;
  if (m.BindOptions) {
    const b = m.BindOptions;
    out.BindOptions = {};
    if (b.Propagation) out.BindOptions.Propagation = b.Propagation;
    if (b.NonRecursive) out.BindOptions.NonRecursive = true;
    if (b.ReadOnlyNonRecursive) out.BindOptions.ReadOnlyNonRecursive = true;
    if (b.ReadOnlyForceRecursive) out.BindOptions.ReadOnlyForceRecursive = true;
  }
  if (m.VolumeOptions) {
    const v = m.VolumeOptions;
    out.VolumeOptions = {};
    if (v.NoCopy) out.VolumeOptions.NoCopy = true;
    if (v.Labels && Object.keys(v.Labels).length > 0) out.VolumeOptions.Labels = v.Labels;
    if (v.Subpath) out.VolumeOptions.Subpath = v.Subpath;
    if (v.DriverConfig) {
      const d: { Name?: string; Options?: Record<string, string> } = {};
      if (v.DriverConfig.Name) d.Name = v.DriverConfig.Name;
      if (v.DriverConfig.Options && Object.keys(v.DriverConfig.Options).length > 0) {
        d.Options = v.DriverConfig.Options;
      }
      out.VolumeOptions.DriverConfig = d;
    }
  }
  if (m.ImageOptions) out.ImageOptions = m.ImageOptions.Subpath ? m.ImageOptions : {};
  if (m.TmpfsOptions) {
    out.TmpfsOptions = {};
    if (m.TmpfsOptions.SizeBytes) out.TmpfsOptions.SizeBytes = m.TmpfsOptions.SizeBytes;
    if (m.TmpfsOptions.Mode) out.TmpfsOptions.Mode = m.TmpfsOptions.Mode;
  }
  return out;
}
